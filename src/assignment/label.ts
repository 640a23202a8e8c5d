import type { Translate } from '../i18n';
import { html, type Html } from '../web/html';
import type { AssignmentLabel } from './queries';

/** Who a contact or group is assigned to, as the list column and the master data show it. */
export function assignmentLabel(label: AssignmentLabel | undefined, t: Translate): Html {
  if (!label || label.kind === 'all') return html`<span class="assign assign-all">${t('assignment.all')}</span>`;
  if (label.kind === 'competence') {
    return html`<span class="assign assign-competence" title="${t('assignment.competence')}">${label.competence ? label.competence.name : '–'}</span>`;
  }
  const names = label.users.map((u, i) => html`${i ? ', ' : ''}${u.name}${u.active ? '' : ` ${t('assignment.deactivated')}`}`);
  return html`<span class="assign assign-users">${names}</span>`;
}

/** The same as plain text, for a message ("Gespeichert ist jetzt: …"). */
export function assignmentText(label: AssignmentLabel | undefined, t: Translate): string {
  if (!label || label.kind === 'all') return t('assignment.kinds.all');
  if (label.kind === 'competence') return `${t('assignment.competence')} ${label.competence ? label.competence.name : '–'}`;
  return label.users.map((u) => `${u.name}${u.active ? '' : ` ${t('assignment.deactivated')}`}`).join(', ');
}
