import type { Knex } from 'knex';
import { z } from 'zod';
import type { Db } from '../db/knex';
import { toCount } from '../db/knex';
import { applyFilter, type GroupScope } from './queries';
import { statuses, statusesAllowing, transition, type Status } from './status';
import type { ListFilter } from './schema';
import type { AssignmentInput } from '../assignment/schema';
import { contactTarget, describeAssignment, saveAssignment, validateAssignment } from '../assignment/queries';
import { notificationColumns, notificationRows, notifyResponsible, SUMMARY_ABOVE } from '../notifications/queries';
import { RecordId } from '../web/validation';

export const bulkActions = ['new_group', 'temporary_group', 'add_to_group', 'remove_from_group', 'assign', 'archive', 'delete'] as const;
export type BulkAction = (typeof bulkActions)[number];

/** At most this many ids travel in a form; beyond that the browser sends the filter (`all=1`). */
export const MAX_IDS = 1000;

const oneOrMany = (v: unknown) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]);

/** Which contacts a bulk action is about: ids ticked by hand, or everything the filter matches. */
export const BulkSelection = z.object({
  all: z.literal('1').optional().catch(undefined),
  ids: z.preprocess(oneOrMany, z.array(RecordId).max(MAX_IDS, 'bulk.tooManyIds')),
  /** With all=1: the matches unticked since, left out. */
  except: z.preprocess(oneOrMany, z.array(RecordId).max(MAX_IDS, 'bulk.tooManyIds')),
});

export const BulkActionName = z.object({ action: z.enum(bulkActions, 'bulk.unknownAction') });

/**
 * What the confirmation carries besides the selection: the set it showed
 * (selectionFingerprint; missing or malformed, the dialog shows it again) and,
 * for a new group, the dialog's token (sent twice, one group).
 */
export const BulkConfirmation = z.object({
  confirmed: z.string().max(100).optional().catch(undefined),
  create_token: z.uuid().optional().catch(undefined),
});

export type Target =
  | { kind: 'ids'; ids: string[] }
  | { kind: 'filter'; filter: ListFilter; group?: GroupScope; viewerId: string; except?: string[] }
  /** "All matching" as confirmed, fixed in the action's transaction (confirmedTarget): a temporary table of ids. */
  | { kind: 'fixed'; table: string };

/** Narrows a query on `contacts as c` (a select or an update) to the target's contacts. */
function whereTarget(db: Db | Knex.Transaction, query: Knex.QueryBuilder, target: Target): Knex.QueryBuilder {
  if (target.kind === 'ids') return query.whereRaw('c.id = any(?::bigint[])', [target.ids]);
  if (target.kind === 'fixed') return query.whereRaw('c.id in (select id from ??)', [target.table]);
  applyFilter(db as Db, query, target.filter, target.viewerId, target.group);
  return target.except?.length ? query.whereRaw('c.id <> all(?::bigint[])', [target.except]) : query;
}

/** The target as a subquery of contact ids: "all matching" never becomes a list in the browser. */
export function targetIds(db: Db | Knex.Transaction, target: Target): Knex.QueryBuilder {
  return whereTarget(db, (db as Db)('contacts as c'), target).select('c.id');
}

export type Breakdown = Record<Status, number> & { total: number };

/** How many of the selected contacts are in each status: the confirmation names what will be skipped. */
export async function breakdown(db: Db | Knex.Transaction, target: Target): Promise<Breakdown> {
  const rows = (await whereTarget(db, (db as Db)('contacts as c'), target).select('c.status').count({ n: '*' }).groupBy('c.status')) as { status: Status; n: string }[];
  const result = { inbox: 0, prospect: 0, customer: 0, archived: 0, total: 0 } as Breakdown;
  for (const row of rows) {
    result[row.status] = toCount(row.n);
    result.total += toCount(row.n);
  }
  return result;
}

/**
 * What an "all matching" selection holds right now, in a few characters: its
 * count and a hash of its ids. The confirmation carries it, and the action
 * runs only on the same set: the filter is run again when it is confirmed, and
 * a contact a colleague added meanwhile (or one that changed and now matches)
 * was deleted, archived or reassigned without ever being shown.
 */
export async function selectionFingerprint(db: Db | Knex.Transaction, target: Target): Promise<string | undefined> {
  return (await selectionSummary(db, target)).fingerprint;
}

/**
 * What the confirmation shows and carries, from one pass over the contacts:
 * how many are in each status (as breakdown), and for "all matching" the
 * fingerprint. Read apart, the two were two scans of the same contacts
 * (55 instead of 97 ms for 80,000).
 */
export async function selectionSummary(db: Db | Knex.Transaction, target: Target): Promise<{ counts: Breakdown; fingerprint?: string }> {
  const row = await whereTarget(db, (db as Db)('contacts as c'), target)
    .select(fingerprintColumns(db, 'c.id'), ...statuses.map((s) => db.raw('count(*) filter (where c.status = ?) as ??', [s, s])))
    .first();
  const counts = { total: toCount(row.n) } as Breakdown;
  for (const s of statuses) counts[s] = toCount(row[s]);
  return { counts, fingerprint: target.kind === 'filter' ? fingerprintOf(row) : undefined };
}

