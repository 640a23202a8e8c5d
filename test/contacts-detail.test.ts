import sharp from 'sharp';
import { useTestDatabase } from './db';
import { buildApp, createUser, csrfFrom, fragmentAndPage, loginAs } from './helpers';
import { createContact } from './factories';
import * as notesLineBreaks from '../migrations/20261207200000_notes_line_breaks';

const t = useTestDatabase();

async function login(name = 'Sabine Schröder') {
  const user = await createUser(t.db, { name });
  return { user, ...(await loginAs(buildApp(t.db), user.email)) };
}

/** The master data form as the page renders it (all fields, current version). */
async function formOf(agent: Awaited<ReturnType<typeof login>>['agent'], id: string) {
  const page = await agent.get(`/contacts/${id}`);
  const contact = await t.db('contacts').where({ id }).first();
  return {
    _csrf: csrfFrom(page.text),
    version: String(contact.version),
    status_seen: contact.status,
    salutation: contact.salutation ?? '',
    first_name: contact.first_name ?? '',
    last_name: contact.last_name ?? '',
    company: contact.company ?? '',
    email: contact.email ?? '',
    phone: contact.phone ?? '',
    mobile: '',
    website: '',
    street: '',
    postal_code: '',
    city: contact.city ?? '',
    country: contact.country,
    birthday: '',
    notes: '',
    customer_number: contact.customer_number ?? '',
  };
}

