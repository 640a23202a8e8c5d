import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { toCount } from '../db/knex';
import { whereResponsible } from '../assignment/responsibility';

type Conn = Db | Knex.Transaction;

/**
 * Fans history events out to every active employee responsible for the contact,
 * except the one who caused it. One statement for any number of events, in the
 * transaction that wrote them.
 */
export async function notifyResponsible(trx: Conn, eventIds: (string | number)[]): Promise<void> {
  if (!eventIds.length) return;
  const knex = trx as Knex;
  const candidates = knex('contact_events as e')
    .join('contacts as c', 'c.id', 'e.contact_id')
    .join('users as u', (j) => j.on('u.active', knex.raw('true')).andOn(knex.raw('u.id is distinct from e.actor_id')))
    .select('u.id', 'e.contact_id', 'e.id')
    // One array parameter, however many events (a bulk action may write 100,000).
    .whereRaw('e.id = any(?::bigint[])', [eventIds.map(String)]);
  whereResponsible(candidates, knex, knex.ref('u.id'));
  await knex.into(knex.raw('notifications (user_id, contact_id, event_id)')).insert(candidates);
}

export interface NotificationRow {
  id: string;
  contact_id: string;
  created_at: Date;
  read_at: Date | null;
  kind: string;
  payload: Record<string, unknown>;
  actor_name: string | null;
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
      'n.created_at',
      'n.read_at',
      'e.kind',
      'e.payload',
      'a.name as actor_name',
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

export async function unreadCount(db: Conn, userId: string): Promise<number> {
  const row = await db('notifications').count({ n: '*' }).where({ user_id: userId }).whereNull('read_at').first();
  return toCount(row?.n);
}

export async function latestId(db: Conn, userId: string): Promise<string> {
  const row = await db('notifications').max({ id: 'id' }).where({ user_id: userId }).first();
  return String(row?.id ?? 0);
}

export async function markRead(db: Conn, userId: string, ids: string[] | 'all'): Promise<void> {
  const query = db('notifications').where({ user_id: userId }).whereNull('read_at');
  if (ids !== 'all') query.whereIn('id', ids);
  await query.update({ read_at: db.fn.now() });
}

export async function findNotification(db: Conn, userId: string, id: string): Promise<{ id: string; contact_id: string } | undefined> {
  return db('notifications').select('id', 'contact_id').where({ id, user_id: userId }).first();
}
