import { useTestDatabase } from './db';
import { createUser } from './helpers';
import { createContact } from './factories';
import { insertEvent } from '../src/contacts/queries';

const t = useTestDatabase();

async function competence(name: string, memberIds: string[]): Promise<string> {
  const [row] = await t.db('competences').insert({ name }).returning('id');
  if (memberIds.length) await t.db('competence_members').insert(memberIds.map((user_id) => ({ competence_id: row.id, user_id })));
  return String(row.id);
}

async function notified(contactId: string): Promise<string[]> {
  const rows = await t.db('notifications').select('user_id').where({ contact_id: contactId }).orderBy('user_id');
  return rows.map((r) => String(r.user_id));
}

describe('notification fan-out', () => {
  it('reaches every active employee except the actor when the contact is assigned to all', async () => {
    const actor = await createUser(t.db);
    const other = await createUser(t.db);
    const third = await createUser(t.db);
    await createUser(t.db, { active: false });
    const contact = await createContact(t.db, { last_name: 'Alle' });
    await t.db('notifications').delete();
    await insertEvent(t.db, { contact_id: contact, actor_id: actor.id, kind: 'note', payload: { text: 'Hallo' } });
    expect(await notified(contact)).toEqual([other.id, third.id].sort());
  });

  it('reaches only directly assigned employees', async () => {
    const actor = await createUser(t.db);
    const assigned = await createUser(t.db);
    await createUser(t.db);
    const contact = await createContact(t.db, { last_name: 'Direkt' });
    await t.db('contacts').where({ id: contact }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert([{ contact_id: contact, user_id: assigned.id }, { contact_id: contact, user_id: actor.id }]);
    await insertEvent(t.db, { contact_id: contact, actor_id: actor.id, kind: 'note', payload: { text: 'Hallo' } });
    expect(await notified(contact)).toEqual([assigned.id]);
  });

  it('reaches the active members of the assigned competence', async () => {
    const member = await createUser(t.db);
    const inactive = await createUser(t.db);
    await createUser(t.db);
    const team = await competence('Vertrieb Süd', [member.id, inactive.id]);
    await t.db('users').where({ id: inactive.id }).update({ active: false });
    const contact = await createContact(t.db, { last_name: 'Team' });
    await t.db('contacts').where({ id: contact }).update({ assignment: 'competence', competence_id: team });
    await insertEvent(t.db, { contact_id: contact, actor_id: null, kind: 'message', payload: { text: 'Neue Chatnachricht', source: 'Chat' } });
    expect(await notified(contact)).toEqual([member.id]);
  });
});