describe('the master data page', () => {
  it('shows the contact with initials, the status control next to the picture, and the history', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', status: 'prospect' });
    const res = await agent.get(`/contacts/${id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Max Müller</h1>');
    expect(res.text).toMatch(/class="avatar avatar-c\d avatar-large" aria-hidden="true">MM</);
    expect(res.text).toMatch(/class="seg current status-prospect" aria-current="true">Interessent/);
    expect(res.text).toMatch(new RegExp(`href="/contacts/${id}/status\\?to=customer"`));
    expect(res.text).toMatch(/aria-disabled="true" title="In den Eingang kommen Kontakte nur durch einen Import.">Eingang/);
    expect(res.text).toContain('hat den Kontakt angelegt');
  });

  it('answers 404 for unknown and malformed ids', async () => {
    const { agent } = await login();
    expect((await agent.get('/contacts/999999')).status).toBe(404);
    expect((await agent.get('/contacts/abc')).status).toBe(404);
    expect((await agent.get('/contacts/99999999999999999999999')).status).toBe(404);
  });

  it('saves changed fields, bumps the version and records old → new in the history', async () => {
    const { agent, user } = await login();
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', city: 'Köln' });
    const form = await formOf(agent, id);
    const res = await agent.post(`/contacts/${id}`).type('form').send({ ...form, city: 'München', phone: '+49 89 1234567', birthday: '1980-02-29' });
    expect(res.status).toBe(303);
    const row = await t.db('contacts').where({ id }).first();
    expect(row).toMatchObject({ city: 'München', phone: '+49 89 1234567', version: 2, updated_by: user.id });
    const event = await t.db('contact_events').where({ contact_id: id, kind: 'updated' }).first();
    expect(event.payload.changes).toEqual({ city: ['Köln', 'München'], phone: [null, '+49 89 1234567'], birthday: [null, '1980-02-29'] });
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toContain('Die Änderungen wurden gespeichert.');
    expect(page.text).toMatch(/Ort: <del>Köln<\/del> → <ins>München<\/ins>/);
  });

  it('names salutation, country and birthday in the history as the form does, in the form\'s order', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { first_name: 'Hannah', last_name: 'Müller' });
    await t.db('contacts').where({ id }).update({ salutation: 'ms', country: 'NL' });
    const form = await formOf(agent, id);
    expect((await agent.post(`/contacts/${id}`).type('form').send({ ...form, salutation: 'mx', country: 'CH', birthday: '1975-12-24', city: 'Basel' })).status).toBe(303);
    const page = await agent.get(`/contacts/${id}`);
    const changes = page.text.match(/<ul class="changes">([\s\S]*?)<\/ul>/)![1];
    expect([...changes.matchAll(/<li>([^:]+):/g)].map((m) => m[1])).toEqual(['Anrede', 'Ort', 'Land', 'Geburtstag']);
    expect(changes).toContain('Anrede: <del>Frau</del> → <ins>Divers</ins>');
    expect(changes).toContain('Land: <del>Niederlande</del> → <ins>Schweiz</ins>');
    expect(changes).toContain('Geburtstag: <del>(leer)</del> → <ins>24.12.1975</ins>');
  });

  it('takes the same form sent twice (a double click) as saved, not as a conflict with itself', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Doppel', city: 'Köln' });
    const form = { ...(await formOf(agent, id)), city: 'Bonn' };
    expect((await agent.post(`/contacts/${id}`).type('form').send(form)).status).toBe(303);
    const second = await agent.post(`/contacts/${id}`).type('form').send(form);
    expect(second.status).toBe(303);
    const page = await agent.get(second.headers.location);
    expect(page.text).toContain('Die Änderungen wurden gespeichert.');
    expect(page.text).not.toContain('inzwischen geändert');
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ city: 'Bonn', version: 2 });
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'updated' })).toHaveLength(1);
    expect(page.text).toMatch(/<form id="master-form" method="post" action="\/contacts\/\d+" novalidate autocomplete="off" data-submit-once/);
  });

  it('refuses a stale form, naming who changed what meanwhile, showing both values and keeping the input', async () => {
    const sabine = await login('Sabine Schröder');
    const juergen = await login('Jürgen Weiß');
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', city: 'Köln' });
    const sabinesForm = await formOf(sabine.agent, id);
    const juergensForm = await formOf(juergen.agent, id);
    expect((await juergen.agent.post(`/contacts/${id}`).type('form').send({ ...juergensForm, city: 'Bonn' })).status).toBe(303);

    const res = await sabine.agent.post(`/contacts/${id}`).type('form').send({ ...sabinesForm, city: 'Berlin', email: 'max@neu.de' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Der Kontakt wurde inzwischen geändert');
    expect(res.text).toContain('Jürgen Weiß hat den Kontakt geändert');
    expect(res.text).toMatch(/<th scope="row">Ort<\/th>\s*<td>Bonn<\/td>\s*<td>Berlin<\/td>/);
    expect(res.text).toContain('value="Berlin"');
    expect(res.text).toContain('value="max@neu.de"');
    expect(res.text).toContain('name="version" value="2"');
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ city: 'Bonn', email: null, version: 2 });

    const again = await sabine.agent.post(`/contacts/${id}`).type('form').send({ ...sabinesForm, version: '2', city: 'Berlin', email: 'max@neu.de' });
    expect(again.status).toBe(303);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ city: 'Berlin', email: 'max@neu.de', version: 3 });
  });

  it('keeps a number given meanwhile by "Nummer erzeugen" when a form from before it is saved', async () => {
    await t.db('number_circles').insert({ name: 'Kundennummern', prefix: 'K-', suffix: '', digits: 5, next_value: 402, target: 'contacts', is_default: true, active: true });
    const sabine = await login('Sabine Schröder');
    const max = await login('Max Meier');
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', city: 'Köln' });
    const sabinesForm = await formOf(sabine.agent, id);
    const page = await max.agent.get(`/contacts/${id}`);
    expect((await max.agent.post(`/contacts/${id}/number`).type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(303);
    expect((await t.db('contacts').where({ id }).first()).customer_number).toBe('K-00402');

    const res = await sabine.agent.post(`/contacts/${id}`).type('form').send({ ...sabinesForm, city: 'Berlin' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Max Meier hat den Kontakt geändert');
    expect(res.text).toMatch(/<th scope="row">Kundennummer<\/th>\s*<td>K-00402<\/td>\s*<td>nicht geändert – der gespeicherte Wert steht im Formular<\/td>/);
    // The number is in the form, her city too: saving again blanks nothing.
    expect(res.text).toMatch(/name="customer_number"[^>]*value="K-00402"/);
    expect(res.text).toContain('value="Berlin"');
    const again = await sabine.agent.post(`/contacts/${id}`).type('form').send({ ...sabinesForm, version: '2', customer_number: 'K-00402', city: 'Berlin' });
    expect(again.status).toBe(303);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ customer_number: 'K-00402', city: 'Berlin', version: 3 });
  });

  it('answers a version beyond any PostgreSQL integer with 422, not 500', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Müller' });
    const form = await formOf(agent, id);
    expect((await agent.post(`/contacts/${id}`).type('form').send({ ...form, version: '2147483648', city: 'Bonn' })).status).toBe(422);
    expect((await agent.post(`/contacts/${id}/status`).type('form').send({ _csrf: form._csrf, to: 'customer', version: '99999999999' })).status).toBe(422);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ city: null, version: 1 });
  });

  it('validates every field and keeps the input, writing nothing', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Müller' });
    const form = await formOf(agent, id);
    const res = await agent.post(`/contacts/${id}`).type('form').send({
      ...form,
      last_name: '',
      website: 'keine webseite',
      postal_code: '1',
      birthday: '2999-01-01',
      country: 'XX',
      notes: 'n'.repeat(5001),
      mobile: '<b>fett</b>',
    });
    expect(res.status).toBe(422);
    for (const message of ['Bitte Nachname oder Firma angeben.', 'Bitte eine Webadresse eingeben', 'Bitte eine gültige Postleitzahl eingeben.', 'Bitte ein Datum in der Vergangenheit eingeben.', 'Bitte ein Land aus der Liste wählen.', 'Höchstens 5.000 Zeichen.', 'Bitte eine Telefonnummer aus Ziffern eingeben']) {
      expect(res.text).toContain(message);
    }
    expect(res.text).toContain('value="keine webseite"');
    expect(res.text).toContain('&lt;b&gt;fett&lt;/b&gt;');
    // Sent back holding what was typed: leaving the page asks first (public/js/app.js).
    expect(res.text).toMatch(/<form id="master-form" method="post" action="\/contacts\/\d+" novalidate autocomplete="off" data-submit-once data-warn-unsaved data-unsaved>/);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ last_name: 'Müller', version: 1 });
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'updated' })).toHaveLength(0);
  });

  it('counts a line break as one character, as the field did while typing: the browser sends it as CR LF', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Müller' });
    const form = await formOf(agent, id);
    // 95 lines: 5,000 characters in the field, 5,094 as sent.
    const lines = Array.from({ length: 95 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(i < 94 ? 50 : 16)}`);
    const typed = lines.join('\n');
    expect(typed).toHaveLength(5000);
    const res = await agent.post(`/contacts/${id}`).type('form').send({ ...form, notes: lines.join('\r\n') });
    expect(res.status).toBe(303);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ notes: typed, version: 2 });
    // The history's note field the same way, and a lone CR (old Mac clipboards) too.
    expect((await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text: lines.join('\r\n') })).status).toBe(303);
    expect((await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text: 'Erste Zeile\rZweite Zeile' })).status).toBe(303);
    const notes = await t.db('contact_events').where({ contact_id: id, kind: 'note' }).orderBy('id');
    expect(notes.map((n) => n.payload.text)).toEqual([typed, 'Erste Zeile\nZweite Zeile']);
  });

  it('notes saved with CR LF before are converted once, so the next save shows no change nobody made', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Zeilen' });
    await t.db('contacts').where({ id }).update({ notes: 'Zeile eins\r\nZeile zwei\rZeile drei' });
    await notesLineBreaks.up(t.db);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ notes: 'Zeile eins\nZeile zwei\nZeile drei', version: 1 });
    const form = await formOf(agent, id);
    // The browser sends the text area's lines back as CR LF.
    expect((await agent.post(`/contacts/${id}`).type('form').send({ ...form, notes: 'Zeile eins\r\nZeile zwei\r\nZeile drei' })).status).toBe(303);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'updated' })).toHaveLength(0);
  });

  it('sent for a contact deleted meanwhile: says who deleted it and when, and lists what was typed to copy', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Gelöscht', status: 'customer' });
    const form = await formOf(agent, id);
    const colleague = await createUser(t.db, { name: 'Max Müller', role: 'admin' });
    const other = await loginAs(buildApp(t.db), colleague.email);
    expect((await other.agent.post(`/contacts/${id}/delete`).type('form').send({ _csrf: other.csrf, list: '' })).status).toBe(303);

    const saved = await agent.post(`/contacts/${id}`).type('form').send({ ...form, phone: '0221 12345', notes: 'Lange Notiz\r\nZeile zwei <b>' });
    expect(saved.status).toBe(404);
    expect(saved.text).toMatch(/Max Müller hat diesen Kontakt am \d\d\.\d\d\.\d{4}, \d\d:\d\d gelöscht\. Es wurde nichts gespeichert\./);
    expect(saved.text).toContain('Ihre Eingaben, zum Abschreiben:');
    expect(saved.text).toMatch(/<th scope="row">Telefon<\/th><td>0221 12345<\/td>/);
    expect(saved.text).toContain('Lange Notiz\nZeile zwei &lt;b&gt;');
    expect(saved.text).not.toContain('(leer)');
    const note = await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text: 'Rückruf vereinbart' });
    expect(note.status).toBe(404);
    expect(note.text).toMatch(/<th scope="row">Notiz<\/th><td>Rückruf vereinbart<\/td>/);
    // Opened again (Back, a bookmark, a notification): who deleted it, not a bare 404.
    const opened = await agent.get(`/contacts/${id}`);
    expect(opened.status).toBe(404);
    expect(opened.text).toContain('Max Müller hat diesen Kontakt am');
    expect(opened.text).not.toContain('zum Abschreiben');
    // A birthday no calendar has (a crafted form) is listed as sent, not a server error.
    const crafted = await agent.post(`/contacts/${id}`).type('form').send({ ...form, birthday: '1980-13-01', notes: 'Bleibt' });
    expect(crafted.status).toBe(404);
    expect(crafted.text).toMatch(/<th scope="row">Geburtstag<\/th><td>1980-13-01<\/td>/);
    // An id never used: no name to give, the input still listed.
    const never = await agent.post('/contacts/99999999').type('form').send({ ...form, phone: '0221 12345' });
    expect(never.status).toBe(404);
    expect(never.text).toContain('Diesen Kontakt gibt es nicht (mehr)');
    expect(never.text).toContain('0221 12345');
    expect(await t.db('contacts').where({ id }).first()).toBeUndefined();
    expect(await t.db('contact_events').where({ contact_id: id })).toHaveLength(0);
  });

  it("checks the postal code against its country's form, beside the other messages", async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Müller' });
    const form = await formOf(agent, id);
    for (const [country, postal_code, message] of [
      ['DE', '7O173', 'Eine deutsche Postleitzahl hat fünf Ziffern, z. B. 80331.'],
      ['DE', '8033', 'Eine deutsche Postleitzahl hat fünf Ziffern, z. B. 80331.'],
      ['AT', '80331', 'Eine österreichische Postleitzahl hat vier Ziffern, z. B. 1010.'],
      ['PL', '00950', 'Eine polnische Postleitzahl hat die Form 00-950.'],
    ]) {
      const res = await agent.post(`/contacts/${id}`).type('form').send({ ...form, country, postal_code, last_name: '' });
      expect([country, postal_code, res.status]).toEqual([country, postal_code, 422]);
      expect(res.text).toContain(`<p class="field-error" id="m-postal_code-error">${message}</p>`);
      expect(res.text).toContain('Bitte Nachname oder Firma angeben.');
      expect(res.text).toContain(`value="${postal_code}"`);
    }
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ postal_code: null, version: 1 });
    let version = 1;
    for (const [country, postal_code] of [['DE', '70173'], ['AT', '1010'], ['NL', '1012 AB'], ['CZ', '110 00'], ['GB', 'SW1A 1AA'], ['LU', 'L-1234'], ['DE', 'D-80331'], ['DE', '']]) {
      const res = await agent.post(`/contacts/${id}`).type('form').send({ ...form, version: String(version), country, postal_code });
      expect([country, postal_code, res.status]).toEqual([country, postal_code, 303]);
      version = (await t.db('contacts').where({ id }).first()).version;
    }
    // A code stored before the check (imported, say) stands until the address is changed: the phone can be corrected.
    const old = await createContact(t.db, { last_name: 'Altbestand', postal_code: '8033', country: 'DE' });
    const oldForm = { ...(await formOf(agent, old)), postal_code: '8033' };
    expect((await agent.post(`/contacts/${old}`).type('form').send({ ...oldForm, phone: '089 123456' })).status).toBe(303);
    const moved = await agent.post(`/contacts/${old}`).type('form').send({ ...oldForm, version: '2', postal_code: '8034' });
    expect(moved.status).toBe(422);
    expect(moved.text).toContain('Eine deutsche Postleitzahl hat fünf Ziffern, z. B. 80331.');
  });

  it('refuses edits of an archived contact by a direct POST with 409', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Archiviert', status: 'archived', previous_status: 'customer' });
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toContain('Archivierte Kontakte können nicht bearbeitet werden.');
    expect(page.text).toMatch(/<fieldset class="plain" disabled>/);
    const form = await formOf(agent, id);
    const res = await agent.post(`/contacts/${id}`).type('form').send({ ...form, city: 'Irgendwo' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Archivierte Kontakte müssen zuerst wiederhergestellt werden.');
    expect(res.text).not.toContain('m-customer_number-error');
    expect((await t.db('contacts').where({ id }).first()).city).toBeNull();
  });

  it('shows the page again when a colleague archived the contact meanwhile, naming them and listing what was typed', async () => {
    const { agent, csrf } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const { agent: his, csrf: hisCsrf } = await loginAs(buildApp(t.db), max.email);
    const id = await createContact(t.db, { last_name: 'Krüger', city: 'Frankfurt am Main', status: 'customer' });
    const form = await formOf(agent, id);
    expect((await his.post(`/contacts/${id}/status`).type('form').send({ _csrf: hisCsrf, to: 'archived' })).status).toBe(303);

    const refused = await agent.post(`/contacts/${id}`).type('form').send({ ...form, city: 'Neustadt', salutation: 'ms', country: 'AT' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('<html');
    expect(refused.text).toContain('Max Müller hat den Kontakt inzwischen auf „Archiv“ gesetzt. Archivierte Kontakte müssen zuerst wiederhergestellt werden. Es wurde nichts gespeichert.');
    expect(refused.text).toMatch(/Ihre Eingaben:[\s\S]*<th scope="row">Anrede<\/th><td>Frau<\/td>[\s\S]*<th scope="row">Ort<\/th><td>Neustadt<\/td>[\s\S]*<th scope="row">Land<\/th><td>Österreich<\/td>/);
    expect(refused.text).not.toMatch(/<th scope="row">Nachname<\/th>/);
    expect((await t.db('contacts').where({ id }).first()).city).toBe('Frankfurt am Main');

    const note = await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, status_seen: 'customer', text: 'Rückruf am Montag' });
    expect(note.status).toBe(409);
    expect(note.text).toMatch(/<textarea id="note-text" name="text" rows="2" maxlength="5000" readonly[^>]*>Rückruf am Montag<\/textarea>/);
    expect(note.text).toMatch(/id="note-error">Max Müller hat den Kontakt inzwischen auf „Archiv“ gesetzt/);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'note' })).toHaveLength(0);

    // A page loaded before forms said which status they were shown with: answered the same way.
    const { status_seen: _unsaid, ...older } = form;
    const olderPage = await agent.post(`/contacts/${id}`).type('form').send({ ...older, city: 'Neustadt' });
    expect(olderPage.status).toBe(409);
    expect(olderPage.text).toMatch(/Ihre Eingaben:[\s\S]*<td>Neustadt<\/td>/);
    const olderNote = await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text: 'Rückruf am Montag' });
    expect(olderNote.status).toBe(409);
    expect(olderNote.text).toContain('>Rückruf am Montag</textarea>');
  });

  it('lets inbox contacts be cleaned up, but not numbered', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Import', status: 'inbox' });
    const form = await formOf(agent, id);
    expect((await agent.post(`/contacts/${id}`).type('form').send({ ...form, city: 'Hamburg' })).status).toBe(303);
    const res = await agent.post(`/contacts/${id}`).type('form').send({ ...form, version: '2', city: 'Bremen', customer_number: 'K-1' });
    expect(res.status).toBe(409);
    // Said at the number, the input kept; nobody changed anything meanwhile, and the page does not say so.
    expect(res.text).toMatch(/id="m-customer_number-error">Kontakte im Eingang müssen zuerst als Interessent oder Kunde übernommen werden./);
    expect(res.text).toContain('name="city" type="text" value="Bremen"');
    expect(res.text).not.toContain('inzwischen');
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ customer_number: null, city: 'Hamburg' });
  });

  it('refuses a customer number another contact holds', async () => {
    const { agent } = await login();
    await createContact(t.db, { first_name: 'Erika', last_name: 'Holder', customer_number: 'K-00042' });
    const id = await createContact(t.db, { last_name: 'Neu' });
    const form = await formOf(agent, id);
    const res = await agent.post(`/contacts/${id}`).type('form').send({ ...form, customer_number: 'K-00042' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Kundennummer K-00042 ist bereits an Erika Holder vergeben.');
    // Said at once beside the other messages, not only once the rest is mended; its own number is no conflict.
    const both = await agent.post(`/contacts/${id}`).type('form').send({ ...form, last_name: '', company: '', customer_number: 'k-00042' });
    expect(both.status).toBe(422);
    expect(both.text).toContain('Bitte Nachname oder Firma angeben.');
    expect(both.text).toContain('Kundennummer k-00042 ist bereits an Erika Holder vergeben.');
    await t.db('contacts').where({ id }).update({ customer_number: 'K-7' });
    const own = await agent.post(`/contacts/${id}`).type('form').send({ ...form, last_name: '', customer_number: 'K-7' });
    expect(own.status).toBe(422);
    expect(own.text).not.toContain('bereits an');
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ last_name: 'Neu', customer_number: 'K-7' });
  });
});

