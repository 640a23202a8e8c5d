import type { Knex } from 'knex';

/**
 * Who is responsible for a contact (SPEC §5): all employees, some employees, or
 * one competence (team). The same columns serve groups later, so the
 * assignment is one reusable piece (src/assignment/).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('competences', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.timestamps(true, true);
    t.check(`name = btrim(name) and name <> ''`, [], 'competences_name_trimmed');
  });
  await knex.raw('create unique index competences_name_unique on competences (lower(name))');

  await knex.schema.createTable('competence_members', (t) => {
    t.bigInteger('competence_id').notNullable().references('competences.id').onDelete('cascade');
    t.bigInteger('user_id').notNullable().references('users.id').onDelete('cascade');
    t.primary(['competence_id', 'user_id']);
    t.index(['user_id', 'competence_id']);
  });

  await knex.schema.alterTable('contacts', (t) => {
    t.text('assignment').notNullable().defaultTo('all');
    // No cascade: a competence with contacts cannot be deleted (the settings page offers to reassign them).
    t.bigInteger('competence_id').references('competences.id');
    t.check(`assignment in ('all', 'users', 'competence')`, [], 'contacts_assignment_check');
    t.check(`(assignment = 'competence') = (competence_id is not null)`, [], 'contacts_assignment_competence');
    t.index(['competence_id']);
  });
  await knex.raw(`create index contacts_assigned_all on contacts (id) where assignment = 'all'`);

  await knex.schema.createTable('contact_assignees', (t) => {
    t.bigInteger('contact_id').notNullable().references('contacts.id').onDelete('cascade');
    t.bigInteger('user_id').notNullable().references('users.id');
    t.primary(['contact_id', 'user_id']);
    t.index(['user_id', 'contact_id']);
  });

  await knex.schema.alterTable('users', (t) => {
    t.boolean('browser_notifications').notNullable().defaultTo(false);
  });

  await knex.schema.alterTable('contact_events', (t) => {
    t.index(['actor_id']);
  });

  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id');
    t.bigInteger('user_id').notNullable().references('users.id').onDelete('cascade');
    t.bigInteger('contact_id').notNullable().references('contacts.id').onDelete('cascade');
    t.bigInteger('event_id').notNullable().references('contact_events.id').onDelete('cascade');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('read_at', { useTz: true });
    t.index(['user_id', 'id']);
  });
  await knex.raw('create index notifications_unread on notifications (user_id, id) where read_at is null');

  // Integrations (e.g. the chat module) post messages with a token; only its hash is stored.
  await knex.schema.createTable('api_tokens', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('token_hash').notNullable().unique();
    t.bigInteger('created_by').references('users.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_tokens');
  await knex.schema.dropTable('notifications');
  await knex.schema.alterTable('contact_events', (t) => t.dropIndex(['actor_id']));
  await knex.schema.alterTable('users', (t) => t.dropColumn('browser_notifications'));
  await knex.schema.dropTable('contact_assignees');
  await knex.schema.alterTable('contacts', (t) => {
    t.dropChecks(['contacts_assignment_check', 'contacts_assignment_competence']);
    t.dropColumn('competence_id');
    t.dropColumn('assignment');
  });
  await knex.schema.dropTable('competence_members');
  await knex.schema.dropTable('competences');
}
