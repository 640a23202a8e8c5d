import type { Knex } from 'knex';

/**
 * The group sidebar shows every group's member count on every list page.
 * Counting the memberships each time costs in proportion to all members of
 * all groups (150,000 memberships: ~15 ms, more than the list itself), so the
 * count is kept on the group, exact, by statement-level triggers: one update
 * per statement that adds or removes memberships, however many rows, and the
 * deletes cascading from contacts or groups included (PostgreSQL hands such a
 * cascade to the trigger as one transition table). Groups are locked in id
 * order first, so two statements touching the same groups cannot deadlock
 * each other here.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('groups', (t) => {
    t.integer('member_count').notNullable().defaultTo(0);
  });
  await knex.raw(`update groups g set member_count = (select count(*) from group_members m where m.group_id = g.id)`);
  for (const [name, table, sign] of [
    ['added', 'new table', '+'],
    ['removed', 'old table', '-'],
  ]) {
    await knex.raw(`
      create function group_members_${name}() returns trigger language plpgsql as $$
      begin
        perform 1 from groups where id in (select group_id from ${name}) order by id for update;
        update groups g set member_count = g.member_count ${sign} d.n
        from (select group_id, count(*) as n from ${name} group by group_id) d
        where g.id = d.group_id;
        return null;
      end $$`);
    await knex.raw(`
      create trigger group_members_${name} after ${name === 'added' ? 'insert' : 'delete'} on group_members
      referencing ${table} as ${name} for each statement execute function group_members_${name}()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const name of ['added', 'removed']) {
    await knex.raw(`drop trigger group_members_${name} on group_members`);
    await knex.raw(`drop function group_members_${name}()`);
  }
  await knex.schema.alterTable('groups', (t) => {
    t.dropColumn('member_count');
  });
}
