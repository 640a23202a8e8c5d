import type { Knex } from 'knex';

/**
 * The list and its counts read contacts from indexes alone (index-only scans),
 * which works only on pages the visibility map marks all-visible. A bulk
 * action changes thousands of contacts spread over the whole table and clears
 * those marks; PostgreSQL's default autovacuum waits until 20 % of the table
 * has changed (20,000 of 100,000 contacts), so after archiving 10,000 the
 * counts kept reading rows until much later. Vacuuming after 1 % (plus 500)
 * brings them back within about a minute (autovacuum's naptime).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table contacts set (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,
    autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table contacts reset (
    autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
    autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)`);
}
