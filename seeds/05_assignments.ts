import type { Knex } from 'knex';

/**
 * Who is responsible for the demo contacts, so that "Mir zugewiesen", the
 * competence filter, the dashboard and the notifications show something:
 * two competences with members, and of the prospects and customers (only
 * they can be assigned) a quarter each to a competence, a sixth to employees
 * by name; the rest stay with all employees. As if set when they were created.
 */
export async function seed(knex: Knex): Promise<void> {
  const users = Object.fromEntries((await knex('users').select('id', 'email')).map((u) => [u.email.split('@')[0], u.id]));
  const [south, service] = await knex('competences').insert([{ name: 'Vertrieb Süd' }, { name: 'Kundenservice' }]).returning('id');
  await knex('competence_members').insert([
    { competence_id: south.id, user_id: users['max.mueller'] },
    { competence_id: south.id, user_id: users['sabine.schroeder'] },
    { competence_id: service.id, user_id: users['juergen.weiss'] },
    { competence_id: service.id, user_id: users['emily.clarke'] },
  ]);
  const active = `status in ('prospect', 'customer')`;
  await knex.raw(`update contacts set assignment = 'competence', competence_id = ? where ${active} and id % 4 = 0`, [south.id]);
  await knex.raw(`update contacts set assignment = 'competence', competence_id = ? where ${active} and id % 4 = 1`, [service.id]);
  const direct = await knex.raw(`update contacts set assignment = 'users' where ${active} and assignment = 'all' and id % 3 = 2 returning id`);
  const ids: string[] = direct.rows.map((r: { id: string }) => r.id);
  // Max alone, Sabine alone, or both.
  const assignees = ids.flatMap((id, i) =>
    i % 3 === 0 ? [{ contact_id: id, user_id: users['max.mueller'] }]
    : i % 3 === 1 ? [{ contact_id: id, user_id: users['sabine.schroeder'] }]
    : [{ contact_id: id, user_id: users['max.mueller'] }, { contact_id: id, user_id: users['sabine.schroeder'] }],
  );
  if (assignees.length) await knex.batchInsert('contact_assignees', assignees, 500);
}
