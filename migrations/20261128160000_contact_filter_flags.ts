import type { Knex } from 'knex';

/**
 * "Kundennummer vorhanden" and "E-Mail vorhanden" as columns of their own,
 * kept by PostgreSQL, so that the indexes the list walks can carry them: a
 * filter combining them with city, postal code or country (customers in
 * DE, city "b…", with e-mail: 4,484 of 100,000) is then counted from the
 * index alone instead of reading 3,000 table pages (4.3 → under 1 ms), and
 * the name walk of a page never leaves the index to look at an e-mail address.
 * The indexes of contacts without a number or e-mail say the same in the new
 * terms, as the list now asks.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table contacts
    add column has_email boolean generated always as (email is not null) stored,
    add column has_number boolean generated always as (customer_number is not null) stored`);
  await knex.raw('drop index contacts_without_number');
  await knex.raw('create index contacts_without_number on contacts (status, sort_name, id) where not has_number');
  await knex.raw('drop index contacts_without_email');
  await knex.raw('create index contacts_without_email on contacts (status, sort_name, id) where not has_email');
  await knex.raw('drop index contacts_city_key');
  await knex.raw('create index contacts_city_key on contacts (city_key text_pattern_ops, status) include (country, has_email, has_number)');
  await knex.raw('drop index contacts_postal_code');
  await knex.raw('create index contacts_postal_code on contacts (postal_code text_pattern_ops, status) include (country, has_email, has_number)');
  await knex.raw('drop index contacts_sort_name_covering');
  await knex.raw(`create index contacts_sort_name_covering on contacts (sort_name, id)
    include (status, city_key, postal_code, country, created_at, assignment, competence_id, has_email, has_number)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index contacts_sort_name_covering');
  await knex.raw(`create index contacts_sort_name_covering on contacts (sort_name, id)
    include (status, city_key, postal_code, country, created_at, assignment, competence_id)`);
  await knex.raw('drop index contacts_postal_code');
  await knex.raw('create index contacts_postal_code on contacts (postal_code text_pattern_ops, status)');
  await knex.raw('drop index contacts_city_key');
  await knex.raw('create index contacts_city_key on contacts (city_key text_pattern_ops, status)');
  await knex.raw('drop index contacts_without_email');
  await knex.raw('create index contacts_without_email on contacts (status, sort_name, id) where email is null');
  await knex.raw('drop index contacts_without_number');
  await knex.raw('create index contacts_without_number on contacts (status, sort_name, id) where customer_number is null');
  await knex.raw('alter table contacts drop column has_email, drop column has_number');
}
