import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { toCount } from '../db/knex';
import type { Status } from './status';

/** Every statement that changes statuses adds a row; past this many, they are folded into one per status. */
const FOLD_ABOVE = 100;

/**
 * Contacts per status, from the rows the database's triggers append to
 * `contact_status_counts` (migration 20261128090000): a sum over a few rows in the
 * reader's own snapshot, so exactly what counting `contacts` would give.
 */
export async function countByStatus(db: Db, statuses: readonly Status[]): Promise<number> {
  const row = await statusCountQuery(db, statuses).select(db.raw('count(*) as rows')).first();
  noteStatusCountRows(db, toCount(row?.rows));
  return toCount(row?.n);
}

/** How many rows the per-status counts have now, as a query of one column, to go along in a bigger statement. */
export function statusCountRowsQuery(db: Db): Knex.QueryBuilder {
  return db('contact_status_counts').count('*');
}

/** Whoever read the per-status counts says how many rows they had: past FOLD_ABOVE they are folded. */
export function noteStatusCountRows(db: Db, rows: number): void {
  if (rows > FOLD_ABOVE) foldLater(db);
}

/**
 * The count as a query with one column `n`, to run alone or as a subquery of a
 * bigger statement; `forAll`: only the contacts assigned to all (whom every
 * employee is responsible for).
 */
export function statusCountQuery(db: Db, statuses: readonly Status[], { forAll = false }: { forAll?: boolean } = {}): Knex.QueryBuilder {
  const which = forAll ? 'for_all and status = any(?::text[])' : 'status = any(?::text[])';
  return db('contact_status_counts').select(db.raw(`coalesce(sum(delta) filter (where ${which}), 0) as n`, [[...statuses]]));
}

/** The contacts assigned to all, per status (`status`, `n`), as a query. */
export function forAllByStatusQuery(db: Db): Knex.QueryBuilder {
  return db('contact_status_counts').select('status').sum({ n: 'delta' }).where('for_all', true).groupBy('status');
}

let folding: Promise<void> | undefined;

/** Folds in the background, once at a time in this process; a failure only means the next reader tries again. */
function foldLater(db: Db): void {
  folding ??= foldStatusCounts(db)
    .catch(() => undefined)
    .finally(() => (folding = undefined));
}

/**
 * Replaces the rows by one per status and kind (for all or not), in one statement. Instances sharing the
 * database skip the fold while another one is at it (advisory lock), and a
 * writer appending meanwhile is never blocked: its row is simply not folded yet.
 */
export async function foldStatusCounts(db: Db): Promise<void> {
  await db.transaction(async (trx) => {
    const { rows } = await trx.raw(`select pg_try_advisory_xact_lock(hashtext('contact_status_counts')) as locked`);
    if (!rows[0].locked) return;
    await trx.raw(`
      with folded as (delete from contact_status_counts returning status, for_all, delta)
      insert into contact_status_counts (status, for_all, delta)
      select status, for_all, sum(delta) from folded group by status, for_all having sum(delta) <> 0`);
  });
}
