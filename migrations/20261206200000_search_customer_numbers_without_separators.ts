import type { Knex } from 'knex';

/**
 * A customer number is read out on the phone as "K null null null neun neun"
 * and typed as "k00099": the search found "K-00099" only with its dash. The
 * searchable text now also holds each number without its separators (dashes,
 * dots, slashes, spaces), where it has any, so both spellings find it.
 *
 * A generated column's expression cannot be changed on PostgreSQL 15 (only from
 * 17 on): the column is made again, and its trigram index with it (the same
 * definition as 20261128170000). The table is rewritten once under lock: some
 * seconds at 100,000 contacts.
 */
const searchText = (customerNumber: string) => `
  kontakte_fold(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(company, '') || ' ' ||
                coalesce(email, '') || ' ' || ${customerNumber})`;

const withCompactNumber = `coalesce(customer_number, '') ||
  case when customer_number ~ '[^[:alnum:]]' then ' ' || regexp_replace(customer_number, '[^[:alnum:]]+', '', 'g') else '' end`;

async function rebuild(knex: Knex, customerNumber: string): Promise<void> {
  await knex.raw('alter table contacts drop column search_text');
  await knex.raw(`alter table contacts add column search_text text generated always as (${searchText(customerNumber)}) stored`);
  await knex.raw(`create index contacts_search_trgm on contacts using gin (search_text gin_trgm_ops)
    with (gin_pending_list_limit = 16384) where status <> 'archived'`);
}

export async function up(knex: Knex): Promise<void> {
  await rebuild(knex, withCompactNumber);
}

export async function down(knex: Knex): Promise<void> {
  await rebuild(knex, `coalesce(customer_number, '')`);
}
