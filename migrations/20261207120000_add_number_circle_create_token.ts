import type { Knex } from 'knex';

/**
 * The "Neuer Nummernkreis" form carries a token like the contact and group
 * dialogs: a second submit of the same form (double click, or a POST sent
 * again) finds the circle the first one created instead of making another.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('number_circles', (t) => {
    t.uuid('create_token').unique();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('number_circles', (t) => {
    t.dropColumn('create_token');
  });
}
