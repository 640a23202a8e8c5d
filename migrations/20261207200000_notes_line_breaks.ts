import type { Knex } from 'knex';

/**
 * Forms now send line breaks as one character (src/web/security.ts). Notes saved
 * before hold CR LF: without this, the next save of such a contact would change its
 * notes in the history though nobody touched them. No version bump: nothing a clerk
 * sees changes. (No "?" in the SQL: knex makes every one a placeholder, bindings or not.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`update contacts set notes = replace(replace(notes, E'\\r\\n', E'\\n'), E'\\r', E'\\n') where notes like E'%\\r%'`);
}

export async function down(): Promise<void> {
  // Nothing to undo: a line break is a line break.
}
