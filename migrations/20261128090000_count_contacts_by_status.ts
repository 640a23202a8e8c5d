import type { Knex } from 'knex';

/**
 * How many contacts each status has, kept by the database itself, so the list's
 * total for an unfiltered or status-only view ("80.000 Kontakte") is a sum of a
 * few rows instead of counting 80,000 index entries on every page.
 *
 * Statement-level triggers append one row per status and statement
 * (status, +n / −n) to `contact_status_counts`; nothing is ever updated in
 * place, so concurrent writers never wait for each other (a single counter row
 * would serialise every transaction that creates, archives or deletes contacts,
 * and deadlock with bulk jobs). A reader sums the rows in its own snapshot: the
 * total is exactly the count it would get from `contacts` at that moment. The app
 * folds the rows into one per status now and then (src/contacts/counts.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table contact_status_counts (
      id bigint generated always as identity primary key,
      status text not null,
      delta bigint not null
    )`);
  await knex.raw(`
    create function kontakte_count_statuses() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into contact_status_counts (status, delta) select status, count(*) from new_rows group by status;
      elsif tg_op = 'DELETE' then
        insert into contact_status_counts (status, delta) select status, -count(*) from old_rows group by status;
      elsif tg_op = 'UPDATE' then
        -- Only status changes add rows; editing a name adds nothing.
        insert into contact_status_counts (status, delta)
          select status, sum(delta) from (
            select status, 1 as delta from new_rows
            union all
            select status, -1 from old_rows
          ) changes
          group by status
          having sum(delta) <> 0;
      else
        delete from contact_status_counts;
      end if;
      return null;
    end $$`);
  await knex.raw(`create trigger contacts_count_insert after insert on contacts referencing new table as new_rows
    for each statement execute function kontakte_count_statuses()`);
  await knex.raw(`create trigger contacts_count_update after update on contacts referencing old table as old_rows new table as new_rows
    for each statement execute function kontakte_count_statuses()`);
  await knex.raw(`create trigger contacts_count_delete after delete on contacts referencing old table as old_rows
    for each statement execute function kontakte_count_statuses()`);
  await knex.raw(`create trigger contacts_count_truncate after truncate on contacts
    for each statement execute function kontakte_count_statuses()`);
  await knex.raw(`insert into contact_status_counts (status, delta) select status, count(*) from contacts group by status`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger contacts_count_truncate on contacts');
  await knex.raw('drop trigger contacts_count_delete on contacts');
  await knex.raw('drop trigger contacts_count_update on contacts');
  await knex.raw('drop trigger contacts_count_insert on contacts');
  await knex.raw('drop function kontakte_count_statuses()');
  await knex.raw('drop table contact_status_counts');
}
