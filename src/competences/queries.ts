import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { toCount } from '../db/knex';

type Conn = Db | Knex.Transaction;

export interface Competence {
  id: string;
  name: string;
}

export interface Member {
  id: string;
  name: string;
  active: boolean;
}

/** What is assigned to a competence: it cannot be deleted while any of it is. */
export interface Usage {
  contacts: number;
  groups: number;
  /** Dynamic groups whose saved filter names the competence: deleted, they would match nothing, silently. */
  filters?: string[];
}

export interface CompetenceRow extends Competence {
  usage: Usage;
  members: Member[];
}

/** Every competence by name, with its members and what is assigned to it: two queries. */
export async function listCompetences(db: Conn): Promise<CompetenceRow[]> {
  const rows: { id: string; name: string; contacts: string; groups: string }[] = await db('competences as k')
    .select(
      'k.id',
      'k.name',
      db.raw('(select count(*) from contacts c where c.competence_id = k.id) as contacts'),
      db.raw('(select count(*) from groups g where g.competence_id = k.id) as groups'),
    )
    .orderByRaw('lower(k.name), k.id');
  const members = await membersOf(db, rows.map((r) => String(r.id)));
  return rows.map((r) => ({
    id: String(r.id),
    name: r.name,
    usage: { contacts: toCount(r.contacts), groups: toCount(r.groups) },
    members: members.get(String(r.id)) ?? [],
  }));
}

export async function findCompetence(db: Conn, id: string): Promise<Competence | undefined> {
  const row = await db('competences').select('id', 'name').where({ id }).first();
  return row && { id: String(row.id), name: row.name };
}

/** The members of some competences, deactivated ones included, by name. */
export async function membersOf(db: Conn, ids: string[]): Promise<Map<string, Member[]>> {
  const byCompetence = new Map<string, Member[]>();
  if (!ids.length) return byCompetence;
  const rows = await db('competence_members as m')
    .join('users as u', 'u.id', 'm.user_id')
    .select('m.competence_id', 'u.id', 'u.name', 'u.active')
    .whereIn('m.competence_id', ids)
    .orderByRaw('lower(u.name), u.id');
  for (const row of rows) {
    const list = byCompetence.get(String(row.competence_id)) ?? [];
    list.push({ id: String(row.id), name: row.name, active: row.active });
    byCompetence.set(String(row.competence_id), list);
  }
  return byCompetence;
}

/** Who the member checkboxes offer: every active employee, plus the deactivated ones already in the competence. */
export async function memberCandidates(db: Conn, competenceId?: string): Promise<Member[]> {
  const query = db('users as u').select('u.id', 'u.name', 'u.active').where('u.active', true);
  if (competenceId) {
    query.orWhereExists(db('competence_members as m').select(db.raw('1')).whereRaw('m.user_id = u.id').andWhere('m.competence_id', competenceId));
  }
  const rows = await query.orderByRaw('lower(u.name), u.id');
  return rows.map((r) => ({ id: String(r.id), name: r.name, active: r.active }));
}

/** Whether another competence already has the name, in any case. */
export async function isNameTaken(db: Conn, name: string, exceptId?: string): Promise<boolean> {
  const query = db('competences').select('id').whereRaw('lower(name) = lower(?)', [name]);
  if (exceptId) query.whereNot({ id: exceptId });
  return Boolean(await query.first());
}

export async function insertCompetence(db: Conn, name: string): Promise<string> {
  const [row] = await db('competences').insert({ name }).returning('id');
  return String(row.id);
}

export async function renameCompetence(db: Conn, id: string, name: string): Promise<void> {
  await db('competences').where({ id }).update({ name, updated_at: db.fn.now() });
}

/** Makes the members exactly `userIds`: two statements, whatever the count. */
export async function setMembers(db: Conn, id: string, userIds: string[]): Promise<void> {
  await db('competence_members').where({ competence_id: id }).whereNotIn('user_id', userIds).delete();
  if (userIds.length) {
    await db.raw(
      `insert into competence_members (competence_id, user_id) select ?, u.id from unnest(?::bigint[]) as u(id) on conflict do nothing`,
      [id, userIds],
    );
  }
}

/**
 * Locks competences until the transaction ends, in id order so that two admins
 * moving contacts between the same two competences cannot deadlock.
 */
export async function lockCompetences(db: Conn, ids: string[]): Promise<Competence[]> {
  const rows = await db('competences').select('id', 'name').whereIn('id', ids).orderBy('id').forUpdate();
  return rows.map((r) => ({ id: String(r.id), name: r.name }));
}

/** What still points at a competence and keeps it from being deleted: its contacts and groups. */
export async function usageOf(db: Conn, id: string): Promise<Usage> {
  const { rows } = await db.raw(
    `select (select count(*) from contacts where competence_id = ?) as contacts,
            (select count(*) from groups where competence_id = ?) as groups,
            array(select name from groups where kind = 'dynamic' and filter->>'competence' = ? order by name) as filters`,
    [id, id, id],
  );
  return { contacts: toCount(rows[0].contacts), groups: toCount(rows[0].groups), filters: rows[0].filters };
}

/** The dynamic groups filtering by one competence filter by another instead (reassigning moves them along). */
export async function moveFilters(trx: Knex.Transaction, fromId: string, toId: string): Promise<number> {
  return trx('groups')
    .where('kind', 'dynamic')
    .whereRaw(`filter->>'competence' = ?`, [fromId])
    .update({ filter: trx.raw(`jsonb_set(filter, '{competence}', to_jsonb(?::text))`, [toId]), updated_at: trx.fn.now() });
}

export async function deleteCompetence(db: Conn, id: string): Promise<void> {
  await db('competences').where({ id }).delete();
}

/**
 * Moves every contact of a competence to another assignment in one statement and
 * writes one "assigned" history event per contact in the same statement. Returns
 * the new events' ids (for the notifications). `from` and `to` are the history's
 * snapshots of the names at the time.
 */
export async function moveContacts(
  trx: Knex.Transaction,
  fromId: string,
  to: { kind: 'all' | 'competence'; competenceId?: string },
  actorId: string,
  payload: { from: { kind: string; names: string[]; id?: string }; to: { kind: string; names: string[]; id?: string } },
): Promise<string[]> {
  const { rows } = await trx.raw(
    `with moved as (
       update contacts
          set assignment = ?, competence_id = ?, updated_by = ?, updated_at = now()
        where competence_id = ?
       returning id
     )
     insert into contact_events (contact_id, actor_id, kind, payload)
     select id, ?, 'assigned', ?::jsonb from moved
     returning id`,
    [to.kind, to.competenceId ?? null, actorId, fromId, actorId, JSON.stringify(payload)],
  );
  return rows.map((r: { id: string | number }) => String(r.id));
}

/** Moves every group of a competence to another assignment in one statement; groups keep no history. Returns how many moved. */
export async function moveGroups(trx: Knex.Transaction, fromId: string, to: { kind: 'all' | 'competence'; competenceId?: string }): Promise<number> {
  return trx('groups')
    .where({ competence_id: fromId })
    .update({ assignment: to.kind, competence_id: to.competenceId ?? null, updated_at: trx.fn.now() });
}
