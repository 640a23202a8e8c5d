import type { Knex } from 'knex';

/**
 * The "Neue Gruppe" dialog carries a token like the contact dialog: a second
 * submit of the same form (double click, or a resent POST without JavaScript)
 * finds the group the first one created instead of making another.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('groups', (t) => {
    t.uuid('create_token').unique();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('groups', (t) => {
    t.dropColumn('create_token');
  });
}
