import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import type { ValueQuery } from '../db/batch';
import { responsibleByAssignment, whereResponsible } from '../assignment/responsibility';
import type { Told } from './summary';

type Conn = Db | Knex.Transaction;

/**
 * An action on more than this many contacts tells each responsible employee
 * once, with how many of its contacts concern him or her ("Max Müller hat
 * 10.000 Kontakte archiviert"), instead of once per contact: one line in the
 * bell instead of thousands of popups, and a handful of rows written while the
 * actor waits instead of one per contact and employee.
 */
export const SUMMARY_ABOVE = 10;

/**
 * The notifications (user_id, contact_id, event_id, count, and the action's first and last event) for some history
 * events: `source` yields the events as `e` (id, contact_id, actor_id) with
 * their contacts as `c` (id, assignment, competence_id). Each event goes to the
 * active responsible employees except the one who caused it; with `summarise`,
 * each employee gets one row instead, counting the events and pointing at the
 * first of them (the smallest [event, contact] pair: no sorting needed).
 */
export function notificationRows(knex: Knex, source: Knex.QueryBuilder, summarise: boolean): Knex.QueryBuilder | Knex.Raw {
  if (!summarise) {
    const rows = source.join('users as u', (j) => j.on('u.active', knex.raw('true')).andOn(knex.raw('u.id is distinct from e.actor_id')));
    return whereResponsible(rows, knex, knex.ref('u.id')).select(
      'u.id as user_id',
      'e.contact_id',
      'e.id as event_id',
      knex.raw('1 as count'),
      knex.raw('null::bigint as action_first_event_id'),
      knex.raw('null::bigint as action_last_event_id'),
    );
  }
  return knex.raw(
    `with ec as (?),
     per_employee as (
       select u.id as user_id, a.n, a.first
         from (select actor_id, count(*) as n, min(array[event_id, contact_id]) as first from ec where assignment = 'all' group by actor_id) a
         join users u on u.active and u.id is distinct from a.actor_id
       union all
       select p.user_id, count(*), min(array[p.event_id, p.contact_id])
         from (?) p join users u on u.id = p.user_id and u.active and u.id is distinct from p.actor_id
        group by p.user_id)
     select user_id, (min(first))[2], (min(first))[1], sum(n), (select min(event_id) from ec), (select max(event_id) from ec)
       from per_employee group by user_id`,
    [source.select('e.id as event_id', 'e.contact_id', 'e.actor_id', 'c.assignment', 'c.competence_id'), responsibleByAssignment(knex, 'ec')],
  );
}

/** Where notification rows go; the statement writing the events may insert them itself (see bulkArchive). */
export const notificationColumns = 'notifications (user_id, contact_id, event_id, count, action_first_event_id, action_last_event_id)';

/**
 * Fans the history events of one action out to the responsible employees, in
 * the transaction that wrote them: one notification per event, or one summary
 * per employee above SUMMARY_ABOVE events. One statement for any number.
 * `reassigned`: the events are reassignments ("assigned"), told to those
 * responsible before them as well (reassignmentRows).
 */
export async function notifyResponsible(trx: Conn, eventIds: (string | number)[], { reassigned = false }: { reassigned?: boolean } = {}): Promise<void> {
  if (!eventIds.length) return;
  const knex = trx as Knex;
  const ids = eventIds.map(String);
  const summarise = eventIds.length > SUMMARY_ABOVE;
  if (reassigned) {
    await knex.raw(`insert into ${notificationColumns} ?`, [reassignmentRows(knex, ids, summarise)]);
    return;
  }
  const events = knex('contact_events as e')
    .join('contacts as c', 'c.id', 'e.contact_id')
    // One array parameter, however many events (a bulk action may write 100,000).
    .whereRaw('e.id = any(?::bigint[])', [ids]);
  await knex.raw(`insert into ${notificationColumns} ?`, [notificationRows(knex, events, summarise)]);
}

/**
 * notificationRows for reassignments: a contact taken from an employee is news
 * to him or her as much as to the one it goes to. Max learnt from nobody that
 * his customer now belongs to the Kundenservice. Responsible before the change
 * is read from the event's `from` (to all; by name, with the employees' ids;
 * or a competence, with its members as they are), after it from the contact.
 * Each event reaches each employee once, summarised alike. An event for all
 * employees, before or after, concerns everybody and is counted once per
 * actor, as notificationRows does; the rest are pairs of employee and event.
 * `eventIds`: ids, or a query selecting them (column `id`).
 */
