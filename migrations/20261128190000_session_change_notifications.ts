import type { Knex } from 'knex';

/**
 * Each app instance keeps the sessions it has read in memory (src/web/session-cache.ts)
 * and forgets one when any instance changes or deletes it: a changed or
 * deleted session row announces itself on the channel `kontakte_sessions`
 * (by the md5 of its id: the id itself is a secret), and any change to the
 * employees announces `*` (forget all: a session carries its employee's
 * name, role, language and whether still active).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function kontakte_session_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('kontakte_sessions', md5(old.sid));
      return null;
    end $$`);
  await knex.raw(`create trigger session_changed after update or delete on session for each row execute function kontakte_session_changed()`);
  await knex.raw(`
    create function kontakte_employees_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('kontakte_sessions', '*');
      return null;
    end $$`);
  await knex.raw(
    `create trigger users_changed_sessions after update or delete or truncate on users for each statement execute function kontakte_employees_changed()`,
  );
  await knex.raw(
    `create trigger session_truncated after truncate on session for each statement execute function kontakte_employees_changed()`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger session_truncated on session');
  await knex.raw('drop trigger users_changed_sessions on users');
  await knex.raw('drop function kontakte_employees_changed()');
  await knex.raw('drop trigger session_changed on session');
  await knex.raw('drop function kontakte_session_changed()');
}