describe('notes in the history', () => {
  it('are added with author and time, newest first', async () => {
    const { agent, csrf, user } = await login();
    const id = await createContact(t.db, { last_name: 'Notiz' });
    const res = await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text: 'Ruft nächste Woche zurück <b>!</b>' });
    expect(res.status).toBe(303);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'note' }).first()).toMatchObject({ actor_id: user.id, payload: { text: 'Ruft nächste Woche zurück <b>!</b>' } });
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toMatch(/hat eine Notiz geschrieben[\s\S]*Ruft nächste Woche zurück &lt;b&gt;!&lt;\/b&gt;[\s\S]*hat den Kontakt angelegt/);
  });

  it('are written once when the same form is sent twice (a double click, Back and again), side by side or one after the other', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Notiz' });
    const page = await agent.get(`/contacts/${id}`);
    const token = page.text.match(/name="note_token" value="([^"]+)"/)![1];
    expect(page.text).toMatch(/<form [^>]*\/notes"[^>]* data-submit-once/);
    const send = (text: string, note_token?: string) => agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text, note_token });
    const twice = await Promise.all([send('Rückruf am Montag', token), send('Rückruf am Montag', token)]);
    expect(twice.map((r) => r.status)).toEqual([303, 303]);
    expect((await send('Rückruf am Montag', token)).status).toBe(303);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'note' })).toHaveLength(1);
    // The same form with other words (the first answer never came, the note was extended): a note of its own.
    await send('Rückruf am Montag, 10 Uhr', token);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'note' })).toHaveLength(2);
    // The next page's form has a token of its own: the same words again are a second note.
    const next = (await agent.get(`/contacts/${id}`)).text.match(/name="note_token" value="([^"]+)"/)![1];
    expect(next).not.toBe(token);
    await send('Rückruf am Montag', next);
    await send('Ohne Zeichen');
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'note' })).toHaveLength(4);
  });

  it('are refused when empty, and for archived contacts', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Notiz' });
    const empty = await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text: '   ' });
    expect(empty.status).toBe(422);
    // The address bar then shows the contact, not the form's address (reload, bookmark).
    expect(empty.text).toContain(`data-replace-url="/contacts/${id}"`);
    expect((await agent.get(`/contacts/${id}`)).text).not.toContain('data-replace-url');
    const archived = await createContact(t.db, { last_name: 'Alt', status: 'archived' });
    expect((await agent.post(`/contacts/${archived}/notes`).type('form').send({ _csrf: csrf, text: 'Hallo' })).status).toBe(409);
    expect(await t.db('contact_events').where({ kind: 'note' })).toHaveLength(0);
  });
});

