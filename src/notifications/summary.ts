import { shortStamp, type Translate } from '../i18n';
import { GROUP_NAME_MAX } from '../groups/schema';
import { isStatus } from '../contacts/status';
import { listQueryString } from '../contacts/urls';
import { isRecordId } from '../web/validation';

/** What a notification needs to say what happened and where it leads. */
export interface Told {
  contact_id: string;
  count: number;
  kind: string;
  payload: Record<string, unknown>;
}

export const isSummary = (n: Pick<Told, 'count'>): boolean => n.count > 1;

/** What the actor did to the employee's contacts, for a summary: "hat 10.000 Kontakte archiviert". */
export function summaryText(t: Translate, n: Told): string {
  const { count, payload } = n;
  switch (n.kind) {
    case 'status':
      if (payload.to === 'archived') return t('notifications.summary.archived', { count });
      if (isStatus(payload.to)) return t('notifications.summary.status', { count, to: t(`status.labels.${payload.to}`) });
      break;
    case 'assigned': {
      // To whom: news to those who get the contacts, and the answer for those they were taken from.
      const to = (payload.to ?? {}) as { kind?: unknown; names?: unknown };
      const names = Array.isArray(to.names) ? to.names.filter((name): name is string => typeof name === 'string') : [];
      const target = to.kind === 'all' ? t('assignment.kinds.all') : names.join(', ');
      return target ? t('notifications.summary.assignedTo', { count, to: target }) : t('notifications.summary.assigned', { count });
    }
    case 'group_added':
      return t('notifications.summary.group_added', { count, group: String(payload.group) });
    case 'group_removed':
      return t('notifications.summary.group_removed', { count, group: String(payload.group) });
  }
  return t('notifications.summary.other', { count });
}

/** At most `max` UTF-16 units (as a form's length is counted), cut with "…", never inside a character (an emoji's surrogate pair). */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '').trimEnd()}…`;
}

/**
 * The name of the temporary group a summary opens as: what was done, by whom
 * and when ("Archiviert von Anna Admin, 07.12. 14:05"), without the count,
 * which was the summary's and may differ now. Fits a group's name (the
 * group page refuses longer ones): long names of groups and people are cut.
 */
export function summaryGroupName(t: Translate, n: Told & { actor_name: string | null; created_at: Date }): string {
  const date = shortStamp(n.created_at);
  const named = (width: number): string => {
    const actor = cut(n.actor_name ?? t('contacts.history.system'), width);
    const group = cut(String(n.payload.group ?? ''), width);
    switch (n.kind) {
      case 'status':
        if (n.payload.to === 'archived') return t('notifications.groupName.archived', { actor, date });
        if (isStatus(n.payload.to)) return t('notifications.groupName.status', { actor, date, to: t(`status.labels.${n.payload.to}`) });
        break;
      case 'assigned':
      case 'group_added':
      case 'group_removed':
        return t(`notifications.groupName.${n.kind}`, { actor, date, group });
    }
    return t('notifications.groupName.other', { actor, date });
  };
  // The names of the group and the actor as long as they fit, the time always.
  const fitting = [60, 40, 30, 20].map(named).find((name) => name.length <= GROUP_NAME_MAX);
  return fitting ?? cut(named(12), GROUP_NAME_MAX);
}

/**
 * Where opening a notification leads (below the base path): its contact. A
 * summary opens as the group of exactly its contacts (openSummary); one
 * written before summaries kept their action's range leads, for a status
 * change or assignment, to the list of the employee's own
 * contacts in that state, which holds the ones the action changed: assigned to
 * a competence, that competence's contacts; to employees by name, the reader's
 * own, or, told as the one they were taken from (`readerId` not among them),
 * those of the first of the new ones.
 */
export function notificationPath(n: Told, readerId?: string): string {
  if (isSummary(n)) {
    if (n.kind === 'status' && isStatus(n.payload.to)) return `/contacts${listQueryString({ status: [n.payload.to], assigned: 'me' })}`;
    if (n.kind === 'assigned') {
      const to = (n.payload.to ?? {}) as { kind?: string; id?: unknown; ids?: unknown };
      if (to.kind === 'competence' && isRecordId(to.id)) return `/contacts${listQueryString({ competence: to.id })}`;
      if (to.kind === 'users') {
        const ids = Array.isArray(to.ids) ? to.ids.filter(isRecordId) : [];
        const toOthers = readerId !== undefined && ids.length > 0 && !ids.includes(readerId);
        return `/contacts${listQueryString({ assigned: toOthers ? ids[0] : 'me', assigned_direct: '1' })}`;
      }
      return `/contacts${listQueryString({ assigned: 'me' })}`;
    }
  }
  return `/contacts/${n.contact_id}`;
}
