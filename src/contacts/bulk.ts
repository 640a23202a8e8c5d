import type { Knex } from 'knex';
import { z } from 'zod';
import type { Db } from '../db/knex';
import { toCount } from '../db/knex';
import { applyFilter, type GroupScope } from './queries';
import { statuses, statusesAllowing, transition, type Status } from './status';
import type { ListFilter } from './schema';
import type { AssignmentInput } from '../assignment/schema';
import { contactTarget, describeAssignment, saveAssignment, validateAssignment } from '../assignment/queries';
import { notifyResponsible } from '../notifications/queries';

export const bulkActions = ['new_group', 'temporary_group', 'add_to_group', 'remove_from_group', 'assign', 'archive', 'delete'] as const;
export type BulkAction = (typeof bulkActions)[number];

/** At most this many ids travel in a form; beyond that the browser sends the filter (`all=1`). */
export const MAX_IDS = 1000;

const oneOrMany = (v: unknown) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]);

/** Which contacts a bulk action is about: ids ticked by hand, or everything the filter matches. */
export const BulkSelection = z.object({
  all: z.literal('1').optional().catch(undefined),
  ids: z.preprocess(oneOrMany, z.array(z.string().regex(/^\d{1,18}$/)).max(MAX_IDS, 'bulk.tooManyIds')),
});

export const BulkActionName = z.object({ action: z.enum(bulkActions, 'bulk.unknownAction') });

export type Target =
  | { kind: 'ids'; ids: string[] }
  | { kind: 'filter'; filter: ListFilter; group?: GroupScope; viewerId: string };

/** The target as a subquery of contact ids: "all matching" never becomes a list in the browser. */
export function targetIds(db: Db | Knex.Transaction, target: Target): Knex.QueryBuilder {
  const query = (db as Db)('contacts as c').select('c.id');
  if (target.kind === 'ids') return query.whereRaw('c.id = any(?::bigint[])', [target.ids]);
  return applyFilter(db as Db, query, target.filter, target.viewerId, target.group);
}

export type Breakdown = Record<Status, number> & { total: number };

/** How many of the selected contacts are in each status: the confirmation names what will be skipped. */
export async function breakdown(db: Db | Knex.Transaction, target: Target): Promise<Breakdown> {
  const rows = (await db('contacts as c')
    .select('c.status')
    .count({ n: '*' })
    .whereIn('c.id', targetIds(db, target))
    .groupBy('c.status')) as { status: Status; n: string }[];
  const result = { inbox: 0, prospect: 0, customer: 0, archived: 0, total: 0 } as Breakdown;
  for (const row of rows) {
    result[row.status] = toCount(row.n);
    result.total += toCount(row.n);
  }
  return result;
}

/** The statuses an action applies to; the rest are skipped and reported. */
export function applicableStatuses(action: BulkAction): Status[] {
  switch (action) {
    case 'archive':
      return statuses.filter((s) => transition(s, 'archived').ok);
    case 'assign':
      return statusesAllowing('assign');
    case 'delete':
      return statusesAllowing('delete');
    default:
      return statusesAllowing('group');
  }
}

/**
 * What happens to the history events a bulk action wrote: by default the
 * responsible employees are notified in the same transaction; a background job
 * keeps them and notifies once at its end, about the whole action.
 */
export type Notify = (trx: Knex.Transaction, eventIds: string[]) => Promise<void>;

export interface BulkResult {
  affected: number;
  skipped: { status: Status; count: number }[];
}

function skippedOf(before: Breakdown, action: BulkAction): BulkResult['skipped'] {
  const applicable = applicableStatuses(action);
  return statuses.filter((s) => !applicable.includes(s) && before[s] > 0).map((status) => ({ status, count: before[status] }));
}

/**
 * Archives the selected prospects, customers and inbox contacts: one statement
 * locks and updates them, remembering the active status for a later restore,
 * and writes their history events. Already archived ones are skipped.
 */
export async function bulkArchive(trx: Knex.Transaction, target: Target, actorId: string, before: Breakdown, notify: Notify = notifyResponsible): Promise<BulkResult> {
  const { rows } = await trx.raw(
    `with target as (
       select c.id, c.status from contacts c
       where c.id in (?) and c.status = any(?::text[])
       for update),
     changed as (
       update contacts c
          set status = 'archived',
              previous_status = case when t.status in ('prospect', 'customer') then t.status else c.previous_status end,
              updated_by = ?, updated_at = now()
         from target t where c.id = t.id
       returning c.id, t.status as old)
     insert into contact_events (contact_id, actor_id, kind, payload)
     select id, ?, 'status', jsonb_build_object('from', old, 'to', 'archived', 'bulk', true) from changed
     returning id`,
    [targetIds(trx, target), applicableStatuses('archive'), actorId, actorId],
  );
  await notify(trx, rows.map((r: { id: string }) => String(r.id)));
  return { affected: rows.length, skipped: skippedOf(before, 'archive') };
}

