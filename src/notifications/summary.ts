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

/** Which of the catalog's wordings tells what an action did (notifications.summary.*, notifications.groupName.*). */
type ActionWording = 'archived' | 'status' | 'assigned' | 'group_added' | 'group_removed' | 'other';

function actionWording(n: Told): ActionWording {
  if (n.kind === 'status') return n.payload.to === 'archived' ? 'archived' : isStatus(n.payload.to) ? 'status' : 'other';
  return n.kind === 'assigned' || n.kind === 'group_added' || n.kind === 'group_removed' ? n.kind : 'other';
}

/** The status a status change went to, as the list names it ("Kunde"); '' for other actions. */
function statusLabel(t: Translate, n: Told): string {
  return n.kind === 'status' && isStatus(n.payload.to) ? t(`status.labels.${n.payload.to}`) : '';
}

/** What the actor did to the employee's contacts, for a summary: "hat 10.000 Kontakte archiviert". */
export function summaryText(t: Translate, n: Told): string {
  const { count, payload } = n;
  const wording = actionWording(n);
  if (wording === 'assigned') {
    // To whom: news to those who get the contacts, and the answer for those they were taken from.
    const to = (payload.to ?? {}) as { kind?: unknown; names?: unknown };
    const names = Array.isArray(to.names) ? to.names.filter((name): name is string => typeof name === 'string') : [];
    const target = to.kind === 'all' ? t('assignment.kinds.all') : names.join(', ');
    return target ? t('notifications.summary.assignedTo', { count, to: target }) : t('notifications.summary.assigned', { count });
  }
  return t(`notifications.summary.${wording}`, { count, to: statusLabel(t, n), group: String(payload.group) });
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
  const wording = actionWording(n);
  const to = statusLabel(t, n);
  // The names of the group and the actor as long as they fit, the time always.
  for (const width of [60, 40, 30, 20]) {
    const name = named(width);
    if (name.length <= GROUP_NAME_MAX) return name;
  }
  return cut(named(12), GROUP_NAME_MAX);

  function named(width: number): string {
    const actor = cut(n.actor_name ?? t('contacts.history.system'), width);
    return t(`notifications.groupName.${wording}`, { actor, date, to, group: cut(String(n.payload.group ?? ''), width) });
  }
}

/**
 * The list a summary of a status change or assignment stands for (below the
 * base path), for a summary written before summaries kept their action's range
 * (others open as the group of their contacts: openSummary), or one whose
 * contacts are gone: the employee's own contacts in that state, which hold the
 * ones the action changed; assigned to a competence, that competence's
 * contacts; to employees by name, the reader's own, or, told as the one they
 * were taken from (`readerId` not among them), those of the first of the new
 * ones. Undefined for other kinds: no list holds them.
 */
export function summaryListPath(n: Told, readerId?: string): string | undefined {
  if (n.kind === 'status' && isStatus(n.payload.to)) return `/contacts${listQueryString({ status: [n.payload.to], assigned: 'me' })}`;
  if (n.kind !== 'assigned') return undefined;
  const to = (n.payload.to ?? {}) as { kind?: string; id?: unknown; ids?: unknown };
  if (to.kind === 'competence' && isRecordId(to.id)) return `/contacts${listQueryString({ competence: to.id })}`;
  if (to.kind === 'users') {
    const ids = Array.isArray(to.ids) ? to.ids.filter(isRecordId) : [];
    const toOthers = readerId !== undefined && ids.length > 0 && !ids.includes(readerId);
    return `/contacts${listQueryString({ assigned: toOthers ? ids[0] : 'me', assigned_direct: '1' })}`;
  }
  return `/contacts${listQueryString({ assigned: 'me' })}`;
}

/** Where opening a notification leads (below the base path) when it is not opened as a group: summaryListPath for a summary with a list, else its contact. */
export function notificationPath(n: Told, readerId?: string): string {
  return (isSummary(n) && summaryListPath(n, readerId)) || `/contacts/${n.contact_id}`;
}