function reassignmentRows(knex: Knex, eventIds: string[] | Knex.QueryBuilder, summarise: boolean): Knex.Raw {
  const parts = `with ev as (
       select e.id as event_id, e.contact_id, e.actor_id, c.assignment, c.competence_id,
              e.payload #>> '{from,kind}' as from_kind, e.payload #> '{from,ids}' as from_ids, (e.payload #>> '{from,id}')::bigint as from_competence
         from contact_events e join contacts c on c.id = e.contact_id
        where ${Array.isArray(eventIds) ? 'e.id = any(?::bigint[])' : 'e.id in (?)'}),
     for_all as (select event_id, contact_id, actor_id from ev where assignment = 'all' or from_kind = 'all'),
     rest as (select * from ev where assignment <> 'all' and from_kind is distinct from 'all'),
     pairs as (
       select r.user_id, ev.event_id, ev.contact_id, ev.actor_id from rest ev join contact_assignees r on r.contact_id = ev.contact_id where ev.assignment = 'users'
       union
       select r.user_id, ev.event_id, ev.contact_id, ev.actor_id from rest ev join competence_members r on r.competence_id = ev.competence_id where ev.assignment = 'competence'
       union
       select f.user_id::bigint, ev.event_id, ev.contact_id, ev.actor_id from rest ev cross join jsonb_array_elements_text(ev.from_ids) as f(user_id) where ev.from_kind = 'users'
       union
       select r.user_id, ev.event_id, ev.contact_id, ev.actor_id from rest ev join competence_members r on r.competence_id = ev.from_competence where ev.from_kind = 'competence')`;
  if (!summarise) {
    return knex.raw(
      `${parts}
       select u.id as user_id, a.contact_id, a.event_id, 1 as count, null::bigint as action_first_event_id, null::bigint as action_last_event_id
         from for_all a join users u on u.active and u.id is distinct from a.actor_id
       union all
       select p.user_id, p.contact_id, p.event_id, 1, null::bigint, null::bigint from pairs p join users u on u.id = p.user_id and u.active and u.id is distinct from p.actor_id`,
      [eventIds],
    );
  }
  return knex.raw(
    `${parts},
     per_employee as (
       select u.id as user_id, a.n, a.first
         from (select actor_id, count(*) as n, min(array[event_id, contact_id]) as first from for_all group by actor_id) a
         join users u on u.active and u.id is distinct from a.actor_id
       union all
       select p.user_id, count(*), min(array[p.event_id, p.contact_id])
         from pairs p join users u on u.id = p.user_id and u.active and u.id is distinct from p.actor_id
        group by p.user_id)
     select user_id, (min(first))[2], (min(first))[1], sum(n), (select min(event_id) from ev), (select max(event_id) from ev)
       from per_employee group by user_id`,
    [eventIds],
  );
}

/** A summary's action, as its notification knows it: the event it names, the action's first and last, their kind and who caused them. */
export interface SummaryAction {
  event_id: string;
  action_first_event_id: string;
  action_last_event_id: string;
  kind: string;
  actor_id: string | null;
}

/**
 * The history events of a summary's action: among the events from its first
 * to its last, those of its actor and kind its transaction wrote (the same
 * transaction time as the notification's event: PostgreSQL's now()), and,
 * for a background job, which writes chunk by chunk, the job's (its items).
 * Another action of the same employee meanwhile, even of the same kind, is
 * not among them, as long as an action is one statement (bulk.ts) or one job.
 */
function actionEvents(knex: Knex, action: SummaryAction): Knex.QueryBuilder {
  const job = knex('bulk_job_items').select('job_id').where('event_id', action.event_id);
  return knex('contact_events as a')
    .select('a.id')
    .whereBetween('a.id', [action.action_first_event_id, action.action_last_event_id])
    .andWhere('a.kind', action.kind)
    .andWhereRaw('a.actor_id is not distinct from ?::bigint', [action.actor_id])
    .andWhere((same) =>
      same
        .whereRaw('a.created_at = (select created_at from contact_events where id = ?)', [action.event_id])
        .orWhereIn('a.id', knex('bulk_job_items').select('event_id').whereIn('job_id', job)),
    );
}

