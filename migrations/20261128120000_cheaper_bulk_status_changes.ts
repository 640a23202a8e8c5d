import type { Knex } from 'knex';

/**
 * What archiving 10,000 contacts writes, made cheaper (issue 6: ≤ 0.5 s at
 * 100,000 contacts, history included; measured with bench/bulk.ts).
 *
 * A status change is never a HOT update (status is indexed), so every changed
 * row gets a new entry in every index of `contacts`, each costing about as
 * much as the row itself:
 * - the indexes on sparse columns leave out the rows without a value (most
 *   contacts have no competence, many no customer number); lookups by a value
 *   use them as before;
 * - `contacts_assigned_all` goes: no query plan uses it (the responsibility
 *   filter reads contact_assignees and competence_members instead);
 * - the trigram index lets its pending list (GIN fastupdate) grow to 16 MB, so
 *   a big action appends its entries instead of merging the whole list into
 *   the index while the user waits. Autovacuum's analyze merges it, and now
 *   runs after 2 % of the contacts changed rather than 10 % (a 10,000-contact
 *   action at 100,000 would otherwise stay just below the threshold). Until
 *   then a search also reads the pending list: a few milliseconds more.
 *
 * The employee behind a row (contacts.created_by/updated_by, the history's
 * actor_id) was checked per row by a foreign key: about 7 µs each, 70 ms for
 * the 10,000 history rows of one action. It is now checked once per statement
 * (kontakte_check_employees, below). The foreign keys' other side, deleting an
 * employee who is still named, cannot happen: employees are deactivated, never
 * deleted (SPEC §10), and the database now refuses deleting one. With that,
 * the index on contact_events.actor_id served nothing any more.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index contacts_competence_id_index');
  await knex.raw('create index contacts_competence_id_index on contacts (competence_id) where competence_id is not null');
  await knex.raw('drop index contacts_customer_number_unique');
  await knex.raw('create unique index contacts_customer_number_unique on contacts (lower(customer_number)) where customer_number is not null');
  await knex.raw('drop index contacts_assigned_all');

  await knex.raw('alter index contacts_search_trgm set (gin_pending_list_limit = 16384)');
  await knex.raw('alter table contacts set (autovacuum_analyze_scale_factor = 0.02)');

  await knex.raw(`
    create function kontakte_check_employees() returns trigger language plpgsql as $$
    declare
      col text;
      missing bigint;
    begin
      -- tg_argv: the columns of the rows just written that name an employee (or are null).
      foreach col in array tg_argv loop
        execute format('select n.%1$I from new_rows n where n.%1$I is not null and not exists (select 1 from users u where u.id = n.%1$I) limit 1', col)
          into missing;
        if missing is not null then
          raise foreign_key_violation using message = format('%s.%s: there is no employee %s', tg_table_name, col, missing);
        end if;
      end loop;
      return null;
    end $$`);
  for (const [table, columns] of [
    ['contacts', ['created_by', 'updated_by']],
    ['contact_events', ['actor_id']],
  ] as const) {
    for (const column of columns) await knex.raw(`alter table ${table} drop constraint ${table}_${column}_foreign`);
    for (const event of ['insert', 'update']) {
      await knex.raw(`create trigger ${table}_employees_${event} after ${event} on ${table} referencing new table as new_rows
        for each statement execute function kontakte_check_employees(${columns.map((c) => `'${c}'`).join(', ')})`);
    }
  }
  await knex.raw('drop index contact_events_actor_id_index');

  await knex.raw(`
    create function kontakte_refuse_employee_delete() returns trigger language plpgsql as $$
    begin
      raise restrict_violation using message = 'employees are deactivated, never deleted: history and contacts name them';
    end $$`);
  await knex.raw(`create trigger users_never_deleted before delete on users for each statement execute function kontakte_refuse_employee_delete()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger users_never_deleted on users');
  await knex.raw('drop function kontakte_refuse_employee_delete()');
  await knex.raw('create index contact_events_actor_id_index on contact_events (actor_id)');
  for (const [table, columns] of [
    ['contacts', ['created_by', 'updated_by']],
    ['contact_events', ['actor_id']],
  ] as const) {
    for (const event of ['insert', 'update']) await knex.raw(`drop trigger ${table}_employees_${event} on ${table}`);
    for (const column of columns) {
      await knex.raw(`alter table ${table} add constraint ${table}_${column}_foreign foreign key (${column}) references users (id)`);
    }
  }
  await knex.raw('drop function kontakte_check_employees()');

  await knex.raw('alter table contacts reset (autovacuum_analyze_scale_factor)');
  await knex.raw('alter index contacts_search_trgm reset (gin_pending_list_limit)');

  await knex.raw(`create index contacts_assigned_all on contacts (id) where assignment = 'all'`);
  await knex.raw('drop index contacts_customer_number_unique');
  await knex.raw('create unique index contacts_customer_number_unique on contacts (lower(customer_number))');
  await knex.raw('drop index contacts_competence_id_index');
  await knex.raw('create index contacts_competence_id_index on contacts (competence_id)');
}
