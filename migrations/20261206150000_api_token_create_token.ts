import type { Knex } from 'knex';

/**
 * The form that makes an API token carries a one-time `create_token`: sent
 * again (the browser's "Formular erneut senden?" after F5 on the page that
 * shows the new key), it makes no second token.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table api_tokens add column create_token uuid');
  await knex.raw('create unique index api_tokens_create_token_unique on api_tokens (create_token) where create_token is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index api_tokens_create_token_unique');
  await knex.raw('alter table api_tokens drop column create_token');
}
