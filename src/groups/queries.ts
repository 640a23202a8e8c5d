import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { ListFilter } from '../contacts/schema';
import type { GroupScope } from '../contacts/queries';

type Conn = Db | Knex.Transaction;

/**
 * The group behind `?group=ID`, as the contacts list filters by it. Temporary
 * groups are private to their owner and invisible once expired. A stored filter
 * that no longer validates (the list's schema changed) matches nothing rather
 * than everything.
 */
export async function findGroupScope(db: Conn, id: string, viewerId: string): Promise<(GroupScope & { name: string }) | undefined> {
  const row = await db('groups')
    .select('id', 'kind', 'filter', 'name')
    .where({ id })
    .andWhere((w) => w.whereNot('kind', 'temporary').orWhere((t) => t.where('owner_id', viewerId).andWhere('expires_at', '>', db.fn.now())))
    .first();
  if (!row) return undefined;
  let filter: ListFilter | null = null;
  if (row.kind === 'dynamic') {
    const parsed = ListFilter.safeParse(row.filter);
    filter = parsed.success ? parsed.data : { q: '\u0000no-match' };
  }
  return { id: String(row.id), kind: row.kind, filter, name: row.name };
}
