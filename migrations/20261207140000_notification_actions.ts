import type { Knex } from 'knex';

/**
 * A summary ("Sabine Schröder hat 89 Kontakte archiviert") opens as a list of
 * its action's contacts. `action_first_event_id` and `action_last_event_id`
 * are the range of the action's history events (the summary's own `event_id`
 * is the employee's first of them); `group_id` is the temporary group
 * its employee opened it as, kept while it lasts so opening it again finds it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notifications', (t) => {
    t.bigInteger('action_first_event_id');
    t.bigInteger('action_last_event_id');
    t.bigInteger('group_id').references('groups.id').onDelete('set null');
  });
  // Deleting a temporary group (at logout, by the purge) looks here for its notification.
  await knex.raw('create index notifications_group_id on notifications (group_id) where group_id is not null');
  // A background job's summary finds the job's events through the item of its own event.
  await knex.raw('create index bulk_job_items_event_id on bulk_job_items (event_id) where event_id is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index bulk_job_items_event_id');
  await knex.schema.alterTable('notifications', (t) => {
    t.dropColumn('group_id');
    t.dropColumn('action_last_event_id');
    t.dropColumn('action_first_event_id');
  });
}