describe('the profile picture', () => {
  const png = () => sharp({ create: { width: 800, height: 600, channels: 3, background: '#336699' } }).png().toBuffer();

  it('is resized to a small square WebP, stored in the database and recorded in the history', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Bild' });
    const res = await agent.post(`/contacts/${id}/picture?_csrf=${encodeURIComponent(csrf)}`).attach('picture', await png(), 'foto.png');
    expect(res.status).toBe(303);
    const stored = await t.db('contact_pictures').where({ contact_id: id }).first();
    expect(stored.content_type).toBe('image/webp');
    const meta = await sharp(stored.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 256]);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'picture_set' })).toHaveLength(1);
    const page = await agent.get(`/contacts/${id}`);
    const src = page.text.match(/<img class="avatar avatar-large" src="([^"]+)"/)![1];
    const image = await agent.get(src);
    expect(image.headers['content-type']).toBe('image/webp');
    // Removed, then removed again (a second tab): one event.
    for (let i = 0; i < 2; i++) expect((await agent.post(`/contacts/${id}/picture/delete`).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect(await t.db('contact_pictures').where({ contact_id: id })).toHaveLength(0);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'picture_removed' })).toHaveLength(1);
  });

  it('is not replaced or removed from a page that showed another one: a colleague\'s upload stays', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Bild' });
    const seenOf = (html: string) => html.match(/name="picture_seen" value="([^"]+)"/)![1];
    const mine = seenOf((await agent.get(`/contacts/${id}`)).text);
    expect(mine).toBe('none');
    // A colleague uploads a picture meanwhile.
    const colleague = await login();
    expect((await colleague.agent.post(`/contacts/${id}/picture?_csrf=${encodeURIComponent(colleague.csrf)}`).field('picture_seen', 'none').attach('picture', await png(), 'a.png')).status).toBe(303);
    const theirs = await t.db('contact_pictures').where({ contact_id: id }).first();
    // From my page, which showed none: my upload is refused, saying so at the picture.
    const upload = await agent.post(`/contacts/${id}/picture?_csrf=${encodeURIComponent(csrf)}`).field('picture_seen', mine).attach('picture', await png(), 'b.png');
    expect(upload.status).toBe(409);
    expect(upload.text).toContain('Das Profilbild wurde inzwischen von jemand anderem geändert');
    expect((await t.db('contact_pictures').where({ contact_id: id }).first()).updated_at).toEqual(theirs.updated_at);
    // Now showing theirs: removing it is what I see, and it goes.
    const now = seenOf(upload.text);
    expect(now).not.toBe('none');
    const stale = await agent.post(`/contacts/${id}/picture/delete`).type('form').send({ _csrf: csrf, picture_seen: 'none' });
    expect(stale.status).toBe(409);
    expect(await t.db('contact_pictures').where({ contact_id: id })).toHaveLength(1);
    expect((await agent.post(`/contacts/${id}/picture/delete`).type('form').send({ _csrf: csrf, picture_seen: now })).status).toBe(303);
    expect(await t.db('contact_pictures').where({ contact_id: id })).toHaveLength(0);
    // Removed twice, the second from a page that still showed it: done already, no refusal.
    expect((await agent.post(`/contacts/${id}/picture/delete`).type('form').send({ _csrf: csrf, picture_seen: now })).status).toBe(303);
  });

  it('refuses a file that is not an image, whatever its name, and stores nothing', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Bild' });
    const res = await agent.post(`/contacts/${id}/picture`).set('X-CSRF-Token', csrf).attach('picture', Buffer.from('<?php echo 1; ?>'), 'foto.jpg');
    expect(res.status).toBe(422);
    expect(res.text).toContain('Die Datei ist kein Bild im Format JPEG, PNG oder WebP.');
    expect(await t.db('contact_pictures')).toHaveLength(0);
  });

  it('refuses a picture of too many pixels as such, however small its file', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Bild' });
    const huge = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#ffffff' } }).png({ compressionLevel: 9 }).toBuffer();
    expect(huge.length).toBeLessThan(5 * 1024 * 1024);
    const res = await agent.post(`/contacts/${id}/picture?_csrf=${encodeURIComponent(csrf)}`).attach('picture', huge, 'riesig.png');
    expect(res.status).toBe(422);
    expect(res.text).toContain('Das Bild hat zu viele Bildpunkte (höchstens 40 Megapixel');
    expect(res.text).toContain(`data-replace-url="/contacts/${id}"`);
    expect(await t.db('contact_pictures')).toHaveLength(0);
  });

  it('refuses a picture over 5 MB with a clear message', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Bild' });
    const res = await agent.post(`/contacts/${id}/picture`).set('X-CSRF-Token', csrf).attach('picture', Buffer.alloc(5 * 1024 * 1024 + 10, 1), 'gross.jpg');
    expect(res.status).toBe(413);
    expect(res.text).toContain('Das Bild ist größer als 5 MB.');
    // The address bar shows the contact, not the form's address with its token (public/js/app.js).
    expect(res.text).toContain(`data-replace-url="/contacts/${id}"`);
    expect(await t.db('contact_pictures')).toHaveLength(0);
  });

  it('says at the picture field that one file is expected, for two files or another field\'s name', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Bild' });
    const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const two = await agent.post(`/contacts/${id}/picture`).set('X-CSRF-Token', csrf).attach('picture', png, 'a.png').attach('picture', png, 'b.png');
    const otherName = await agent.post(`/contacts/${id}/picture`).set('X-CSRF-Token', csrf).attach('foto', png, 'a.png');
    for (const res of [two, otherName]) {
      expect(res.status).toBe(422);
      expect(res.text).toContain('Bitte genau eine Bilddatei im Feld „Bild“ senden.');
      expect(res.text).toContain('<h1');
    }
    expect(await t.db('contact_pictures')).toHaveLength(0);
  });

  it('answers a picture over 5 MB for an unknown contact with the not-found page', async () => {
    const { agent, csrf } = await login();
    for (const id of ['999999999', 'abc']) {
      const res = await agent.post(`/contacts/${id}/picture`).set('X-CSRF-Token', csrf).attach('picture', Buffer.alloc(5 * 1024 * 1024 + 10, 1), 'gross.jpg');
      expect(res.status).toBe(404);
    }
    expect((await agent.get('/contacts')).status).toBe(200);
  });

  it('needs the CSRF token', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { last_name: 'Bild' });
    expect((await agent.post(`/contacts/${id}/picture`).attach('picture', await png(), 'foto.png')).status).toBe(403);
    expect(await t.db('contact_pictures')).toHaveLength(0);
  });
});

describe('the history of a contact', () => {
  it('shows the newest 30 entries and pages older ones in, or as a page of their own without JavaScript', async () => {
    const { agent } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const id = await createContact(t.db, { last_name: 'Viel' });
    await t.db('contact_events').insert(Array.from({ length: 35 }, (_, i) => ({ contact_id: id, actor_id: max.id, kind: 'note', payload: { text: `Eintrag ${i}` } })));
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toContain('Eintrag 34');
    expect(page.text).not.toContain('Eintrag 4<');
    const more = page.text.match(/href="(\/contacts\/\d+\/history\?before=\d+)"/)![1];

    const { fragment, whole } = await fragmentAndPage(agent, more);
    expect(fragment.text).toContain('Eintrag 0');
    expect(fragment.text).not.toContain('Eintrag 34');
    expect(whole.text).toContain('<h1 id="history-title">Historie: Testperson Viel</h1>');
    expect(whole.text).toContain(`href="/contacts/${id}#history"`);
    expect(whole.text).toContain('Eintrag 0');
    expect(whole.headers.vary).toMatch(/HX-Request/);
  });
});
