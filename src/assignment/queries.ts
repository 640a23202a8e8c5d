import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { readValue, type ValueQuery } from '../db/batch';
import { Conflict, Invalid } from '../web/errors';
import type { AssignmentInput, AssignmentKind } from './schema';

type Conn = Db | Knex.Transaction;

/** Where an assignable thing keeps its assignment: contacts now, groups later. */
export interface AssignmentTarget {
  table: string;
  assignees: string;
  key: string;
}
export const contactTarget: AssignmentTarget = { table: 'contacts', assignees: 'contact_assignees', key: 'contact_id' };

export interface AssignmentLabel {
  kind: AssignmentKind;
  users: { id: string; name: string; active: boolean }[];
  competence?: { id: string; name: string };
}

/**
 * Checks the chosen employees and competence still exist (and the employees are
 * active: an employee deactivated since may stay where `kept` has them, the
 * row's own assignees, but is never newly chosen). Raises Invalid with a field
 * message otherwise; inside the saving transaction, so a competence deleted
 * meanwhile is caught.
 */
export async function validateAssignment(db: Conn, input: AssignmentInput, kept: readonly string[] = []): Promise<void> {
  if (input.kind === 'users') {
    const found = await db('users').select('id', 'active').whereIn('id', input.userIds).forShare();
    const allowed = new Set(found.filter((u) => u.active || kept.includes(String(u.id))).map((u) => String(u.id)));
    if (found.length !== input.userIds.length) throw new Invalid({ assignee_ids: 'assignment.invalid.unknownUser' });
    if (input.userIds.some((id) => !allowed.has(id))) throw new Invalid({ assignee_ids: 'assignment.invalid.inactiveUser' });
  }
  if (input.kind === 'competence') {
    const found = await db('competences').select('id').where('id', input.competenceId!).forShare().first();
    if (!found) throw new Invalid({ competence_id: 'assignment.invalid.unknownCompetence' });
  }
}

/** The employees an assignment names (deactivated ones too): what validateAssignment lets a row keep. */
export function keptAssignees(label: AssignmentLabel | undefined): string[] {
  return label?.users.map((u) => u.id) ?? [];
}

/**
 * An assignment as a short text that is the same exactly when the assignment is:
 * kind, employees and competence by id (two employees may share a name). Forms
 * that change an assignment carry the one they showed (`seen_assignment`).
 */
export function assignmentKey(label: AssignmentLabel | undefined): string {
  return keyOf(label?.kind ?? 'all', label?.users.map((u) => u.id) ?? [], label?.competence?.id);
}

/** The one spelling of assignmentKey, for a saved assignment and for what a form asks for alike. */
function keyOf(kind: AssignmentKind, userIds: readonly string[], competenceId: string | undefined): string {
  if (kind === 'competence') return `competence:${competenceId ?? ''}`;
  if (kind === 'users') return `users:${[...userIds].sort().join(',')}`;
  return 'all';
}

/** Someone else changed the assignment since the form was loaded, to something other than this form asks for: `current` is what it is now. */
export class AssignmentChangedMeanwhile extends Conflict {
  constructor(readonly current: AssignmentLabel | undefined) {
    super('assignment.changedMeanwhile');
  }
}

/**
 * Refuses a save made on an assignment that has changed since its form was
 * loaded (`input.seen`), unless it asks for what is saved now anyway: two
 * people changing the same assignment no longer overwrite each other unseen.
 * The returned form carries the current assignment as seen, so saving it again
 * is a deliberate overwrite.
 */
export function assertAssignmentUnchanged(input: AssignmentInput, before: AssignmentLabel | undefined): void {
  const now = assignmentKey(before);
  if (input.seen !== undefined && input.seen !== now && keyOf(input.kind, input.userIds, input.competenceId) !== now) throw new AssignmentChangedMeanwhile(before);
}

/** Sets the assignment of many rows at once: three statements, whatever the count. */
export async function saveAssignment(
  trx: Knex.Transaction,
  target: AssignmentTarget,
  ids: string[],
  input: AssignmentInput,
  /** Further columns of the same rows, set in the same statement (who changed them, when). */
  alsoSet: Record<string, unknown> = {},
): Promise<void> {
  if (!ids.length) return;
  // `= any(array)`: one parameter however many rows (a bulk action may pass 100,000 ids).
  await trx(target.table)
    .whereRaw('id = any(?::bigint[])', [ids])
    .update({ ...alsoSet, assignment: input.kind, competence_id: input.competenceId ?? null });
  await trx(target.assignees).whereRaw('?? = any(?::bigint[])', [target.key, ids]).delete();
  if (input.userIds.length) {
    await trx.raw(
      `insert into ?? (??, user_id) select t.id, u.id from unnest(?::bigint[]) as t(id) cross join unnest(?::bigint[]) as u(id)`,
      [target.assignees, target.key, ids, input.userIds],
    );
  }
}

