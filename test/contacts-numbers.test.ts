import { randomUUID } from 'node:crypto';
import { useTestDatabase } from './db';
import { buildApp, createUser, formFields, loginAs, withStatements } from './helpers';
import { createContact } from './factories';

const t = useTestDatabase();

async function circle(next = 1): Promise<void> {
  await t.db('number_circles').insert({ name: 'Kundennummern', prefix: 'K-', suffix: '', digits: 5, next_value: next, target: 'contacts', is_default: true, active: true });
}

async function login(role: 'admin' | 'member' = 'member') {
  const user = await createUser(t.db, { role });
  return { user, ...(await loginAs(buildApp(t.db), user.email)) };
}

const form = (csrf: string, fields: Record<string, string> = {}) => ({ _csrf: csrf, last_name: 'Neu', status: 'prospect', create_token: randomUUID(), ...fields });

describe('"Nummer erzeugen" in the create dialog', () => {
  it('is disabled with the reason when no default circle exists, with a link to the settings for admins', async () => {
    const { agent } = await login('admin');
    const dialog = await agent.get('/contacts/new').set('HX-Request', 'true');
    expect(dialog.text).toMatch(/<button type="button" disabled title="Für Kontakte ist kein Standard-Nummernkreis eingerichtet/);
    expect(dialog.text).toContain('href="/settings/number-circles">Nummernkreis in den Einstellungen anlegen');
  });

  it('shows the predicted number without consuming it, and the save allocates it', async () => {
    await circle();
    const { agent, csrf, user } = await login();
    const preview = await agent.get('/contacts/number-field?generate=1').set('HX-Request', 'true');
    expect(preview.text).toMatch(/value="K-00001" readonly/);
    expect(preview.text).toContain('<input type="hidden" name="generate_number" value="1">');
    expect((await t.db('number_circles').first()).next_value).toBe('1');
    const res = await agent.post('/contacts').type('form').send(form(csrf, { generate_number: '1', customer_number: 'ignoriert' }));
    expect(res.status).toBe(303);
    const contact = await t.db('contacts').first();
    expect(contact.customer_number).toBe('K-00001');
    expect(await t.db('contact_events').where({ contact_id: contact.id, kind: 'number_assigned' }).first()).toMatchObject({ actor_id: user.id, payload: { number: 'K-00001' } });
    expect((await agent.get(`/contacts/${contact.id}`)).text).toContain('wurde mit der Kundennummer K-00001 erstellt.');
  });

  it('gives the next free number when the predicted one was typed by someone else meanwhile, and says which', async () => {
    await circle();
    const { agent, csrf } = await login();
    await agent.get('/contacts/number-field?generate=1');
    await createContact(t.db, { last_name: 'Schneller', customer_number: 'k-00001' });
    await agent.post('/contacts').type('form').send(form(csrf, { generate_number: '1', last_name: 'Langsamer' }));
    expect((await t.db('contacts').where({ last_name: 'Langsamer' }).first()).customer_number).toBe('K-00002');
    expect((await agent.get('/contacts')).text).toContain('Kontakt Langsamer wurde mit der Kundennummer K-00002 erstellt.');
  });

  it('gives 20 parallel saves 20 distinct consecutive numbers', async () => {
    await circle(41);
    const { agent, csrf } = await login();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => agent.post('/contacts').type('form').send(form(csrf, { generate_number: '1', last_name: `Parallel${i}` }))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(303));
    const numbers = (await t.db('contacts').select('customer_number').orderBy('customer_number')).map((r) => r.customer_number);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => `K-${String(41 + i).padStart(5, '0')}`));
    expect((await t.db('number_circles').first()).next_value).toBe('61');
  });

  it('keeps everything typed and says why when the default circle disappeared before saving', async () => {
    const { agent, csrf } = await login();
    const res = await agent.post('/contacts').type('form').send(form(csrf, { generate_number: '1', first_name: 'Zoë' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Für Kontakte ist kein Standard-Nummernkreis eingerichtet.');
    expect(res.text).toContain('value="Zoë"');
    expect(await t.db('contacts')).toHaveLength(0);
  });
});

describe('"Nummer erzeugen" on the master data page', () => {
  it('assigns the next free number directly, recorded in the history and told to those responsible', async () => {
    await circle();
    const colleague = await createUser(t.db);
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Ohne', status: 'customer' });
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toMatch(/<button type="submit" form="master-form" formaction="\/contacts\/\d+\/number">Nummer erzeugen<\/button>/);
    const res = await agent.post(`/contacts/${id}/number`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect((await t.db('contacts').where({ id }).first()).customer_number).toBe('K-00001');
    const after = await agent.get(`/contacts/${id}`);
    expect(after.text).toContain('Kundennummer K-00001 wurde vergeben.');
    expect(after.text).toContain('hat die Kundennummer K-00001 vergeben');
    expect(after.text).not.toContain('formaction="/contacts/');
    // Told to those responsible (the contact is for all): the colleague, not the one who pressed the button.
    const event = await t.db('contact_events').where({ contact_id: id, kind: 'number_assigned' }).first();
    expect((await t.db('notifications').where({ event_id: event.id })).map((n) => String(n.user_id))).toEqual([colleague.id]);
  });

  it('saves what was typed in the master data first, rather than losing it, and refuses like "Speichern" when that is stale', async () => {
    await circle();
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Ohne', city: 'Köln', status: 'customer' });
    const page = await agent.get(`/contacts/${id}`);
    // The button sends the master data form to the number's address; Enter in a field still saves (the form's first button).
    const masterForm = page.text.slice(page.text.indexOf('<form id="master-form"'));
    expect(masterForm.match(/<button[^>]*>[^<]*<\/button>/)![0]).toBe('<button type="submit" hidden tabindex="-1">Stammdaten speichern</button>');
    const form = { ...formFields(page.text, `/contacts/${id}`), city: 'Neustadt', street: 'Hauptstr. 1' };
    const res = await agent.post(`/contacts/${id}/number`).type('form').send(form);
    expect(res.status).toBe(303);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ city: 'Neustadt', street: 'Hauptstr. 1', customer_number: 'K-00001' });
    expect((await agent.get(`/contacts/${id}`)).text).toContain('Die Änderungen wurden gespeichert und die Kundennummer K-00001 vergeben.');

    // A number typed by hand is saved with the form and stays: none is generated on top.
    const typed = await createContact(t.db, { last_name: 'Getippt', status: 'customer' });
    const typedForm = { ...formFields((await agent.get(`/contacts/${typed}`)).text, `/contacts/${typed}`), city: 'Bonn', customer_number: 'K-77777' };
    const kept = await agent.post(`/contacts/${typed}/number`).type('form').send(typedForm);
    expect(kept.status).toBe(303);
    expect(await t.db('contacts').where({ id: typed }).first()).toMatchObject({ city: 'Bonn', customer_number: 'K-77777' });
    expect((await agent.get(`/contacts/${typed}`)).text).toContain('Die Änderungen wurden gespeichert.');
    expect((await t.db('number_circles').first()).next_value).toBe('2');

    const other = await createContact(t.db, { last_name: 'Zwei', city: 'Köln', status: 'customer' });
    const stale = { ...formFields((await agent.get(`/contacts/${other}`)).text, `/contacts/${other}`), city: 'Bonn' };
    await t.db('contacts').where({ id: other }).update({ city: 'Aachen', version: 2 });
    const refused = await agent.post(`/contacts/${other}/number`).type('form').send(stale);
    expect(refused.status).toBe(409);
    expect(await t.db('contacts').where({ id: other }).first()).toMatchObject({ city: 'Aachen', customer_number: null });
    expect((await t.db('number_circles').first()).next_value).toBe('2');
  });

  it('is disabled with the reason while no default circle exists, known from the statement that reads the assignment options', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Ohne', status: 'customer' });
    const { result: page, statements } = await withStatements(t.db, () => agent.get(`/contacts/${id}`));
    expect(page.text).toMatch(/<button type="submit" form="master-form" formaction="\/contacts\/\d+\/number" disabled title="Für Kontakte ist kein Standard-Nummernkreis eingerichtet\.[^"]*">Nummer erzeugen<\/button>/);
    expect(statements.filter((sql) => sql.includes('"number_circles"'))).toEqual([expect.stringMatching(/from users where active[\s\S]*"number_circles"/)]);
  });

  it('is refused for inbox and archived contacts and burns no number', async () => {
    await circle();
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Import', status: 'inbox' });
    expect((await agent.get(`/contacts/${id}`)).text).toMatch(/formaction="\/contacts\/\d+\/number" disabled title="Kontakte im Eingang/);
    const res = await agent.post(`/contacts/${id}/number`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(409);
    expect((await t.db('contacts').where({ id }).first()).customer_number).toBeNull();
    expect((await t.db('number_circles').first()).next_value).toBe('1');
  });
});
