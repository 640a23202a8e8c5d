import type { Knex } from 'knex';

/**
 * A contact's events by id instead of by creation time: the history pages
 * with "before this event's id" and now also orders by id (the order in which
 * events were written), and the start page reads an employee's few contacts'
 * newest events by id through it (src/dashboard/queries.ts). By time, each
 * such read fetched all of a contact's events and sorted them. The index
 * replaces the one by time, so writing an event costs no more.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index contact_events_contact_id_id_index on contact_events (contact_id, id)');
  await knex.raw('drop index contact_events_contact_id_created_at_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index contact_events_contact_id_created_at_index on contact_events (contact_id, created_at)');
  await knex.raw('drop index contact_events_contact_id_id_index');
}