/** A fingerprint's two columns over a column of contact ids: how many, and the md5 of all of them in order. */
function fingerprintColumns(db: Db | Knex.Transaction, column: string): Knex.Raw {
  return db.raw(`count(*) as n, md5(coalesce(string_agg(??::text, ',' order by ??), '')) as hash`, [column, column]);
}

function fingerprintOf(row: { n: string | number; hash: string }): string {
  return `${toCount(row.n)}:${row.hash}`;
}

/** How many contacts the confirmation showed, read from its fingerprint (undefined without one). */
export function confirmedCount(confirmed: string | undefined): number | undefined {
  const count = /^(\d{1,9}):/.exec(confirmed ?? '')?.[1];
  return count === undefined ? undefined : Number(count);
}

/** "Alle Treffer" matched another set when the action ran than the one confirmed: nothing was done. */
export class SelectionChanged extends Error {
  constructor() {
    super('the selection changed since it was confirmed');
  }
}

/** Where confirmedTarget keeps the ids it fixed: dropped with the transaction. */
const FIXED_SELECTION = 'pg_temp.confirmed_selection';

/**
 * The contacts an action runs on, fixed in the action's own transaction:
 * ticked ids as they are; "all matching" as the ids the filter matches now, in
 * a temporary table, and only if they are the set confirmed
 * (selectionFingerprint), else SelectionChanged. Checked apart from the
 * action, a contact a colleague added between the check and the action's
 * statements was acted on unseen. Kept in PostgreSQL: 80,000 ids sent to the
 * app and back as an array made each statement of the action twice as slow
 * as running the filter again (about 250 instead of 110 ms); the table is as fast.
 */
