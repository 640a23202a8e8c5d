import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs } from './helpers';
import { createContact } from './factories';

const t = useTestDatabase();

function names(html: string): string[] {
  return [...html.matchAll(/<td><a href="\/contacts\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);
}

async function group(fields: Record<string, unknown>): Promise<string> {
  const [row] = await t.db('groups').insert({ name: 'Gruppe', ...fields }).returning('id');
  return String(row.id);
}

describe('the list inside a group (?group=ID)', () => {
  it('shows the members of a static group, whatever their status, combinable with the search', async () => {
    const me = await createUser(t.db);
    const a = await createContact(t.db, { last_name: 'Anton', status: 'customer' });
    const b = await createContact(t.db, { last_name: 'Berta', status: 'archived' });
    await createContact(t.db, { last_name: 'Cäsar' });
    const id = await group({ kind: 'static' });
    await t.db('group_members').insert([{ group_id: id, contact_id: a }, { group_id: id, contact_id: b }]);
    const { agent } = await loginAs(buildApp(t.db), me.email);
    expect(names((await agent.get(`/contacts?group=${id}`)).text)).toEqual(['Testperson Anton', 'Testperson Berta']);
    expect(names((await agent.get(`/contacts?group=${id}&q=bert`)).text)).toEqual(['Testperson Berta']);
    expect(names((await agent.get(`/contacts?group=${id}&status=customer`)).text)).toEqual(['Testperson Anton']);
    // The filter form ticks no status inside a group: what it sends along (live search, "Alle … auswählen",
    // the bulk actions) does not narrow the group to prospects and customers.
    const page = await agent.get(`/contacts?group=${id}`);
    expect(page.text).not.toMatch(/name="status" value="[a-z]+" checked/);
    expect(page.text).toContain('Ohne Auswahl: alle Mitglieder der Gruppe');
    // Its filter cannot be saved as a dynamic group (the saved filter holds no group): not offered, and said why.
    expect(page.text).not.toContain('class="button save-dynamic"');
    expect(page.text).toContain('Innerhalb einer Gruppe lässt sich der Filter nicht als dynamische Gruppe speichern');
    expect((await agent.get('/contacts')).text).toContain('class="button save-dynamic"');
    expect((await agent.get('/contacts')).text).toMatch(/name="status" value="prospect" checked/);
  });

  it('evaluates a dynamic group live from its stored filter, so membership follows the data', async () => {
    const me = await createUser(t.db);
    await createContact(t.db, { last_name: 'Kölner', city: 'Köln' });
    const later = await createContact(t.db, { last_name: 'Bonner', city: 'Bonn' });
    const id = await group({ kind: 'dynamic', filter: JSON.stringify({ city: 'köln' }) });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    expect(names((await agent.get(`/contacts?group=${id}`)).text)).toEqual(['Testperson Kölner']);
    await t.db('contacts').where({ id: later }).update({ city: 'Köln-Deutz' });
    expect(names((await agent.get(`/contacts?group=${id}`)).text)).toEqual(['Testperson Bonner', 'Testperson Kölner']);
  });

  it("keeps another employee's temporary group private, and answers 404 for a deleted group", async () => {
    const me = await createUser(t.db);
    const other = await createUser(t.db);
    const id = await group({ kind: 'temporary', owner_id: other.id, expires_at: t.db.raw(`now() + interval '1 hour'`) });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    expect((await agent.get(`/contacts?group=${id}`)).status).toBe(404);
    expect((await agent.get('/contacts?group=424242')).status).toBe(404);
  });
});
