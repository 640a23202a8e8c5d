import { randomUUID } from 'node:crypto';
import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs } from './helpers';
import { createContact } from './factories';

const t = useTestDatabase();

async function login() {
  const user = await createUser(t.db, { name: 'Sabine Schröder' });
  return { user, ...(await loginAs(buildApp(t.db), user.email)) };
}

const valid = () => ({ salutation: 'mr', first_name: 'Max', last_name: 'Müller', company: 'Bäckerei Müller GmbH', email: 'max@mueller.de', phone: '+49 89 1234567', status: 'prospect', customer_number: '', create_token: randomUUID() });

describe('creating a contact', () => {
  it('offers the "Kontakt erstellen" dialog as a fragment for htmx and as a page without JavaScript', async () => {
    const { agent } = await login();
    const fragment = await agent.get('/contacts/new').set('HX-Request', 'true');
    expect(fragment.text).toMatch(/^<dialog data-modal/);
    expect(fragment.text).toContain('Kontakt erstellen');
    expect(fragment.text).toMatch(/name="create_token" value="[0-9a-f-]{36}"/);
    const page = await agent.get('/contacts/new');
    expect(page.text).toContain('<html');
    expect(page.text).toMatch(/<form method="post" autocomplete="off" action="\/contacts"/);
  });

  it('saves the contact with its "created" history event and goes to its master data', async () => {
    const { agent, csrf, user } = await login();
    const res = await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf });
    expect(res.status).toBe(303);
    const contact = await t.db('contacts').first();
    expect(res.headers.location).toBe(`/contacts/${contact.id}`);
    expect(contact).toMatchObject({ salutation: 'mr', first_name: 'Max', last_name: 'Müller', email: 'max@mueller.de', status: 'prospect', customer_number: null, version: 1, created_by: user.id });
    const events = await t.db('contact_events').where({ contact_id: contact.id });
    expect(events).toMatchObject([{ kind: 'created', actor_id: user.id }]);
    const page = await agent.get(res.headers.location);
    expect(page.text).toContain('Kontakt Max Müller wurde erstellt.');
  });

  it('from the dialog, closes it and shows the new contact in the list with a message', async () => {
    const { agent, csrf } = await login();
    await createContact(t.db, { last_name: 'Aaa' });
    const res = await agent
      .post('/contacts')
      .set('HX-Request', 'true')
      .set('HX-Current-URL', 'http://intranet/contacts?q=aaa')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ ...valid(), status: 'customer' });
    expect(res.status).toBe(200);
    expect(res.headers['hx-retarget']).toBe('#results');
    const events = JSON.parse(res.headers['hx-trigger']);
    expect(events.closeDialog).toBe(true);
    expect(events.showMessage.text).toBe('Kontakt Max Müller wurde erstellt.');
    expect(res.text).toMatch(/class="is-new"[\s\S]*Max Müller[\s\S]*badge-new/);
    expect(res.text).toContain('Testperson Aaa');
    expect((await t.db('contacts').where({ last_name: 'Müller' }).first()).status).toBe('customer');

    // A page address PostgreSQL could not take (a NUL): the plain list behind the dialog, not a 500 after saving.
    const odd = await agent
      .post('/contacts')
      .set('HX-Request', 'true')
      .set('HX-Current-URL', 'http://intranet/contacts?q=a%00a')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ ...valid(), last_name: 'Nullmann' });
    expect(odd.status).toBe(200);
    expect(odd.text).toContain('Max Nullmann');
  });

  it('creates one contact, not two, when "Speichern" is clicked twice', async () => {
    const { agent, csrf } = await login();
    const form = { ...valid(), _csrf: csrf };
    const [a, b] = await Promise.all([agent.post('/contacts').type('form').send(form), agent.post('/contacts').type('form').send(form)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(a.headers.location).toBe(b.headers.location);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '1' });
    expect(await t.db('contact_events').count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('answers the same form sent again later, with a typed number, with the contact it made', async () => {
    const { agent, csrf } = await login();
    const form = { ...valid(), customer_number: 'DK-4711', _csrf: csrf };
    const first = await agent.post('/contacts').type('form').send(form);
    expect(first.status).toBe(303);
    // Sent again (F5 on the answer, the back button): not "DK-4711 ist bereits an Max Müller vergeben".
    const again = await agent.post('/contacts').type('form').send(form);
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe(first.headers.location);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '1' });
    // Sent at the same moment, too.
    const twice = { ...form, customer_number: 'DK-4712', create_token: randomUUID() };
    // (Eight at once, as 2 of 800 such requests used to be refused where the number's index was checked before the token's.)
    const sends = await Promise.all(Array.from({ length: 8 }, () => agent.post('/contacts').type('form').send(twice)));
    expect(sends.map((res) => res.status)).toEqual(Array(8).fill(303));
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '2' });
    // Sent again with corrections (the first answer never arrived): the first contact stays, and the message
    // names it as made already, not the corrections as if they were saved.
    const corrected = await agent.post('/contacts').type('form').send({ ...twice, last_name: 'Korrigiert' });
    expect(corrected.status).toBe(303);
    expect(await t.db('contacts').where({ last_name: 'Korrigiert' })).toHaveLength(0);
    const shown = await agent.get(corrected.headers.location);
    expect(shown.text).toContain('Kontakt Max Müller wurde mit diesem Dialog bereits angelegt');
    expect(shown.text).not.toContain('Korrigiert');
    // Any field, not only the name: an e-mail added on the second send is not stored, and said so.
    const withEmail = await agent.post('/contacts').type('form').send({ ...twice, email: 'neu@mueller.de' });
    expect((await agent.get(withEmail.headers.location)).text).toContain('wurde mit diesem Dialog bereits angelegt');
    // Sent again exactly as before: the plain message.
    const same = await agent.post('/contacts').type('form').send(twice);
    expect((await agent.get(same.headers.location)).text).toContain('Kontakt Max Müller wurde mit der Kundennummer DK-4712 erstellt.');
  });

  it('requires a last name or a company, keeping everything typed', async () => {
    const { agent, csrf } = await login();
    const res = await agent
      .post('/contacts')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ ...valid(), last_name: '  ', company: '', first_name: 'Jürgen 🎉', email: 'juergen@firma.de' });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/^<dialog/);
    expect(res.text).toMatch(/id="c-last_name-error">Bitte Nachname oder Firma angeben\./);
    expect(res.text).toMatch(/id="c-company-error">Bitte Nachname oder Firma angeben\./);
    expect(res.text).toContain('value="Jürgen 🎉"');
    expect(res.text).toContain('value="juergen@firma.de"');
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('validates e-mail, phone, lengths and status, escaping what was typed', async () => {
    const { agent, csrf } = await login();
    const res = await agent
      .post('/contacts')
      .type('form')
      .send({ ...valid(), _csrf: csrf, email: 'kein-at-zeichen', phone: 'ruf mich an', first_name: 'x'.repeat(101), company: '<script>alert(1)</script>', status: 'archived' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Bitte eine gültige E-Mail-Adresse eingeben');
    expect(res.text).toContain('Bitte eine Telefonnummer aus Ziffern eingeben');
    expect(res.text).toContain('Höchstens 100 Zeichen.');
    expect(res.text).toContain('Neue Kontakte sind Interessenten oder Kunden.');
    expect(res.text).not.toContain('<script>alert(1)</script>');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('accepts phone numbers as German offices write them, and still refuses words', async () => {
    const { agent, csrf } = await login();
    const written = ['(089) 1234567', '089 1234567 (Zentrale)', '+49 89 1234567 – 12', '089/123 45-67', '+49 (0)89 1234567'];
    for (const [i, phone] of written.entries()) {
      const res = await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, last_name: `Telefon ${i}`, phone });
      expect([phone, res.status]).toEqual([phone, 303]);
    }
    expect((await t.db('contacts').orderBy('id').select('phone')).map((r) => r.phone)).toEqual(written);
    for (const phone of ['(Zentrale)', '12', '089 (Zentrale) 1234']) {
      const res = await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, phone });
      expect([phone, res.status]).toEqual([phone, 422]);
    }
  });

  it('keeps an e-mail domain with umlauts as written, also when the browser sends it in ASCII form, and finds it', async () => {
    const { agent, csrf } = await login();
    const sent = [['jb@müller.de', 'jb@müller.de'], ['zoe@xn--rger-shne-u2a8r.de', 'zoe@ärger-söhne.de']];
    for (const [i, [email]] of sent.entries()) {
      expect((await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, last_name: `Post ${i}`, email })).status).toBe(303);
    }
    expect((await t.db('contacts').orderBy('id').select('email')).map((r) => r.email)).toEqual(sent.map(([, stored]) => stored));
    expect((await agent.get('/contacts?q=%C3%A4rger-s%C3%B6hne').set('HX-Request', 'true')).text).toContain('Max Post 1');
    expect((await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, email: 'x@xn--zz.de' })).status).toBe(422);
  });

  it('accepts umlauts, emoji and SQL-looking text as plain data', async () => {
    const { agent, csrf } = await login();
    const res = await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, last_name: "O'Brien; DROP TABLE contacts; --", company: 'Öl & Gas 😀 GmbH' });
    expect(res.status).toBe(303);
    expect(await t.db('contacts').first()).toMatchObject({ last_name: "O'Brien; DROP TABLE contacts; --", company: 'Öl & Gas 😀 GmbH' });
  });

  it('refuses a customer number someone already has, in any case and with spaces, naming the holder', async () => {
    const { agent, csrf } = await login();
    const holder = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', customer_number: 'K-00042' });
    const res = await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, last_name: 'Neu', customer_number: '  k-00042 ' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Kundennummer k-00042 ist bereits an Max Müller vergeben.');
    expect(res.text).toContain(`href="/contacts/${holder}"`);
    expect(res.text).toContain('value="  k-00042 "');
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '1' });
    // Said at once beside the other messages, not only once the rest is mended.
    const both = await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, last_name: 'Neu', email: 'kein-at-zeichen', customer_number: 'K-00042' });
    expect(both.status).toBe(422);
    expect(both.text).toContain('Kundennummer K-00042 ist bereits an Max Müller vergeben.');
    expect(both.text).toMatch(/id="c-email-error"/);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('stores a typed customer number trimmed', async () => {
    const { agent, csrf } = await login();
    await agent.post('/contacts').type('form').send({ ...valid(), _csrf: csrf, customer_number: '  K-7 ' });
    expect((await t.db('contacts').first()).customer_number).toBe('K-7');
  });

  it('needs a login and a CSRF token', async () => {
    const { agent } = await login();
    expect((await agent.post('/contacts').type('form').send(valid())).status).toBe(403);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
  });
});