export async function confirmedTarget(trx: Knex.Transaction, target: Target, confirmed: string | undefined): Promise<Target> {
  if (target.kind !== 'filter') return target;
  await trx.raw('drop table if exists ??', [FIXED_SELECTION]);
  await trx.raw('create temporary table ?? on commit drop as ?', [FIXED_SELECTION, targetIds(trx, target)]);
  const row = await trx(FIXED_SELECTION).select(fingerprintColumns(trx, 'id')).first();
  if (fingerprintOf(row) !== confirmed) throw new SelectionChanged();
  // Without statistics the planner takes a temporary table for a few thousand rows, whatever it holds.
  await trx.raw('analyze ??', [FIXED_SELECTION]);
  return { kind: 'fixed', table: FIXED_SELECTION };
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
 * Whether a bulk action notifies the responsible employees itself, in its
 * transaction (the default), or leaves it to the caller with the event ids it
 * returns: a background job notifies once at its end, about the whole action.
 */
export interface NotifyOption {
  notify?: boolean;
}

export interface BulkResult {
  affected: number;
  skipped: { status: Status; count: number }[];
  /** Allowed, but left as they were: they had what was asked already (bulk "Zuweisen"). */
  unchanged?: number;
}

/** The history events a bulk action wrote, one per changed contact. */
export type WithEvents = BulkResult & { eventIds: string[] };

function skippedOf(before: Breakdown, action: BulkAction): BulkResult['skipped'] {
  const applicable = applicableStatuses(action);
  return statuses.filter((s) => !applicable.includes(s) && before[s] > 0).map((status) => ({ status, count: before[status] }));
}

/**
 * Archives the selected prospects, customers and inbox contacts in one
 * statement: the update remembers the active status for a later restore, the
 * history events are written from what it changed, and the notifications from
 * those events. Already archived contacts are skipped, also one archived by
 * someone else meanwhile (the status condition is checked again on the latest
 * version of a row).
 */
export async function bulkArchive(trx: Knex.Transaction, target: Target, actorId: string, { notify = true }: NotifyOption = {}): Promise<WithEvents> {
  // What is skipped is reported; every caller counted it just before, on the same target.
  const before = await breakdown(trx, target);
  // The triggers on contacts see every changed row twice (old and new); 10,000
  // of them do not fit the default 4 MB and would be written to disk and read
  // back. The rows the statement's parts pass on have no statistics, so the
  // planner overestimates the notification part a hundredfold and would compile
  // the statement (JIT, ~40 ms) to save less than that.
  await trx.raw(`select set_config('work_mem', '32MB', true), set_config('jit', 'off', true)`);
  const applicable = applicableStatuses('archive');
  // An inbox contact was never active: it has no status to return to, so the
  // status it had is read back from the one remembered (none means inbox).
  const changed = whereTarget(trx, trx('contacts as c'), target)
    .whereRaw('c.status = any(?::text[])', [applicable])
    .update({
      status: 'archived',
      previous_status: trx.raw(`case when c.status in ('prospect', 'customer') then c.status end`),
      updated_by: actorId,
      updated_at: trx.fn.now(),
    })
    .returning(['c.id', 'c.assignment', 'c.competence_id', trx.raw(`coalesce(c.previous_status, 'inbox') as old`)]);
  const told = notificationRows(
    trx,
    trx.from('events as e').join('changed as c', 'c.id', 'e.contact_id'),
    applicable.reduce((n, s) => n + before[s], 0) > SUMMARY_ABOVE,
  );
  const { rows } = await trx.raw(
    `with changed as (?),
     events as (
       insert into contact_events (contact_id, actor_id, kind, payload)
       select id, ?, 'status', jsonb_build_object('from', old, 'to', 'archived', 'bulk', true) from changed
       returning id, contact_id, actor_id)
     ${notify ? `, told as (insert into ${notificationColumns} ?)` : ''}
     select id from events`,
    [changed, actorId, ...(notify ? [told] : [])],
  );
  return { affected: rows.length, skipped: skippedOf(before, 'archive'), eventIds: rows.map((r: { id: string }) => String(r.id)) };
}

/** Re-assigns the selected prospects and customers; the history keeps each contact's previous assignment. */
export async function bulkAssign(
  trx: Knex.Transaction,
  target: Target,
  assignment: AssignmentInput,
  actorId: string,
  { notify = true }: NotifyOption = {},
): Promise<WithEvents> {
  await validateAssignment(trx, assignment);
  const before = await breakdown(trx, target);
  // Locked, each with whether its assignment differs: only those assigned otherwise get an event, a
  // notification and a new editor (assigning "Alle" to contacts that have it changes nothing, as for one).
  const userIds = [...assignment.userIds].sort((a, b) => Number(a) - Number(b));
  const locked: { id: string; changes: boolean }[] = await trx('contacts as c')
    .select(
      'c.id',
      trx.raw(
        `not (c.assignment = ? and c.competence_id is not distinct from ?::bigint
              and array(select a.user_id from contact_assignees a where a.contact_id = c.id order by a.user_id) = ?::bigint[]) as changes`,
        [assignment.kind, assignment.competenceId ?? null, userIds],
      ),
    )
    .whereIn('c.id', targetIds(trx, target))
    .whereRaw('c.status = any(?::text[])', [applicableStatuses('assign')])
    .forUpdate();
  const ids = locked.filter((r) => r.changes).map((r) => String(r.id));
  if (!ids.length) return { affected: 0, unchanged: locked.length, skipped: skippedOf(before, 'assign'), eventIds: [] };
  const names: { id: string | number; name: string }[] = await trx('users').select('id', 'name').whereRaw('id = any(?::bigint[])', [assignment.userIds]).orderBy('name');
  const competence = assignment.competenceId ? await trx('competences').select('name').where('id', assignment.competenceId).first() : undefined;
  const to = describeAssignment({
    kind: assignment.kind,
    users: names.map((n) => ({ id: String(n.id), name: n.name, active: true })),
    competence: competence ? { id: assignment.competenceId!, name: competence.name } : undefined,
  });
  // The "from" side is read before the change, per contact, in the same statement that writes the events.
  const { rows } = await trx.raw(
    `insert into contact_events (contact_id, actor_id, kind, payload)
     select c.id, ?, 'assigned', jsonb_build_object('bulk', true, 'to', ?::jsonb, 'from',
       case c.assignment
         when 'all' then jsonb_build_object('kind', 'all', 'names', '[]'::jsonb)
         when 'competence' then jsonb_build_object('kind', 'competence', 'names', jsonb_build_array(k.name), 'id', k.id::text)
         else (select jsonb_build_object('kind', 'users', 'names', coalesce(jsonb_agg(u.name order by u.name), '[]'::jsonb),
                                         'ids', coalesce(jsonb_agg(u.id::text order by u.name), '[]'::jsonb))
                 from contact_assignees a join users u on u.id = a.user_id where a.contact_id = c.id)
       end)
       from contacts c left join competences k on k.id = c.competence_id
      where c.id = any(?::bigint[])
     returning id`,
    [actorId, JSON.stringify(to), ids],
  );
  // The editor in the same statement: each row of contacts written twice cost as much again (5,000 rows: 350 ms).
  await saveAssignment(trx, contactTarget, ids, assignment, { updated_by: actorId, updated_at: trx.fn.now() });
  const eventIds = rows.map((r: { id: string }) => String(r.id));
  if (notify) await notifyResponsible(trx, eventIds, { reassigned: true });
  return { affected: ids.length, unchanged: locked.length - ids.length, skipped: skippedOf(before, 'assign'), eventIds };
}

/**
 * Deletes permanently: contacts, their history, memberships and pictures go
 * (by cascade); the audit log keeps who deleted how many, with names and numbers.
 */
export async function bulkDelete(trx: Knex.Transaction, target: Target, actorId: string, appendToAudit?: string): Promise<BulkResult & { auditId?: string }> {
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
         select ?, 'contacts_deleted', n, jsonb_build_object('contacts', contacts) from listed where n > 0
         returning id, count`,
        [targetIds(trx, target), actorId],
      );
  // Nothing deleted (gone already: a second click, another tab): nothing for the log either.
  return rows.length ? { affected: rows[0].count, skipped: [], auditId: String(rows[0].id) } : { affected: 0, skipped: [] };
}
