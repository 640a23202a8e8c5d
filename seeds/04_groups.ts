import type { Knex } from 'knex';

/** Demo groups: two static ones with members and a dynamic one, numbered G-001 … G-003. */
export async function seed(knex: Knex): Promise<void> {
  const users = await knex('users').select('id', 'email').orderBy('id');
  const admin = users[0].id;
  const max = users.find((u) => u.email === 'max.mueller@kontakte.example')?.id ?? admin;
  const [messe, newsletter] = await knex('groups')
    .insert([
      { name: 'Messe Hannover 2026', group_number: 'G-001', kind: 'static', created_by: admin },
      { name: 'Newsletter Frühjahr', group_number: 'G-002', kind: 'static', assignment: 'users', created_by: max },
      // The list's own filter parameters (src/contacts/schema.ts ListFilter), evaluated live.
      { name: 'Kunden in München', group_number: 'G-003', kind: 'dynamic', filter: JSON.stringify({ city: 'München', status: ['customer'] }), created_by: admin },
    ])
    .returning('id');
  await knex('group_assignees').insert({ group_id: newsletter.id, user_id: max });
  // Members are prospects and customers only, as the capability table allows.
  await knex.raw(
    `insert into group_members (group_id, contact_id)
     select ?, id from contacts where status in ('prospect', 'customer') and country = 'DE' order by id limit 24`,
    [messe.id],
  );
  await knex.raw(
    `insert into group_members (group_id, contact_id)
     select ?, id from contacts where status = 'customer' and email is not null order by id desc limit 37`,
    [newsletter.id],
  );
  // Demo numbers were typed by hand: let the groups number circle (if any) continue after them.
  if (await knex.schema.hasTable('number_circles')) {
    await knex('number_circles').where({ target: 'groups', prefix: 'G-' }).update({ next_value: 4 });
  }
}