/** Re-assigns the selected prospects and customers; the history keeps each contact's previous assignment. */
export async function bulkAssign(
  trx: Knex.Transaction,
  target: Target,
  assignment: AssignmentInput,
  actorId: string,
  before: Breakdown,
  notify: Notify = notifyResponsible,
): Promise<BulkResult> {
  await validateAssignment(trx, assignment);
  const locked = await trx('contacts as c')
    .select('c.id')
    .whereIn('c.id', targetIds(trx, target))
    .whereRaw('c.status = any(?::text[])', [applicableStatuses('assign')])
    .forUpdate();
  const ids = locked.map((r) => String(r.id));
  if (!ids.length) return { affected: 0, skipped: skippedOf(before, 'assign') };
  const names = await trx('users').select('name').whereRaw('id = any(?::bigint[])', [assignment.userIds]).orderBy('name');
  const competence = assignment.competenceId ? await trx('competences').select('name').where('id', assignment.competenceId).first() : undefined;
  const to = describeAssignment({
    kind: assignment.kind,
    users: names.map((n) => ({ id: '', name: n.name, active: true })),
    competence: competence ? { id: assignment.competenceId!, name: competence.name } : undefined,
  });
  // The "from" side is read before the change, per contact, in the same statement that writes the events.
  const { rows } = await trx.raw(
    `insert into contact_events (contact_id, actor_id, kind, payload)
     select c.id, ?, 'assigned', jsonb_build_object('bulk', true, 'to', ?::jsonb, 'from',
       case c.assignment
         when 'all' then jsonb_build_object('kind', 'all', 'names', '[]'::jsonb)
         when 'competence' then jsonb_build_object('kind', 'competence', 'names', jsonb_build_array(k.name))
         else jsonb_build_object('kind', 'users', 'names',
           (select coalesce(jsonb_agg(u.name order by u.name), '[]'::jsonb) from contact_assignees a join users u on u.id = a.user_id where a.contact_id = c.id))
       end)
       from contacts c left join competences k on k.id = c.competence_id
      where c.id = any(?::bigint[])
     returning id`,
    [actorId, JSON.stringify(to), ids],
  );
  await saveAssignment(trx, contactTarget, ids, assignment);
  await trx('contacts').whereRaw('id = any(?::bigint[])', [ids]).update({ updated_by: actorId, updated_at: trx.fn.now() });
  await notify(trx, rows.map((r: { id: string }) => String(r.id)));
  return { affected: ids.length, skipped: skippedOf(before, 'assign') };
}

/**
 * Deletes permanently: contacts, their history, memberships and pictures go
 * (by cascade); the audit log keeps who deleted how many, with names and numbers.
 */
export async function bulkDelete(trx: Knex.Transaction, target: Target, actorId: string, appendToAudit?: string): Promise<BulkResult & { auditId: string }> {
  const gone = `with gone as (
       delete from contacts c where c.id in (?)
       returning c.id, c.first_name, c.last_name, c.company, c.customer_number, c.status),
     listed as (
       select count(*)::int as n, coalesce(jsonb_agg(jsonb_build_object(
              'id', id, 'name', coalesce(nullif(concat_ws(' ', first_name, last_name), ''), company),
              'company', company, 'number', customer_number, 'status', status) order by id), '[]'::jsonb) as contacts
         from gone)`;
  // A background job deletes in chunks and keeps adding to the one audit entry of the whole action.
  const { rows } = appendToAudit
    ? await trx.raw(
        `${gone}
         update audit_log a set count = a.count + listed.n, payload = jsonb_set(a.payload, '{contacts}', (a.payload -> 'contacts') || listed.contacts)
           from listed where a.id = ?
         returning a.id, listed.n as count`,
        [targetIds(trx, target), appendToAudit],
      )
    : await trx.raw(
        `${gone}
         insert into audit_log (actor_id, action, count, payload)
         select ?, 'contacts_deleted', n, jsonb_build_object('contacts', contacts) from listed
         returning id, count`,
        [targetIds(trx, target), actorId],
      );
  return { affected: rows[0].count, skipped: [], auditId: String(rows[0].id) };
}
