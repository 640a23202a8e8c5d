import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create extension if not exists pg_trgm');
  await knex.raw('create extension if not exists unaccent');
  // unaccent() is only STABLE (its dictionary could change); indexes need IMMUTABLE.
  // Pinning the dictionary makes it safe to declare so (the documented workaround).
  await knex.raw(`
    create or replace function kontakte_fold(value text) returns text
    language sql immutable parallel safe strict
    as $$ select lower(public.unaccent('public.unaccent'::regdictionary, value)) $$`);

  await knex.schema.createTable('contacts', (t) => {
    t.bigIncrements('id');
    t.text('salutation');
    t.text('first_name');
    t.text('last_name');
    t.text('company');
    t.text('email');
    t.text('phone');
    t.text('mobile');
    t.text('website');
    t.text('street');
    t.text('postal_code');
    t.text('city');
    t.text('country').notNullable().defaultTo('DE');
    t.date('birthday');
    t.text('notes');
    t.text('customer_number');
    t.text('status').notNullable().defaultTo('prospect');
    t.text('previous_status');
    t.timestamp('picture_updated_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1);
    // A double click on "Speichern" sends the same token twice: one contact, not two.
    t.uuid('create_token').unique();
    t.bigInteger('created_by').references('users.id');
    t.bigInteger('updated_by').references('users.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`status in ('inbox', 'prospect', 'customer', 'archived')`, [], 'contacts_status_check');
    t.check(`previous_status in ('prospect', 'customer')`, [], 'contacts_previous_status_check');
    t.check(`salutation in ('mr', 'ms', 'mx')`, [], 'contacts_salutation_check');
    t.check(`coalesce(last_name, '') <> '' or coalesce(company, '') <> ''`, [], 'contacts_name_or_company');
    t.check(`customer_number = btrim(customer_number) and customer_number <> ''`, [], 'contacts_customer_number_trimmed');
    t.check(`country ~ '^[A-Z]{2}$'`, [], 'contacts_country_iso');
  });

  await knex.raw(`
    alter table contacts
      add column sort_name text collate "C" generated always as
        (kontakte_fold(coalesce(nullif(last_name, ''), company, '') || ' ' || coalesce(first_name, ''))) stored,
      add column search_text text generated always as
        (kontakte_fold(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(company, '') || ' ' ||
                       coalesce(email, '') || ' ' || coalesce(customer_number, ''))) stored`);

  // Each customer number exists once, whatever its case.
  await knex.raw('create unique index contacts_customer_number_unique on contacts (lower(customer_number))');
  // Search: substring match, case- and accent-insensitive.
  await knex.raw('create index contacts_search_trgm on contacts using gin (search_text gin_trgm_ops)');
  // Sorts (keyset pagination: sort key, then id) and filters.
  await knex.raw('create index contacts_sort_name on contacts (sort_name, id)');
  // Contacts without a number sort after all numbered ones (U+10FFFF is the highest code point).
  await knex.raw(`create index contacts_sort_number on contacts ((coalesce(lower(customer_number), E'\\U0010FFFF') collate "C"), id)`);
  await knex.raw('create index contacts_sort_created on contacts (created_at, id)');
  await knex.raw('create index contacts_status_sort_name on contacts (status, sort_name, id)');
  await knex.raw('create index contacts_postal_code on contacts (postal_code text_pattern_ops)');
  await knex.raw('create index contacts_city on contacts (kontakte_fold(city) text_pattern_ops)');
  await knex.raw('create index contacts_country on contacts (country)');

  await knex.schema.createTable('contact_pictures', (t) => {
    t.bigInteger('contact_id').primary().references('contacts.id').onDelete('cascade');
    t.binary('data').notNullable();
    t.text('content_type').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('contact_events', (t) => {
    t.bigIncrements('id');
    t.bigInteger('contact_id').notNullable().references('contacts.id').onDelete('cascade');
    t.bigInteger('actor_id').references('users.id');
    t.text('kind').notNullable();
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['contact_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('contact_events');
  await knex.schema.dropTable('contact_pictures');
  await knex.schema.dropTable('contacts');
  await knex.raw('drop function kontakte_fold(text)');
}
