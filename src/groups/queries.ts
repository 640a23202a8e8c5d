import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { toCount } from '../db/knex';
import { readValue, type ValueQuery } from '../db/batch';
import { ListFilter } from '../contacts/schema';
import { cappedCountQuery, countContacts, listTotal, type GroupScope, type ListTotal } from '../contacts/queries';
import type { AssignmentTarget } from '../assignment/queries';
import { statusesAllowing, type Status } from '../contacts/status';

type Conn = Db | Knex.Transaction;

export type GroupKind = 'static' | 'dynamic' | 'temporary';

/** Groups keep their assignment like contacts do (src/assignment/). */
export const groupTarget: AssignmentTarget = { table: 'groups', assignees: 'group_assignees', key: 'group_id' };

/**
 * What a viewer may see: every static and dynamic group (groups are shared),
 * and only their own temporary groups, until those expire.
 */
function whereVisible(query: Knex.QueryBuilder, db: Conn, viewerId: string, alias = 'g'): Knex.QueryBuilder {
  return query.andWhere((w) =>
    w.whereNot(`${alias}.kind`, 'temporary').orWhere((t) => t.where(`${alias}.owner_id`, viewerId).andWhere(`${alias}.expires_at`, '>', db.fn.now())),
  );
}

/**
 * A dynamic group's filter, or null when it no longer validates (the list's
 * schema changed): such a group matches nothing rather than everything. (The
 * list treats a dynamic scope without a filter like a group without members.)
 */
