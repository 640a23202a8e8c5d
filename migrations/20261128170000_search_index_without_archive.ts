import type { Knex } from 'knex';

/**
 * The trigram index holds the searchable text of every contact, and a status
 * change gives a contact a new row version, which the index must take in whole
 * again (some hundred trigrams): archiving 10,000 contacts spent about a fifth
 * of its time there. Archived contacts now stay out of it. Every search of the
 * list without "Archiviert" in its status filter (the default, inbox,
 * prospects, customers) still uses it, as PostgreSQL sees from the status
 * condition; a search in the archive reads the archived contacts instead (about
 * 10,000 at 100,000 contacts: some milliseconds).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index contacts_search_trgm');
  await knex.raw(`create index contacts_search_trgm on contacts using gin (search_text gin_trgm_ops)
    with (gin_pending_list_limit = 16384) where status <> 'archived'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index contacts_search_trgm');
  await knex.raw('create index contacts_search_trgm on contacts using gin (search_text gin_trgm_ops) with (gin_pending_list_limit = 16384)');
}
