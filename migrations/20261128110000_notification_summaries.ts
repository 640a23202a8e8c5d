import type { Knex } from 'knex';

/**
 * A notification may stand for many contacts of one action ("Max Müller hat
 * 10.000 Kontakte archiviert"): `count` is how many of the action's contacts
 * concern its employee; `contact_id` and `event_id` are the first of them.
 * One per contact (count 1) stays the rule for small actions.
 *
 * A background job is one action too: each item keeps the history event the
 * job wrote for its contact, and the job notifies about all of them at its end.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notifications', (t) => {
    t.integer('count').notNullable().defaultTo(1);
    t.check('count >= 1', [], 'notifications_count_positive');
  });
  await knex.schema.alterTable('bulk_job_items', (t) => {
    // No foreign key, like contact_id: an event gone with its contact is simply not notified about.
    t.bigInteger('event_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('bulk_job_items', (t) => {
    t.dropColumn('event_id');
  });
  await knex.schema.alterTable('notifications', (t) => {
    t.dropChecks(['notifications_count_positive']);
    t.dropColumn('count');
  });
}