/**
 * The contacts of a summary's action that concern `userId`: its events fanned
 * out as they were (notificationRows, reassignmentRows) and kept where they
 * reach the employee. Who is responsible is read as it is now, so this may
 * differ from the count the summary said. Each contact once.
 */
export async function summaryContacts(db: Conn, action: SummaryAction, userId: string): Promise<string[]> {
  const knex = db as Knex;
  const events = actionEvents(knex, action);
  const rows =
    action.kind === 'assigned'
      ? reassignmentRows(knex, events, false)
      : notificationRows(knex, knex('contact_events as e').join('contacts as c', 'c.id', 'e.contact_id').whereIn('e.id', events), false);
  const { rows: found } = await knex.raw('select distinct r.contact_id from (?) as r where r.user_id = ?', [rows, userId]);
  return found.map((row: { contact_id: string | number }) => String(row.contact_id));
}

export interface NotificationRow {
  id: string;
  contact_id: string;
  /** How many contacts of one action it stands for; above 1 it is a summary, and contact_id is the first of them. */
  count: number;
  created_at: Date;
  read_at: Date | null;
  kind: string;
  payload: Record<string, unknown>;
  actor_name: string | null;
  actor_active: boolean | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  picture_updated_at: Date | null;
}

function notificationQuery(db: Conn, userId: string) {
  return db('notifications as n')
    .join('contact_events as e', 'e.id', 'n.event_id')
    .join('contacts as c', 'c.id', 'n.contact_id')
    .leftJoin('users as a', 'a.id', 'e.actor_id')
    .select(
      'n.id',
      'n.contact_id',
      'n.count',
      'n.created_at',
      'n.read_at',
      'e.kind',
      'e.payload',
      'a.name as actor_name',
      'a.active as actor_active',
      'c.first_name',
      'c.last_name',
      'c.company',
      'c.picture_updated_at',
    )
    .where('n.user_id', userId);
}

export async function listNotifications(db: Conn, userId: string, limit: number, beforeId?: string): Promise<NotificationRow[]> {
  const query = notificationQuery(db, userId).orderBy('n.id', 'desc').limit(limit);
  if (beforeId) query.where('n.id', '<', beforeId);
  return query;
}

/** Unread notifications newer than the last one the page has seen (for the popup). */
export async function newUnread(db: Conn, userId: string, afterId: string, limit = 5): Promise<NotificationRow[]> {
  return notificationQuery(db, userId).whereNull('n.read_at').andWhere('n.id', '>', afterId).orderBy('n.id', 'desc').limit(limit);
}

/** What the layout's bell shows: the unread count, and the newest notification's id for the poller. */
export interface Bell {
  unread: number;
  latest: string;
}

/**
 * The bell as one value (batchRead, with the rest of the page's frame): two
 * index look-ups (notifications_unread, notifications_user_id_id_index)
 * rather than visiting every notification the employee ever had. The count
 * arrives as a JSON number, the id as text.
 */
export function bellQuery(db: Conn, userId: string): ValueQuery<Bell> {
  return db.select(
    db.raw(`json_build_object('unread', (?), 'latest', (?)::text)`, [
      db('notifications').count('*').where({ user_id: userId }).whereNull('read_at'),
      db('notifications').select(db.raw('coalesce(max(id), 0)')).where({ user_id: userId }),
    ]),
  );
}

/** Marks unread notifications read; how many there were. */
export async function markRead(db: Conn, userId: string, ids: string[] | 'all'): Promise<number> {
  const query = db('notifications').where({ user_id: userId }).whereNull('read_at');
  if (ids !== 'all') query.whereIn('id', ids);
  return query.update({ read_at: db.fn.now() });
}

export async function findNotification(
  db: Conn,
  userId: string,
  id: string,
): Promise<(Told & { id: string; created_at: Date; actor_name: string | null; action_last_event_id: string | null }) | undefined> {
  return db('notifications as n')
    .join('contact_events as e', 'e.id', 'n.event_id')
    .leftJoin('users as a', 'a.id', 'e.actor_id')
    .select('n.id', 'n.contact_id', 'n.count', 'n.created_at', 'n.action_last_event_id', 'e.kind', 'e.payload', 'a.name as actor_name')
    .where({ 'n.id': id, 'n.user_id': userId })
    .first();
}