function storedFilter(value: unknown): ListFilter | null {
  const parsed = ListFilter.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * The group behind `?group=ID`, as the contacts list filters by it. Temporary
 * groups are private to their owner and invisible once expired.
 */
export async function findGroupScope(db: Conn, id: string, viewerId: string): Promise<(GroupScope & { name: string }) | undefined> {
  const row = await whereVisible(db('groups as g').select('g.id', 'g.kind', 'g.filter', 'g.name').where('g.id', id), db, viewerId).first();
  if (!row) return undefined;
  return { id: String(row.id), kind: row.kind, filter: row.kind === 'dynamic' ? storedFilter(row.filter) : null, name: row.name };
}

export interface Group {
  id: string;
  name: string;
  group_number: string | null;
  kind: GroupKind;
  filter: ListFilter | null;
  owner_id: string | null;
  expires_at: Date | null;
  created_at: Date;
  created_by_name: string | null;
}

/** One group the viewer may see, for its page and for changes (`lock`: until the transaction ends). */
export async function findGroup(db: Conn, id: string, viewerId: string, options: { lock?: boolean } = {}): Promise<Group | undefined> {
  const query = whereVisible(
    db('groups as g')
      .leftJoin('users as u', 'u.id', 'g.created_by')
      .select('g.id', 'g.name', 'g.group_number', 'g.kind', 'g.filter', 'g.owner_id', 'g.expires_at', 'g.created_at', 'u.name as created_by_name')
      .where('g.id', id),
    db,
    viewerId,
  ).first();
  if (options.lock) query.forUpdate('g');
  const row = await query;
  if (!row) return undefined;
  return {
    ...row,
    id: String(row.id),
    owner_id: row.owner_id === null ? null : String(row.owner_id),
    filter: row.kind === 'dynamic' ? storedFilter(row.filter) : null,
  };
}

/** Who holds a group number, in any case ("g-001" holds "G-001"), for the "already taken" message. */
export async function findGroupNumberHolder(db: Conn, number: string, exceptId?: string): Promise<{ id: string; name: string } | undefined> {
  const query = db('groups').select('id', 'name').whereRaw('lower(group_number) = lower(?)', [number.trim()]);
  if (exceptId) query.whereNot('id', exceptId);
  const row = await query.first();
  return row && { id: String(row.id), name: row.name };
}

export async function findGroupByToken(db: Conn, token: string): Promise<{ id: string; group_number: string | null } | undefined> {
  const row = await db('groups').select('id', 'group_number').where({ create_token: token }).first();
  return row && { id: String(row.id), group_number: row.group_number };
}

/** Gives the group a generated number unless some group holds it in any case; whether it did (numbers' WriteIfFree). */
export async function writeGroupNumberIfFree(trx: Knex.Transaction, id: string, number: string): Promise<boolean> {
  const updated = await trx('groups')
    .where({ id })
    .whereNotExists(trx('groups as other').select(trx.raw('1')).whereRaw('lower(other.group_number) = lower(?)', [number]))
    .update({ group_number: number, updated_at: trx.fn.now() });
  return updated === 1;
}

export interface GroupRow {
  name: string;
  group_number: string | null;
  kind: GroupKind;
  filter: ListFilter | null;
  owner_id: string | null;
  temporary: boolean;
  assignment: string;
  competence_id: string | null;
  created_by: string;
  create_token: string | null;
}

/**
 * Inserts a group; undefined when a unique index refused it (the number or the
 * create token is taken). `on conflict do nothing` keeps the caller's
 * transaction usable, so it can say which.
 */
export async function insertGroup(trx: Knex.Transaction, row: GroupRow): Promise<string | undefined> {
  const { temporary, filter, ...fields } = row;
  const [inserted] = await trx('groups')
    .insert({
      ...fields,
      filter: filter ? JSON.stringify(filter) : null,
      expires_at: temporary ? trx.raw(`now() + interval '24 hours'`) : null,
    })
    .onConflict()
    .ignore()
    .returning('id');
  return inserted && String(inserted.id);
}

export async function updateGroup(trx: Knex.Transaction, id: string, fields: Partial<{ name: string; group_number: string | null; kind: GroupKind; owner_id: null; expires_at: null }>): Promise<void> {
  await trx('groups').where({ id }).update({ ...fields, updated_at: trx.fn.now() });
}

/** Memberships and assignees go with the group (on delete cascade); contacts stay. */
export async function deleteGroup(trx: Conn, id: string): Promise<void> {
  await trx('groups').where({ id }).delete();
}

/** The employee's temporary groups, unless they are still logged in with another session than `endingSid` (another PC or browser). */
export async function deleteTemporaryGroupsOf(db: Conn, userId: string, endingSid: string): Promise<number> {
  return db('groups')
    .where({ kind: 'temporary', owner_id: userId })
    .whereNotExists(db('session as s').select(db.raw('1')).whereRaw(`s.expire >= now() and s.sess->>'userId' = ? and s.sid <> ?`, [userId, endingSid]))
    .delete();
}

/** Temporary groups older than 24 h, or whose owner is no longer logged in anywhere (logged out by the idle or 12-hour timeout). */
export async function deleteExpiredGroups(db: Conn): Promise<number> {
  return db('groups as g')
    .where('g.kind', 'temporary')
    .andWhere((expired) =>
      expired
        .where('g.expires_at', '<=', db.fn.now())
        .orWhereNotExists(db('session as s').select(db.raw('1')).whereRaw(`s.expire >= now() and s.sess->>'userId' = g.owner_id::text`)),
    )
    .delete();
}

/** Contacts as the caller names them: ids, or a query selecting `c.id` from `contacts as c` ("all matching"). */
export type ContactIds = Knex.QueryBuilder | string[];

function whereContactIn(query: Knex.QueryBuilder, column: string, contacts: ContactIds): Knex.QueryBuilder {
  // An id list is one array parameter, however long: PostgreSQL takes at most 65,535 parameters.
  return Array.isArray(contacts) ? query.whereRaw(`${column} = any(?::bigint[])`, [contacts]) : query.whereIn(column, contacts);
}

export interface MembersAdded {
  added: number;
  skipped: { status: Status; count: number }[];
  eventIds: string[];
}

/**
 * The history events of a change of a group's members: one per `contact_id`
 * of `from`, returning their ids. Bindings: the actor, the group's name and id,
 * then whatever `from` binds.
 */
function groupEvents(kind: 'group_added' | 'group_removed', from: string): string {
  return `insert into contact_events (contact_id, actor_id, kind, payload)
    select contact_id, ?, '${kind}', jsonb_build_object('group', ?::text, 'group_id', ?::bigint) from ${from}
    returning id`;
}

/**
 * Adds the contacts whose status is in `allowed` and counts the others by
 * status; contacts already in the group are left as they are. One statement:
 * memberships and their history events (`group_added`) are written together.
 */
export async function insertMembers(
  trx: Knex.Transaction,
  group: { id: string; name: string; kind: string },
  contacts: ContactIds,
  allowed: Status[],
  actorId: string,
): Promise<MembersAdded> {
  const candidates = whereContactIn(trx('contacts as c').select('c.id', 'c.status'), 'c.id', contacts);
  const { rows } = await trx.raw(
    `with candidates as ?,
     added as (
       insert into group_members (group_id, contact_id)
       select ?, id from candidates where status = any(?::text[])
       on conflict do nothing
       returning contact_id
     ),
     events as (
       ${groupEvents('group_added', 'added where ?')}
     )
     select
       (select coalesce(json_agg(s order by s.status), '[]') from (
          select status, count(*)::int as count from candidates where status <> all(?::text[]) group by status
        ) s) as skipped,
       (select count(*)::int from added) as added,
       (select coalesce(array_agg(id), '{}') from events) as event_ids`,
    [candidates, group.id, allowed, actorId, group.name, group.id, recordsMembership(group), allowed],
  );
  return { added: rows[0].added, skipped: rows[0].skipped, eventIds: (rows[0].event_ids as (string | number)[]).map(String) };
}

/**
 * How many members keep a summary's group (one a notification was opened as)
 * from becoming permanent: those put in with a status that may not be grouped
 * (capability table). The group page says so instead of offering it. (Members of any other group joined while they could;
 * archived since, they stay, as in every permanent group.)
 */
export async function countUnkeepableMembers(db: Conn, groupId: string): Promise<number> {
  const [{ n }] = await db('group_members as gm')
    .join('contacts as c', 'c.id', 'gm.contact_id')
    .where('gm.group_id', groupId)
    .whereRaw('c.status <> all(?::text[])', [statusesAllowing('group')])
    .whereExists(db('notifications as n').select(db.raw('1')).whereRaw('n.group_id = gm.group_id'))
    .count({ n: '*' });
  return Number(n);
}

/**
 * Whether joining or leaving the group goes into the contacts' history (and so
 * to their responsible employees): not for a temporary group, one employee's
 * scratch list for one action that disappears by itself; its members are
 * recorded when it is made permanent (keepGroup).
 */
function recordsMembership(group: { kind: string }): boolean {
  return group.kind !== 'temporary';
}

/** Writes a `group_added` history event for each member the group has now (a temporary group made permanent); returns their ids. */
export async function recordMembers(trx: Knex.Transaction, group: { id: string; name: string }, actorId: string): Promise<string[]> {
  const { rows } = await trx.raw(
    groupEvents('group_added', 'group_members where group_id = ?'),
    [actorId, group.name, group.id, group.id],
  );
  return (rows as { id: string | number }[]).map((row) => String(row.id));
}

/**
 * Removes the contacts from the group and, unless it is temporary, writes a
 * `group_removed` history event for each one that was in it; returns how many
 * were removed and the events' ids. One statement.
 */
export async function deleteMembers(
  trx: Knex.Transaction,
  group: { id: string; name: string; kind: string },
  contacts: ContactIds,
  actorId: string,
): Promise<{ removed: number; eventIds: string[] }> {
  const ids = whereContactIn(trx('contacts as c').select('c.id'), 'c.id', contacts);
  const { rows } = await trx.raw(
    `with removed as (
       delete from group_members where group_id = ? and contact_id in ? returning contact_id
     ),
     events as (
       ${groupEvents('group_removed', 'removed where ?')}
     )
     select (select count(*)::int from removed) as removed, (select coalesce(array_agg(id), '{}') from events) as event_ids`,
    [group.id, ids, actorId, group.name, group.id, recordsMembership(group)],
  );
  return { removed: rows[0].removed, eventIds: (rows[0].event_ids as (string | number)[]).map(String) };
}

export interface SidebarGroup {
  id: string;
  name: string;
  group_number: string | null;
  kind: GroupKind;
  expires_at: Date | null;
  /** Members of static and temporary groups; null for dynamic groups, counted separately (countDynamicGroups). */
  members: number | null;
}

/**
 * The sidebar: every static and dynamic group and the viewer's own unexpired
 * temporary ones, by name. Static and temporary groups bring their member
 * count (kept by triggers, see the count_group_members migration); dynamic
 * groups are counted from their filters by countDynamicGroups, in a request
 * of its own, so the list never waits for them.
 */
export async function listGroupsForSidebar(db: Conn, viewerId: string): Promise<SidebarGroup[]> {
  return toSidebarGroups(await readValue(db, sidebarGroupsQuery(db, viewerId)));
}

/** The sidebar's groups as one value, a JSON list: for batchRead, with the rest of the contacts page's frame. */
type SidebarGroupJson = Omit<SidebarGroup, 'members' | 'expires_at'> & { expires_at: string | null; member_count: number };

export function sidebarGroupsQuery(db: Conn, viewerId: string): ValueQuery<SidebarGroupJson[]> {
  const group = `json_build_object('id', g.id::text, 'name', g.name, 'group_number', g.group_number, 'kind', g.kind, 'expires_at', g.expires_at, 'member_count', g.member_count)`;
  return whereVisible(db('groups as g').select(db.raw(`coalesce(json_agg(${group} order by lower(g.name), g.id), '[]')`)), db, viewerId);
}

export function toSidebarGroups(groups: SidebarGroupJson[]): SidebarGroup[] {
  return groups.map(({ member_count, expires_at, ...group }) => ({
    ...group,
    expires_at: expires_at === null ? null : new Date(expires_at),
    members: group.kind === 'dynamic' ? null : member_count,
  }));
}

/**
 * Where the sidebar stops counting a dynamic group: "1.000+". A sidebar number
 * is read at a glance, and counting further costs every page view up to ten
 * times as much for a group of many thousands (the group's own list, opened
 * with a click, counts to 10,000 and exactly on request).
 */
export const SIDEBAR_COUNT_CAP = 1_000;

/**
 * Live member counts of every dynamic group the viewer sees, in two
 * statements run side by side: one scalar subquery per distinct filter (groups with the same filter are
 * counted once), each the list's own count for `?group=ID` (applyFilter, so
 * each is planned with the list's indexes), up to SIDEBAR_COUNT_CAP. It runs
 * in a request of its own after the page.
 */
export async function countDynamicGroups(db: Conn, viewerId: string): Promise<Map<string, ListTotal>> {
  const groups: { id: string; filter: unknown }[] = await db('groups').select('id', 'filter').where('kind', 'dynamic').orderBy('id');
  const counts = new Map<string, ListTotal>();
  if (!groups.length) return counts;
  const knex = db as Db;
  // storedFilter parses with the schema, so equal filters serialise alike whatever their stored key order.
  const filters = new Map<string, ListFilter>();
  const keyOf = new Map<string, string | undefined>();
  for (const group of groups) {
    const filter = storedFilter(group.filter);
    const key = filter ? JSON.stringify(filter) : undefined;
    if (filter && key && !filters.has(key)) filters.set(key, filter);
    keyOf.set(String(group.id), key);
  }
  // In two statements side by side: PostgreSQL counts on both cores, and the sidebar waits half as long.
  const columns = [...filters].map(([, filter], i) => [`f${i}`, cappedCountQuery(knex, filter, viewerId, undefined, SIDEBAR_COUNT_CAP)] as const);
  const halves = [columns.slice(0, Math.ceil(columns.length / 2)), columns.slice(Math.ceil(columns.length / 2))].filter((half) => half.length);
  const rows = await Promise.all(halves.map((half) => knex.select(Object.fromEntries(half)).first()));
  const row = Object.assign({}, ...rows) as Record<string, unknown>;
  const totals = new Map([...filters].map(([key, filter], i) => [key, listTotal(toCount(row[`f${i}`]), filter, undefined, SIDEBAR_COUNT_CAP)]));
  for (const [id, key] of keyOf) counts.set(id, (key && totals.get(key)) || { n: 0, capped: false });
  return counts;
}

/** How many contacts a group has now: its members, or its filter's matches. */
export async function countMembers(db: Conn, group: Pick<Group, 'id' | 'kind' | 'filter'>, viewerId: string): Promise<number> {
  if (group.kind === 'dynamic') return countContacts(db as Db, {}, viewerId, { id: group.id, kind: 'dynamic', filter: group.filter });
  const row = await db('groups').select('member_count').where({ id: group.id }).first();
  return row?.member_count ?? 0;
}