/**
 * A row's assignment label as three columns of the row's own query (`alias` is
 * the target table's alias there), so the list reads rows and labels in one
 * query. The subqueries run only for the rows returned and only for their kind.
 */
export function assignmentLabelColumns(db: Conn, target: AssignmentTarget, alias: string): Knex.Raw[] {
  return [
    db.raw('??.assignment as assignment_kind', [alias]),
    db.raw(
      `case when ??.assignment = 'competence' then (select json_build_object('id', k.id::text, 'name', k.name) from competences k where k.id = ??.competence_id) end as assignment_competence`,
      [alias, alias],
    ),
    db.raw(
      `case when ??.assignment = 'users' then (
         select json_agg(json_build_object('id', u.id::text, 'name', u.name, 'active', u.active) order by u.name)
         from ?? a join users u on u.id = a.user_id where a.?? = ??.id
       ) end as assignment_users`,
      [alias, target.assignees, target.key, alias],
    ),
  ];
}

export interface LabelColumns {
  assignment_kind: AssignmentKind;
  assignment_competence: { id: string; name: string } | null;
  assignment_users: AssignmentLabel['users'] | null;
}

export function labelOf(row: LabelColumns): AssignmentLabel {
  return { kind: row.assignment_kind, users: row.assignment_users ?? [], competence: row.assignment_competence ?? undefined };
}

/** Labels for a few rows by id (the master data, a group), in one query. */
export async function loadAssignments(db: Conn, target: AssignmentTarget, ids: string[]): Promise<Map<string, AssignmentLabel>> {
  const labels = new Map<string, AssignmentLabel>();
  if (!ids.length) return labels;
  const rows = (await db(`${target.table} as t`)
    .select('t.id', ...assignmentLabelColumns(db, target, 't'))
    .whereRaw('t.id = any(?::bigint[])', [ids])) as (LabelColumns & { id: string })[];
  for (const row of rows) labels.set(String(row.id), labelOf(row));
  return labels;
}

export interface AssignmentOptions {
  users: { id: string; name: string }[];
  competences: { id: string; name: string }[];
}

/** What the assignment fields offer: active employees and all competences, by name (one statement for both). */
export async function assignmentOptions(db: Conn): Promise<AssignmentOptions> {
  return readValue(db, assignmentOptionsQuery(db));
}

/** assignmentOptions as one value, `{ users, competences }`: for batchRead, with the rest of a page's frame. */
export function assignmentOptionsQuery(db: Conn): ValueQuery<AssignmentOptions> {
  const options = (table: string, where: string) =>
    `(select coalesce(json_agg(json_build_object('id', id::text, 'name', name) order by name, id), '[]') from ${table} ${where})`;
  return db.select(db.raw(`json_build_object('users', ${options('users', 'where active')}, 'competences', ${options('competences', '')})`));
}

/** Whether two assignments are the same: kind, employees and competence compared by id (two employees may share a name). */
export function sameAssignment(a: AssignmentLabel | undefined, b: AssignmentLabel | undefined): boolean {
  return assignmentKey(a) === assignmentKey(b);
}

/**
 * A stored snapshot for the history: names as they were at the time of the
 * change, and a competence's id (where a notification about many leads: that
 * competence's contacts).
 */
export function describeAssignment(label: AssignmentLabel | undefined): { kind: AssignmentKind; names: string[]; id?: string; ids?: string[] } {
  if (!label) return { kind: 'all', names: [] };
  if (label.kind === 'competence') return { kind: 'competence', names: label.competence ? [label.competence.name] : [], ...(label.competence ? { id: label.competence.id } : {}) };
  // The ids tell those it is taken from (reassignmentRows); the names are what the history shows.
  return { kind: label.kind, names: label.users.map((u) => u.name), ...(label.kind === 'users' ? { ids: label.users.map((u) => u.id) } : {}) };
}
