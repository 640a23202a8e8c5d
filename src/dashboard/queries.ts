import type { Db } from '../db/knex';
import type { ValueQuery } from '../db/batch';
import { responsibleUnion, whereResponsible } from '../assignment/responsibility';
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

/** History events of the contacts an employee is responsible for, newest first. */
export async function findActivities(
  db: Db,
  userId: string,
  { includeOwn, beforeId, limit }: { includeOwn: boolean; beforeId?: string; limit: number },
): Promise<Activity[]> {
  const query = db('contact_events as e')
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
    .orderBy('e.id', 'desc')
    .limit(limit);
  whereResponsible(query, db, userId);
  if (!includeOwn) query.whereRaw('e.actor_id is distinct from ?', [userId]);
  if (beforeId) query.where('e.id', '<', beforeId);
  const rows = await query;
  return rows.map((r) => ({ ...r, id: String(r.id), contact_id: String(r.contact_id) }));
}

/**
 * How many contacts the employee is responsible for, per status, as one value
 * (for batchRead, with the page's bell). Counted by kind of assignment
 * (responsibleUnion): testing every contact against the rule took 12.5 ms at
 * 100,000 contacts for an employee with 13 of their own and 5,000 for all,
 * now 2-4 ms; 12 vs 13 ms where half the contacts are for all.
 */
export function myContactCountsQuery(db: Db, userId: string): ValueQuery<Partial<Record<Status, number>>> {
  const mine = responsibleUnion(() => db('contacts as c').select('c.status').whereIn('c.status', [...statuses]), db, userId);
  const perStatus = db.select('r.status').count({ n: '*' }).from(db.raw('(?) as r', [mine])).groupBy('r.status');
  return db.from(perStatus.as('s')).select(db.raw(`coalesce(json_object_agg(s.status, s.n), '{}')`));
}

/** Every status, 0 where the employee has none. */
export function toStatusCounts(counted: Partial<Record<Status, number>>): Record<Status, number> {
  return { inbox: 0, prospect: 0, customer: 0, archived: 0, ...counted };
}
