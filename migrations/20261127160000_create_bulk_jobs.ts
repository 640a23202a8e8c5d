import type { Knex } from 'knex';

/**
 * Bulk actions on large "all matching" selections run in the background. The
 * selected ids are fixed when the job is queued; each chunk is applied and
 * ticked off in one transaction, so a restart resumes exactly where it stopped
 * and every app instance can show the progress.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bulk_jobs', (t) => {
    t.bigIncrements('id');
    t.bigInteger('actor_id').references('users.id');
    t.text('action').notNullable();
    t.jsonb('params').notNullable().defaultTo('{}');
    t.integer('total').notNullable();
    t.integer('done').notNullable().defaultTo(0);
    t.text('state').notNullable().defaultTo('queued');
    t.jsonb('result').notNullable().defaultTo('{}');
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.check(`state in ('queued', 'running', 'done', 'failed')`, [], 'bulk_jobs_state_check');
  });
  await knex.schema.createTable('bulk_job_items', (t) => {
    t.bigInteger('job_id').notNullable().references('bulk_jobs.id').onDelete('cascade');
    // No foreign key: a contact deleted meanwhile simply is not there any more when its chunk runs.
    t.bigInteger('contact_id').notNullable();
    t.boolean('done').notNullable().defaultTo(false);
    t.primary(['job_id', 'contact_id']);
  });
  await knex.raw('create index bulk_job_items_pending on bulk_job_items (job_id, contact_id) where not done');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('bulk_job_items');
  await knex.schema.dropTable('bulk_jobs');
}
