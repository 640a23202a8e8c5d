import type { Knex } from 'knex';

/**
 * Allowed in a prefix or suffix: ASCII letters, digits, `-`, `_`, `/`, `.`, and
 * spaces inside (customer numbers are stored trimmed). Anything else (quotes,
 * `%`, umlauts whose case folding differs between systems) would make numbers
 * hard to type, search or compare case-insensitively. The zod schema says the same.
 */
// `{0,1}` rather than `?`, which knex would read as a binding.
const affixPattern = `^([A-Za-z0-9_./-]([A-Za-z0-9_./ -]*[A-Za-z0-9_./-]){0,1}){0,1}$`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('number_circles', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('prefix').notNullable().defaultTo('');
    t.text('suffix').notNullable().defaultTo('');
    t.integer('digits').notNullable().defaultTo(5);
    t.bigInteger('next_value').notNullable().defaultTo(1);
    t.text('target').notNullable();
    t.boolean('is_default').notNullable().defaultTo(false);
    t.boolean('active').notNullable().defaultTo(true);
    // Numbers handed out by this circle (committed allocations): a circle that issued any cannot be deleted.
    t.bigInteger('issued_count').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`name = btrim(name) and name <> ''`, [], 'number_circles_name_trimmed');
    t.check(`target in ('contacts', 'groups')`, [], 'number_circles_target_check');
    t.check(`digits between 1 and 12`, [], 'number_circles_digits_range');
    t.check(`next_value >= 1`, [], 'number_circles_next_value_positive');
    t.check(`issued_count >= 0`, [], 'number_circles_issued_count_check');
    t.check(`char_length(prefix) <= 10 and prefix ~ '${affixPattern}'`, [], 'number_circles_prefix_check');
    t.check(`char_length(suffix) <= 10 and suffix ~ '${affixPattern}'`, [], 'number_circles_suffix_check');
    // "Nummer erzeugen" uses the default circle; a deactivated one must not hand out numbers.
    t.check(`active or not is_default`, [], 'number_circles_default_is_active');
  });
  // At most one default circle per target.
  await knex.raw('create unique index number_circles_one_default on number_circles (target) where is_default');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('number_circles');
}
