import type { Knex } from 'knex';

/**
 * The kept per-status counts (20261128090000) also say how many contacts of
 * each status are assigned to all (`for_all`). An employee is responsible for
 * every one of them, and counting them was most of the work of "Meine
 * Kontakte" on the start page and of the list's "Mir zugewiesen" total: 53,000
 * index entries for every start page at 100,000 contacts with half for all.
 * Now a sum over a few rows; only the employee's own contacts (by name, by
 * competence) are counted.
 *
 * The triggers append rows per status and kind as before per status: a change
 * of assignment between "all" and anything else adds a row too. The rows are
 * rebuilt from the contacts, which are locked against writes meanwhile.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('lock table contacts in share mode');
  // No default: an instance still running the previous version (rolling upgrade) folds the rows
  // per status only; its insert must fail (its fold is then skipped), not write every row as
  // "not for all" and take the contacts for all out of every employee's count for good.
  await knex.raw('alter table contact_status_counts add column for_all boolean not null default false');
  await knex.raw('alter table contact_status_counts alter column for_all drop default');
  await knex.raw(countFunction(`status, assignment = 'all'`, 'status, for_all'));
  await knex.raw('delete from contact_status_counts');
  await knex.raw(`insert into contact_status_counts (status, for_all, delta) select status, assignment = 'all', count(*) from contacts group by 1, 2`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('lock table contacts in share mode');
  await knex.raw(countFunction('status', 'status'));
  await knex.raw('delete from contact_status_counts');
  await knex.raw('alter table contact_status_counts drop column for_all');
  await knex.raw(`insert into contact_status_counts (status, delta) select status, count(*) from contacts group by status`);
}

/** The triggers' function, counting per `key` (an expression over a contact's row) into `columns`. */
function countFunction(key: string, columns: string): string {
  return `
    create or replace function kontakte_count_statuses() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into contact_status_counts (${columns}, delta) select ${key}, count(*) from new_rows group by ${key};
      elsif tg_op = 'DELETE' then
        insert into contact_status_counts (${columns}, delta) select ${key}, -count(*) from old_rows group by ${key};
      elsif tg_op = 'UPDATE' then
        -- Only changes of what is counted add rows; editing a name adds nothing.
        insert into contact_status_counts (${columns}, delta)
          select ${columns}, sum(delta) from (
            select ${key}, 1 from new_rows
            union all
            select ${key}, -1 from old_rows
          ) as changes (${columns}, delta)
          group by ${columns}
          having sum(delta) <> 0;
      else
        delete from contact_status_counts;
      end if;
      return null;
    end $$`;
}
