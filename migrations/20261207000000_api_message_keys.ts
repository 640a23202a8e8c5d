import type { Knex } from 'knex';

/**
 * A module that sends a message and gets no answer (a timeout, a dropped
 * connection) cannot know whether it was recorded; sent again, it was there
 * twice, and every responsible employee was told twice. With an
 * `Idempotency-Key` header the same message sent again is recorded once: the
 * key, per integration, names the event it made. The row goes with its event
 * (a deleted contact's history), and with its token.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table api_message_keys (
      token_id bigint not null references api_tokens (id) on delete cascade,
      key text not null,
      -- What was sent with the key (contact and message), to refuse the key for another message.
      request_hash text not null,
      event_id bigint references contact_events (id) on delete cascade,
      created_at timestamptz not null default now(),
      primary key (token_id, key)
    )`);
  await knex.raw('create index api_message_keys_event on api_message_keys (event_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table api_message_keys');
}
