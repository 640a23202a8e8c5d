import type { Knex } from 'knex';

/**
 * Groups (SPEC §7): static (explicit members), dynamic (a saved list filter,
 * evaluated live) and temporary (a selection kept for one-off actions, owned
 * by one employee, gone at logout or after 24 h). Assigned like contacts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('groups', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('group_number');
    t.text('kind').notNullable().defaultTo('static');
    // The list's filter parameters (src/contacts/schema.ts ListFilter), for dynamic groups.
    t.jsonb('filter');
    t.bigInteger('owner_id').references('users.id').onDelete('cascade');
    t.timestamp('expires_at', { useTz: true });
    t.text('assignment').notNullable().defaultTo('all');
    t.bigInteger('competence_id').references('competences.id');
    t.bigInteger('created_by').references('users.id');
    t.timestamps(true, true);
    t.check(`kind in ('static', 'dynamic', 'temporary')`, [], 'groups_kind_check');
    t.check(`(kind = 'dynamic') = (filter is not null)`, [], 'groups_dynamic_filter');
    t.check(`(kind = 'temporary') = (owner_id is not null and expires_at is not null)`, [], 'groups_temporary_owner');
    t.check(`name = btrim(name) and name <> ''`, [], 'groups_name_trimmed');
    t.check(`group_number = btrim(group_number) and group_number <> ''`, [], 'groups_number_trimmed');
    t.check(`assignment in ('all', 'users', 'competence')`, [], 'groups_assignment_check');
    t.check(`(assignment = 'competence') = (competence_id is not null)`, [], 'groups_assignment_competence');
    t.index(['competence_id']);
    t.index(['owner_id']);
  });
  await knex.raw('create unique index groups_number_unique on groups (lower(group_number))');
  await knex.raw(`create index groups_expiry on groups (expires_at) where kind = 'temporary'`);

  await knex.schema.createTable('group_members', (t) => {
    t.bigInteger('group_id').notNullable().references('groups.id').onDelete('cascade');
    t.bigInteger('contact_id').notNullable().references('contacts.id').onDelete('cascade');
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['group_id', 'contact_id']);
    t.index(['contact_id']);
  });

  await knex.schema.createTable('group_assignees', (t) => {
    t.bigInteger('group_id').notNullable().references('groups.id').onDelete('cascade');
    t.bigInteger('user_id').notNullable().references('users.id');
    t.primary(['group_id', 'user_id']);
    t.index(['user_id']);
  });

  // What permanent deletion leaves behind: who deleted how many, which names and numbers, when.
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.bigInteger('actor_id').references('users.id');
    t.text('action').notNullable();
    t.integer('count').notNullable().defaultTo(0);
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
  await knex.schema.dropTable('group_assignees');
  await knex.schema.dropTable('group_members');
  await knex.schema.dropTable('groups');
}
