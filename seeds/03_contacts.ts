import type { Knex } from 'knex';
import { fakeContact, random } from './data/german-contacts';

const COUNT = 400;

/** A few hundred varied German demo contacts in all four statuses, each with its "created" event. */
export async function seed(knex: Knex): Promise<void> {
  const users = await knex('users').select('id').orderBy('id');
  const rand = random(20261127);
  const rows = Array.from({ length: COUNT }, (_, i) => {
    const creator = users[i % users.length].id;
    return { ...fakeContact(i, rand), created_by: creator, updated_by: creator };
  });
  await knex.batchInsert('contacts', rows, 200);
  await knex.raw(`
    insert into contact_events (contact_id, actor_id, kind, payload, created_at)
    select id, created_by, 'created', jsonb_build_object('status', status), created_at from contacts order by created_at`);
  // Demo numbers were typed as K-000001 …: let a contacts number circle (if any) continue after them.
  if (await knex.schema.hasTable('number_circles')) {
    await knex('number_circles').where({ target: 'contacts', prefix: 'K-' }).update({ next_value: COUNT + 1 });
  }
}
