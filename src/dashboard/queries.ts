import { toCount, type Db } from '../db/knex';
import type { ValueQuery } from '../db/batch';
import { ownContactsUnion, responsibleUnion, whereResponsible } from '../assignment/responsibility';
import { forAllByStatusQuery } from '../contacts/counts';
import { cappedCountQuery } from '../contacts/queries';
import { statuses, type Status } from '../contacts/status';

export interface Activity {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  created_at: Date;
  contact_id: string;
  actor_name: string | null;
  actor_active: boolean | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  picture_updated_at: Date | null;
}

/**
 * Up to this many contacts of their own, an employee's activities are read
 * contact by contact; with more, by walking the newest events. At 100,000
 * contacts, both read about as much for an employee with this many (1,000
 * index probes, or some 3,100 events walked for 31 of theirs).
 */
export const FEW_CONTACTS = 1_000;

/**
 * History events of the contacts an employee is responsible for, newest first,
 * found one of two ways, chosen by how many contacts they have (cappedCountQuery:
 * those for all from the kept counts, their own counted up to FEW_CONTACTS + 1):
 * - many (everything for all, a big competence): walk the events newest first,
 *   keep those whose contact is the employee's, stop at `limit`;
 * - few (a new employee, a company that assigns nearly every contact): each of
 *   their contacts' newest events through the contact's index, merged. Walking
 *   the events took 130 ms at 100,000 contacts for an employee with 10 (every
 *   event tested and turned away), and grew with the history.
 */
export async function findActivities(
  db: Db,
  userId: string,
  { includeOwn, beforeId, limit }: { includeOwn: boolean; beforeId?: string; limit: number },
): Promise<Activity[]> {
  // The list's count of an employee's contacts: those for all from the kept counts, their own up to the cap.
  const counted = await cappedCountQuery(db, { status: [...statuses], assigned: userId }, undefined, undefined, FEW_CONTACTS).first();
  const anyStatus = () => db('contacts as c').select('c.id').whereIn('c.status', [...statuses]);
  const mine = () => db.select('r.id').from(db.raw('(?) as r', [responsibleUnion(anyStatus, db, userId)]));
  const events = () => {
    const query = db('contact_events as e').select('e.*').orderBy('e.id', 'desc').limit(limit);
    if (!includeOwn) query.whereRaw('e.actor_id is distinct from ?', [userId]);
    if (beforeId) query.where('e.id', '<', beforeId);
    return query;
  };
  const found =
    toCount(counted?.n) <= FEW_CONTACTS
      ? db
          .from(db.raw('(?) as m cross join lateral (?) as e', [mine(), events().whereRaw('e.contact_id = m.id')]))
          .select('e.*')
          .orderBy('e.id', 'desc')
          .limit(limit)
      : whereResponsible(events().join('contacts as c', 'c.id', 'e.contact_id'), db, userId);
  const rows = await db
    .from(found.as('e'))
    .join('contacts as c', 'c.id', 'e.contact_id')
    .leftJoin('users as u', 'u.id', 'e.actor_id')
    .select(
      'e.id',
      'e.kind',
      'e.payload',
      'e.created_at',
      'e.contact_id',
      'u.name as actor_name',
      'u.active as actor_active',
      'c.first_name',
      'c.last_name',
      'c.company',
      'c.picture_updated_at',
    )
    .orderBy('e.id', 'desc');
  return rows.map((r) => ({ ...r, id: String(r.id), contact_id: String(r.contact_id) }));
}

/**
 * How many contacts the employee is responsible for, per status, as one value
 * (for batchRead, with the page's bell): those for all from the kept counts
 * (forAllByStatusQuery), their own (by name, by competence) counted. Counting
 * every contact for all was 13-14 ms of each start page at 100,000 contacts
 * with half of them for all.
 */
export function myContactCountsQuery(db: Db, userId: string): ValueQuery<Partial<Record<Status, number>>> {
  const own = ownContactsUnion(() => db('contacts as c').select('c.status').whereIn('c.status', [...statuses]), db, userId);
  const ownByStatus = db.select('r.status').count({ n: '*' }).from(db.raw('(?) as r', [own])).groupBy('r.status');
  const perStatus = db.select('b.status').sum({ n: 'b.n' }).from(db.raw('((?) union all (?)) as b', [forAllByStatusQuery(db), ownByStatus])).groupBy('b.status');
  return db.from(perStatus.as('s')).select(db.raw(`coalesce(json_object_agg(s.status, s.n), '{}')`));
}

/** Every status, 0 where the employee has none. */
export function toStatusCounts(counted: Partial<Record<Status, number>>): Record<Status, number> {
  return { inbox: 0, prospect: 0, customer: 0, archived: 0, ...counted };
}
