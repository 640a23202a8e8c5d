import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('email').notNullable();
    t.text('password_hash').notNullable();
    t.text('role').notNullable().defaultTo('member');
    t.boolean('active').notNullable().defaultTo(true);
    t.text('language').notNullable().defaultTo('de');
    t.timestamps(true, true);
    t.check(`role in ('admin', 'member')`, [], 'users_role_check');
    t.check(`language in ('de', 'en')`, [], 'users_language_check');
    t.check(`email = btrim(email) and email <> ''`, [], 'users_email_trimmed');
  });
  // E-mail addresses are unique regardless of case: "Max@Firma.de" is "max@firma.de".
  await knex.raw('create unique index users_email_unique on users (lower(email))');

  // The layout connect-pg-simple expects; created here so the app never needs DDL rights at run time.
  await knex.schema.createTable('session', (t) => {
    t.string('sid').primary();
    t.json('sess').notNullable();
    t.timestamp('expire', { precision: 6 }).notNullable().index('session_expire_idx');
  });
  await knex.raw(`create index session_user_idx on session (((sess ->> 'userId')))`);

  // Failed logins, shared by every app instance: the throttle counts these per account and per address.
  await knex.schema.createTable('login_failures', (t) => {
    t.bigIncrements('id');
    t.text('email').notNullable();
    t.text('ip').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['email', 'at']);
    t.index(['ip', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('login_failures');
  await knex.schema.dropTable('session');
  await knex.schema.dropTable('users');
}
