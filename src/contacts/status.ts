import type { MessageKey } from '../i18n';

/**
 * The status rules of SPEC §4 in one place: the views disable what is not
 * allowed (with the reason as tooltip) and the services refuse it with a 409
 * carrying the same reason.
 */
export const statuses = ['inbox', 'prospect', 'customer', 'archived'] as const;
export type Status = (typeof statuses)[number];
export const activeStatuses = ['prospect', 'customer'] as const;
export type ActiveStatus = (typeof activeStatuses)[number];

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (statuses as readonly string[]).includes(value);
}

export function isActiveStatus(value: unknown): value is ActiveStatus {
  return value === 'prospect' || value === 'customer';
}

/** How a transition is offered: accepting from the inbox, a plain change, or restoring from the archive. */
export type TransitionKind = 'accept' | 'change' | 'archive' | 'restore';

const transitions: Record<Status, Partial<Record<Status, TransitionKind>>> = {
  inbox: { prospect: 'accept', customer: 'accept', archived: 'archive' },
  prospect: { customer: 'change', archived: 'archive' },
  customer: { prospect: 'change', archived: 'archive' },
  archived: { prospect: 'restore', customer: 'restore' },
};

export type Verdict = { ok: true } | { ok: false; reason: MessageKey };

export function transition(from: Status, to: Status): { ok: true; kind: TransitionKind } | { ok: false; reason: MessageKey } {
  if (from === to) return { ok: false, reason: 'status.reasons.same' };
  const kind = transitions[from][to];
  if (kind) return { ok: true, kind };
  if (from === 'archived') return { ok: false, reason: 'status.reasons.archivedOnlyRestore' };
  return { ok: false, reason: 'status.reasons.noBackToInbox' };
}

export const actions = ['view', 'edit', 'assign', 'number', 'note', 'group', 'delete'] as const;
export type Action = (typeof actions)[number];

const capabilities: Record<Action, Record<Status, Verdict>> = {
  view: allow('inbox', 'prospect', 'customer', 'archived'),
  edit: allow('inbox', 'prospect', 'customer'),
  assign: allow('prospect', 'customer'),
  number: allow('prospect', 'customer'),
  note: allow('prospect', 'customer'),
  group: allow('prospect', 'customer'),
  delete: allow('inbox', 'prospect', 'customer', 'archived'),
};

function allow(...allowed: Status[]): Record<Status, Verdict> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      allowed.includes(status) ? { ok: true } : { ok: false, reason: status === 'inbox' ? 'status.reasons.inbox' : 'status.reasons.archived' },
    ]),
  ) as Record<Status, Verdict>;
}

export function can(action: Action, status: Status): Verdict {
  return capabilities[action][status];
}

/** The statuses an action may be applied to, for set-based queries (`where status in (...)`). */
export function statusesAllowing(action: Action): Status[] {
  return statuses.filter((status) => capabilities[action][status].ok);
}
