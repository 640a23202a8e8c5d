import type { Knex } from 'knex';

/**
 * "Mir zugewiesen" (the responsibility filter) decides per contact from status,
 * assignment kind, competence and id: with all four in one index, counting the
 * matches is an index-only scan instead of a heap visit per contact (measured
 * with npm run bench: the count of assigned=me at 100,000 contacts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index contacts_status_assignment on contacts (status, assignment, competence_id, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index contacts_status_assignment');
}
