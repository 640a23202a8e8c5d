import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { useTestDatabase } from './db';
import { buildApp, createUser, formFields, loginAs, withStatements } from './helpers';
import type { Db } from '../src/db/knex';
import { Conflict } from '../src/web/errors';
import { writeContactNumberIfFree } from '../src/numbers/queries';
import {
  allocateAndWrite,
  allocateNumber,
  assignGeneratedNumber,
  NumberTakenMeanwhile,
  predictNextNumber,
  withNumberTransaction,
} from '../src/numbers/service';

const t = useTestDatabase();

type CircleRow = {
  name: string;
  prefix: string;
  suffix: string;
  digits: number;
  next_value: number;
  target: 'contacts' | 'groups';
  is_default: boolean;
  active: boolean;
  issued_count: number;
};

async function givenCircle(db: Db, fields: Partial<CircleRow> = {}): Promise<string> {
  const [row] = await db('number_circles')
    .insert({ name: 'Kundennummern', prefix: 'K-', digits: 5, next_value: 1, target: 'contacts', is_default: true, ...fields })
    .returning('id');
  return String(row.id);
}

async function givenContact(db: Db, fields: { customer_number?: string; last_name?: string } = {}): Promise<string> {
  const [row] = await db('contacts')
    .insert({ last_name: fields.last_name ?? 'Müller', customer_number: fields.customer_number ?? null })
    .returning('id');
  return String(row.id);
}

async function circle(db: Db, id: string) {
  const row = await db('number_circles').where({ id }).first();
  return { ...row, next_value: Number(row.next_value), issued_count: Number(row.issued_count) };
}

async function asAdmin() {
  const admin = await createUser(t.db, { role: 'admin', name: 'Anna Admin' });
  return { admin, ...(await loginAs(buildApp(t.db), admin.email)) };
}

const validForm = {
  name: 'Kundennummern',
  target: 'contacts',
  prefix: 'K-',
  digits: '5',
  suffix: '',
  next_value: '1',
  is_default: 'on',
  active: 'on',
  create_token: randomUUID(),
};

describe('Settings → Nummernkreise', () => {
  it('lists every circle with the number it would give next, skipping numbers in use', async () => {
    await givenCircle(t.db, { next_value: 42 });
    await givenCircle(t.db, { name: 'Gruppennummern', prefix: 'G-', digits: 3, target: 'groups', next_value: 7 });
    await givenContact(t.db, { customer_number: 'k-00042' });
    const { agent } = await asAdmin();
    const page = await agent.get('/settings/number-circles');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<code class="number">K-00043</code>');
    expect(page.text).toContain('<code class="number">G-007</code>');
    expect(page.text).toContain('<td>Gruppen</td>');
    expect(page.text).toMatch(/aria-current="page">Nummernkreise</);
  });

  it('is closed to members: the page and every action answer 403 and change nothing', async () => {
    const id = await givenCircle(t.db, { is_default: false });
    const member = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), member.email);
    expect((await agent.get('/settings/number-circles')).status).toBe(403);
    expect((await agent.get('/settings/number-circles/new')).status).toBe(403);
    expect((await agent.get(`/settings/number-circles/${id}/edit`)).status).toBe(403);
    expect((await agent.post('/settings/number-circles').type('form').send({ ...validForm, _csrf: csrf })).status).toBe(403);
    expect((await agent.post(`/settings/number-circles/${id}/deactivate`).type('form').send({ _csrf: csrf })).status).toBe(403);
    expect((await agent.post(`/settings/number-circles/${id}/delete`).type('form').send({ _csrf: csrf })).status).toBe(403);
    const rows = await t.db('number_circles').select('id', 'active');
    expect(rows).toEqual([{ id, active: true }]);
  });

  it('creates a circle and shows it in the list with its first number', async () => {
    const { agent, csrf } = await asAdmin();
    const res = await agent
      .post('/settings/number-circles')
      .type('form')
      .send({ ...validForm, name: ' Kundennummern ', prefix: ' KD 2026/ ', digits: '4', next_value: '17', _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/number-circles');
    const rows = await t.db('number_circles').select('name', 'prefix', 'suffix', 'digits', 'next_value', 'target', 'is_default', 'active');
    expect(rows).toEqual([
      { name: 'Kundennummern', prefix: 'KD 2026/', suffix: '', digits: 4, next_value: '17', target: 'contacts', is_default: true, active: true },
    ]);
    const list = await agent.get('/settings/number-circles');
    expect(list.text).toContain('Der Nummernkreis „Kundennummern“ wurde angelegt.');
    expect(list.text).toContain('KD 2026/0017');
  });

  it('makes one circle of a form sent twice, one after the other or both at once', async () => {
    await givenCircle(t.db, { name: 'Bisher' });
    const { agent, csrf } = await asAdmin();
    const form = (await agent.get('/settings/number-circles/new')).text;
    const token = /name="create_token" value="([0-9a-f-]{36})"/.exec(form)?.[1];
    expect(token).toBeDefined();
    const send = () => agent.post('/settings/number-circles').type('form').send({ ...validForm, name: 'Doppelt', create_token: token, _csrf: csrf });
    expect((await send()).status).toBe(303);
    const again = await send();
    expect(again.status).toBe(303);
    expect((await agent.get(again.headers.location)).text).toContain('Der Nummernkreis „Doppelt“ wurde angelegt.');
    const sameToken = randomUUID();
    const atOnce = await Promise.all([1, 2].map(() => agent.post('/settings/number-circles').type('form').send({ ...validForm, name: 'Gleichzeitig', create_token: sameToken, _csrf: csrf })));
    expect(atOnce.map((r) => r.status)).toEqual([303, 303]);
    const rows = await t.db('number_circles').select('name', 'is_default').orderBy('id');
    expect(rows.filter((r) => r.name === 'Doppelt')).toHaveLength(1);
    expect(rows.filter((r) => r.name === 'Gleichzeitig')).toEqual([{ name: 'Gleichzeitig', is_default: true }]);
    // The second of the two at once, which took "Standard" from the first before its insert was refused, changed nothing.
    expect(rows.find((r) => r.name === 'Bisher')).toEqual({ name: 'Bisher', is_default: false });
  });

  it.each([
    ['prefix', 'K%<', 'Nur Buchstaben A–Z, Ziffern, Leerzeichen und die Zeichen - _ / . sind erlaubt.'],
    ['prefix', 'Kü-', 'Nur Buchstaben A–Z, Ziffern, Leerzeichen und die Zeichen - _ / . sind erlaubt.'],
    ['suffix', 'ABCDEFGHIJK', 'Höchstens 10 Zeichen.'],
    ['suffix', '"x', 'Nur Buchstaben A–Z, Ziffern, Leerzeichen und die Zeichen - _ / . sind erlaubt.'],
    ['digits', '0', 'Bitte eine ganze Zahl von 1 bis 12 eingeben.'],
    ['digits', '13', 'Bitte eine ganze Zahl von 1 bis 12 eingeben.'],
    ['digits', 'fünf', 'Bitte eine ganze Zahl von 1 bis 12 eingeben.'],
    ['next_value', '0', 'Bitte eine ganze Zahl ab 1 eingeben.'],
    ['next_value', '-3', 'Bitte eine ganze Zahl ab 1 eingeben.'],
    ['next_value', '1.5', 'Bitte eine ganze Zahl ab 1 eingeben.'],
    ['next_value', 'zwölf', 'Bitte eine ganze Zahl ab 1 eingeben.'],
    ['next_value', '', 'Bitte ausfüllen.'],
    ['name', '   ', 'Bitte ausfüllen.'],
    ['target', 'rechnungen', 'Bitte Kontakte oder Gruppen wählen.'],
  ])('refuses %s "%s" with a German message under the field, keeps what was typed and writes nothing', async (field, value, message) => {
    const { agent, csrf } = await asAdmin();
    const res = await agent
      .post('/settings/number-circles')
      .type('form')
      .send({ ...validForm, name: 'Meine Nummern', [field]: value, _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain(`id="f-${field}-error">${message}</p>`);
    if (field !== 'name') expect(res.text).toContain('value="Meine Nummern"');
    if (field !== 'target' && value.trim()) expect(res.text).toContain(`value="${value.replace(/</g, '&lt;').replace(/"/g, '&#34;')}"`);
    expect(await t.db('number_circles').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('refuses a default circle that is not active', async () => {
    const { agent, csrf } = await asAdmin();
    const res = await agent
      .post('/settings/number-circles')
      .type('form')
      .send({ ...validForm, active: undefined, _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-active-error">Ein Standard-Nummernkreis muss aktiv sein.</p>');
    expect(res.text).toMatch(/name="is_default" value="on" checked/);
    expect(await t.db('number_circles').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('making a circle the default takes the mark from the previous default of the same target only', async () => {
    const old = await givenCircle(t.db, { name: 'Alt' });
    const groups = await givenCircle(t.db, { name: 'Gruppen', prefix: 'G-', target: 'groups' });
    const { agent, csrf } = await asAdmin();
    const res = await agent.post('/settings/number-circles').type('form').send({ ...validForm, name: 'Neu', prefix: 'N-', _csrf: csrf });
    expect(res.status).toBe(303);
    const defaults = await t.db('number_circles').select('name').where({ is_default: true }).orderBy('name');
    expect(defaults).toEqual([{ name: 'Gruppen' }, { name: 'Neu' }]);
    expect((await circle(t.db, old)).is_default).toBe(false);
    expect((await circle(t.db, groups)).is_default).toBe(true);

    const edit = await agent
      .post(`/settings/number-circles/${old}`)
      .type('form')
      .send({ ...validForm, name: 'Alt', next_value: '1', shown_next_value: '1', _csrf: csrf });
    expect(edit.status).toBe(303);
    expect(await t.db('number_circles').select('name').where({ is_default: true, target: 'contacts' })).toEqual([{ name: 'Alt' }]);
  });

  it('the database itself refuses a second default for one target', async () => {
    await givenCircle(t.db);
    await expect(givenCircle(t.db, { name: 'Zweiter' })).rejects.toMatchObject({ code: '23505', constraint: 'number_circles_one_default' });
    await expect(givenCircle(t.db, { name: 'Bad', prefix: "K'", is_default: false })).rejects.toMatchObject({ code: '23514' });
    await expect(givenCircle(t.db, { name: 'Bad', digits: 13, is_default: false })).rejects.toMatchObject({ code: '23514' });
  });

  it('refuses to move the next value back below a number in use, naming it, and leaves the circle as it was', async () => {
    const id = await givenCircle(t.db, { prefix: 'K-', digits: 3, next_value: 50 });
    // Only numbers this format produces count: "k-1200" does, the others do not.
    for (const n of ['K-045', 'k-1200', 'K-0999', 'K-12', 'K-500X', 'X-700']) await givenContact(t.db, { customer_number: n });
    const { agent, csrf } = await asAdmin();
    const send = (next: string) =>
      agent
        .post(`/settings/number-circles/${id}`)
        .type('form')
        .send({ ...validForm, name: 'Kundennummern', digits: '3', next_value: next, shown_next_value: '50', _csrf: csrf });

    const refused = await send('40');
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('id="f-next_value-error">Die Nummer K-1200 ist bereits vergeben. Der nächste Wert muss mindestens 1.201 sein.</p>');
    expect(refused.text).toContain('value="40"');
    expect((await circle(t.db, id)).next_value).toBe(50);

    await t.db('contacts').where({ customer_number: 'k-1200' }).delete();
    expect((await send('45')).status).toBe(422);
    expect((await send('46')).status).toBe(303);
    expect((await circle(t.db, id)).next_value).toBe(46);
  });

  it('keeps the value reached meanwhile when the admin saves the form without touching the next value', async () => {
    const id = await givenCircle(t.db, { next_value: 10 });
    const { agent, csrf } = await asAdmin();
    const form = await agent.get(`/settings/number-circles/${id}/edit`);
    expect(form.text).toContain('name="shown_next_value" value="10"');
    // Meanwhile a colleague generates two numbers.
    for (let i = 0; i < 2; i++) await withNumberTransaction(t.db, (trx) => allocateNumber(trx, 'contacts'));
    const res = await agent
      .post(`/settings/number-circles/${id}`)
      .type('form')
      .send({ ...validForm, name: 'Kundennummern 2027', next_value: '10', shown_next_value: '10', _csrf: csrf });
    expect(res.status).toBe(303);
    expect(await circle(t.db, id)).toMatchObject({ name: 'Kundennummern 2027', next_value: 12 });
  });

  it('still saves a circle numbering carried past the highest value one may type, with that value left as shown', async () => {
    const id = await givenCircle(t.db, { next_value: 999_999_999_999_999 });
    await withNumberTransaction(t.db, (trx) => allocateNumber(trx, 'contacts'));
    const { agent, csrf } = await asAdmin();
    const form = formFields((await agent.get(`/settings/number-circles/${id}/edit`)).text, `/settings/number-circles/${id}`);
    expect(form).toMatchObject({ next_value: '1000000000000000', shown_next_value: '1000000000000000' });
    const renamed = await agent.post(`/settings/number-circles/${id}`).type('form').send({ ...form, name: 'Alte Kundennummern', _csrf: csrf });
    expect(renamed.status).toBe(303);
    expect(await circle(t.db, id)).toMatchObject({ name: 'Alte Kundennummern', next_value: 1_000_000_000_000_000 });
    // Typed, such a value is still refused.
    const typed = await agent.post(`/settings/number-circles/${id}`).type('form').send({ ...form, next_value: '1000000000000001', _csrf: csrf });
    expect(typed.status).toBe(422);
    expect(typed.text).toContain('value="1000000000000001"');
    expect((await circle(t.db, id)).next_value).toBe(1_000_000_000_000_000);
    // A new circle has no value of its own to leave as shown.
    const made = await agent
      .post('/settings/number-circles')
      .type('form')
      .send({ ...validForm, name: 'Zu hoch', is_default: '', next_value: '9007199254740991', shown_next_value: '9007199254740991', create_token: randomUUID(), _csrf: csrf });
    expect(made.status).toBe(422);
    expect(made.text).toContain('id="f-next_value-error">Bitte eine ganze Zahl ab 1 eingeben.</p>');
    expect(await t.db('number_circles').where({ name: 'Zu hoch' })).toEqual([]);
  });

  it('two admins editing one circle: a field one left alone keeps what the other saved; the same field changed by both is refused with what is saved now', async () => {
    const id = await givenCircle(t.db, { next_value: 10 });
    const { agent, csrf } = await asAdmin();
    const second = await loginAs(buildApp(t.db), (await createUser(t.db, { role: 'admin', name: 'Bernd Admin' })).email);
    const mine = formFields((await agent.get(`/settings/number-circles/${id}/edit`)).text, `/settings/number-circles/${id}`);
    const theirs = formFields((await second.agent.get(`/settings/number-circles/${id}/edit`)).text, `/settings/number-circles/${id}`);
    expect(mine).toMatchObject({ seen_name: 'Kundennummern', seen_prefix: 'K-', seen_digits: '5', seen_is_default: 'true', seen_active: 'true' });
    // The other admin changes the prefix; this one, on the form opened before, only the name.
    expect((await second.agent.post(`/settings/number-circles/${id}`).type('form').send({ ...theirs, prefix: 'KD-' })).status).toBe(303);
    expect((await agent.post(`/settings/number-circles/${id}`).type('form').send({ ...mine, name: 'Kunden 2027', _csrf: csrf })).status).toBe(303);
    expect(await circle(t.db, id)).toMatchObject({ name: 'Kunden 2027', prefix: 'KD-', is_default: true, active: true, next_value: 10 });

    // Both change the name, differently: refused, nothing written, the typed name kept, the form now based on what is saved.
    const stale = formFields((await agent.get(`/settings/number-circles/${id}/edit`)).text, `/settings/number-circles/${id}`);
    const fresh = formFields((await second.agent.get(`/settings/number-circles/${id}/edit`)).text, `/settings/number-circles/${id}`);
    expect((await second.agent.post(`/settings/number-circles/${id}`).type('form').send({ ...fresh, name: 'Kundennummern Nord' })).status).toBe(303);
    const clash = await agent.post(`/settings/number-circles/${id}`).type('form').send({ ...stale, name: 'Kundennummern Süd', prefix: 'S-', _csrf: csrf });
    expect(clash.status).toBe(409);
    expect(clash.text).toContain('Der Nummernkreis wurde inzwischen von jemand anderem geändert, an derselben Stelle wie von Ihnen. Gespeichert ist jetzt: „Kundennummern Nord“, nächste Nummer KD-00010, Kontakte, Standard.');
    const again = formFields(clash.text, `/settings/number-circles/${id}`);
    expect(again).toMatchObject({ name: 'Kundennummern Süd', prefix: 'S-', seen_name: 'Kundennummern Nord', seen_prefix: 'KD-' });
    expect(await circle(t.db, id)).toMatchObject({ name: 'Kundennummern Nord', prefix: 'KD-' });
    // Saved again from there, deliberately: it counts.
    expect((await agent.post(`/settings/number-circles/${id}`).type('form').send(again)).status).toBe(303);
    expect(await circle(t.db, id)).toMatchObject({ name: 'Kundennummern Süd', prefix: 'S-' });
  });

  it('deactivates and activates a circle that is not the default', async () => {
    const id = await givenCircle(t.db, { is_default: false, name: 'Alt' });
    const { agent, csrf } = await asAdmin();
    expect((await agent.post(`/settings/number-circles/${id}/deactivate`).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect((await circle(t.db, id)).active).toBe(false);
    const list = await agent.get('/settings/number-circles');
    expect(list.text).toContain('Der Nummernkreis „Alt“ wurde deaktiviert.');
    expect(list.text).toContain('inaktiv');
    expect((await agent.post(`/settings/number-circles/${id}/activate`).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect((await circle(t.db, id)).active).toBe(true);
  });

  it('refuses to deactivate the default circle and says what to do instead', async () => {
    const id = await givenCircle(t.db);
    const { agent, csrf } = await asAdmin();
    const res = await agent.post(`/settings/number-circles/${id}/deactivate`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Der Standard-Nummernkreis „Kundennummern“ kann nicht deaktiviert werden.');
    expect((await circle(t.db, id)).active).toBe(true);
  });

  it('refuses to delete a circle that has issued numbers and offers to deactivate it', async () => {
    const id = await givenCircle(t.db, { is_default: false, name: 'Alt', next_value: 4, issued_count: 3 });
    const { agent, csrf } = await asAdmin();
    const confirm = await agent.get(`/settings/number-circles/${id}/delete`);
    expect(confirm.text).toContain('hat bereits Nummern vergeben (3) und kann deshalb nicht gelöscht werden. Deaktivieren Sie ihn stattdessen.');
    expect(confirm.text).toContain(`action="/settings/number-circles/${id}/deactivate"`);
    expect(confirm.text).not.toContain('Endgültig löschen');

    const res = await agent.post(`/settings/number-circles/${id}/delete`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Der Nummernkreis „Alt“ hat bereits Nummern vergeben (3)');
    expect(await t.db('number_circles').where({ id }).first()).toBeDefined();
  });

  it('refuses to delete the default circle, which "Nummer erzeugen" relies on', async () => {
    const id = await givenCircle(t.db);
    const { agent, csrf } = await asAdmin();
    const confirm = await agent.get(`/settings/number-circles/${id}/delete`);
    expect(confirm.text).toContain('Der Standard-Nummernkreis „Kundennummern“ kann nicht gelöscht werden.');
    expect(confirm.text).not.toContain('Endgültig löschen');
    const res = await agent.post(`/settings/number-circles/${id}/delete`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Der Standard-Nummernkreis „Kundennummern“ kann nicht gelöscht werden.');
    expect(await t.db('number_circles').where({ id }).first()).toBeDefined();
  });

  it('deletes a circle that never issued a number once the admin confirms', async () => {
    const id = await givenCircle(t.db, { is_default: false, name: 'Versuch' });
    const { agent, csrf } = await asAdmin();
    const dialog = await agent.get(`/settings/number-circles/${id}/delete`).set('HX-Request', 'true');
    expect(dialog.status).toBe(200);
    expect(dialog.headers.vary).toMatch(/HX-Request/);
    expect(dialog.text).toMatch(/^<dialog data-modal/);
    expect(dialog.text).toContain('Den Nummernkreis „Versuch“ endgültig löschen?');
    const page = await agent.get(`/settings/number-circles/${id}/delete`);
    expect(page.text).toContain('<h1 id="delete-title">Nummernkreis löschen</h1>');

    const res = await agent.post(`/settings/number-circles/${id}/delete`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(await t.db('number_circles').where({ id }).first()).toBeUndefined();
    expect((await agent.get('/settings/number-circles')).text).toContain('Der Nummernkreis „Versuch“ wurde gelöscht.');
  });

  it('answers 404 for a circle that does not exist', async () => {
    const { agent, csrf } = await asAdmin();
    expect((await agent.get('/settings/number-circles/999/edit')).status).toBe(404);
    expect((await agent.get('/settings/number-circles/abc/edit')).status).toBe(404);
    expect((await agent.post('/settings/number-circles/999').type('form').send({ ...validForm, _csrf: csrf })).status).toBe(404);
  });

  it('previews the next number while the admin types, and nothing while the settings are invalid', async () => {
    await givenContact(t.db, { customer_number: 'R-007' });
    const { agent } = await asAdmin();
    const ok = await agent.get('/settings/number-circles/preview').query({ prefix: 'R-', digits: '3', next_value: '7', target: 'contacts' });
    expect(ok.text).toContain('<code class="number">R-008</code>');
    expect(ok.text).not.toContain('<html');
    const bad = await agent.get('/settings/number-circles/preview').query({ prefix: 'R%', digits: '3', next_value: '7', target: 'contacts' });
    expect(bad.text).toContain('erscheint, sobald die Angaben gültig sind');
    // Nor for a value beyond what may be typed, which saving refuses.
    const beyond = await agent.get('/settings/number-circles/preview').query({ prefix: 'R-', digits: '3', next_value: '1000000000000000', target: 'contacts' });
    expect(beyond.text).toContain('erscheint, sobald die Angaben gültig sind');
  });
});

describe('allocating numbers', () => {
  const allocate = () => withNumberTransaction(t.db, (trx) => allocateNumber(trx, 'contacts'));

  it('gives the next number of the default circle and moves the circle past it', async () => {
    const id = await givenCircle(t.db, { next_value: 41 });
    await givenCircle(t.db, { name: 'Andere', prefix: 'A-', is_default: false, next_value: 900 });
    expect(await allocate()).toBe('K-00041');
    expect(await allocate()).toBe('K-00042');
    expect(await circle(t.db, id)).toMatchObject({ next_value: 43, issued_count: 2 });
  });

  it('skips numbers already in use, typed by hand in any case', async () => {
    const id = await givenCircle(t.db, { suffix: '/X' });
    for (const n of ['K-00001/X', 'k-00002/x', 'K-00004/X']) await givenContact(t.db, { customer_number: n });
    expect(await allocate()).toBe('K-00003/X');
    expect(await allocate()).toBe('K-00005/X');
    expect((await circle(t.db, id)).next_value).toBe(6);
  });

  it('keeps counting past the digits instead of cutting the number', async () => {
    await givenCircle(t.db, { digits: 2, next_value: 99 });
    expect(await allocate()).toBe('K-99');
    expect(await allocate()).toBe('K-100');
  });

  it('skips a long run of numbers in use with a handful of queries, not one per number', async () => {
    await givenCircle(t.db);
    await t.db.raw(`insert into contacts (last_name, customer_number) select 'Müller', 'K-' || lpad(n::text, 5, '0') from generate_series(1, 3000) n`);
    const { result: number, statements } = await withStatements(t.db, allocate);
    expect(number).toBe('K-03001');
    expect(statements.length).toBeLessThanOrEqual(10);
  });

  it('consumes nothing when the transaction that saves the number rolls back', async () => {
    const id = await givenCircle(t.db, { next_value: 7 });
    await expect(
      withNumberTransaction(t.db, async (trx) => {
        await allocateNumber(trx, 'contacts');
        throw new Error('Speichern fehlgeschlagen');
      }),
    ).rejects.toThrow('Speichern fehlgeschlagen');
    expect(await circle(t.db, id)).toMatchObject({ next_value: 7, issued_count: 0 });
    expect(await allocate()).toBe('K-00007');
  });

  it('predicts the next free number without locking or consuming it', async () => {
    const id = await givenCircle(t.db, { next_value: 3 });
    await givenContact(t.db, { customer_number: 'K-00003' });
    expect(await predictNextNumber(t.db, 'contacts')).toBe('K-00004');
    expect(await predictNextNumber(t.db, 'contacts')).toBe('K-00004');
    expect((await circle(t.db, id)).next_value).toBe(3);
    expect(await predictNextNumber(t.db, 'groups')).toBeUndefined();
  });

  it('refuses with a clear message when no default circle is configured', async () => {
    await givenCircle(t.db, { is_default: false });
    const error = await allocate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Conflict);
    expect((error as Conflict).messageKey).toBe('numbers.noDefaultContacts');
  });

  it('gives group numbers from the groups circle, skipping group numbers in use', async () => {
    await givenCircle(t.db);
    await givenCircle(t.db, { name: 'Gruppen', prefix: 'G-', digits: 3, target: 'groups' });
    await t.db('groups').insert({ name: 'Messe 2026', group_number: 'g-001' });
    expect(await withNumberTransaction(t.db, (trx) => allocateNumber(trx, 'groups'))).toBe('G-002');
    expect(await predictNextNumber(t.db, 'groups')).toBe('G-003');
    expect(await predictNextNumber(t.db, 'contacts')).toBe('K-00001');
  });

  it('refuses to run outside a transaction, where the lock would end at once', async () => {
    await givenCircle(t.db);
    await expect(allocateNumber(t.db as unknown as Knex.Transaction, 'contacts')).rejects.toThrow(/needs the transaction/);
  });

  it('skips a number typed by hand and saved just before the write', async () => {
    const id = await givenCircle(t.db);
    const contact = await givenContact(t.db);
    const attempts: string[] = [];
    const number = await withNumberTransaction(t.db, (trx) =>
      allocateAndWrite(trx, 'contacts', async (trx, n) => {
        attempts.push(n);
        if (attempts.length === 1) await givenContact(t.db, { customer_number: n.toLowerCase() });
        return writeContactNumberIfFree(trx, contact, n, null);
      }),
    );
    expect(attempts).toEqual(['K-00001', 'K-00002']);
    expect(number).toBe('K-00002');
    expect(await circle(t.db, id)).toMatchObject({ next_value: 3, issued_count: 1 });
  });

  it('runs the save again when a hand-typed number is committed while the write waits for it', async () => {
    const id = await givenCircle(t.db);
    const contact = await givenContact(t.db, { last_name: 'Weiß' });
    const attempts: string[] = [];
    const number = await withNumberTransaction(t.db, (trx) =>
      allocateAndWrite(trx, 'contacts', async (trx, n) => {
        attempts.push(n);
        if (attempts.length > 1) return writeContactNumberIfFree(trx, contact, n, null);
        // A colleague's save holds "k-00001", not yet committed: invisible to the check, the unique index waits for it.
        const colleague = await t.db.transaction();
        await colleague('contacts').insert({ last_name: 'Kollege', customer_number: n.toLowerCase() });
        setTimeout(() => void colleague.commit(), 100);
        return writeContactNumberIfFree(trx, contact, n, null);
      }),
    );
    expect(attempts).toEqual(['K-00001', 'K-00001', 'K-00002']);
    expect(number).toBe('K-00002');
    expect(await t.db('contacts').where({ id: contact }).first()).toMatchObject({ customer_number: 'K-00002' });
    expect(await circle(t.db, id)).toMatchObject({ next_value: 3, issued_count: 1 });
  });

  it('reports a number taken meanwhile as its own error when nobody retries', async () => {
    await givenCircle(t.db);
    const error = await t.db.transaction((trx) => allocateAndWrite(trx, 'contacts', async () => false)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NumberTakenMeanwhile);
  });

  it('holds the circle until the allocating transaction ends: a second allocation waits and gets the following number', async () => {
    await givenCircle(t.db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = withNumberTransaction(t.db, async (trx) => {
      const n = await allocateNumber(trx, 'contacts');
      await held;
      return n;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    let secondDone = false;
    const second = allocate().then((n) => ((secondDone = true), n));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false);
    release();
    expect(await first).toBe('K-00001');
    expect(await second).toBe('K-00002');
  });
});

describe('withNumberTransaction', () => {
  it.each(['40001', '40P01', '55P03'])('runs the transaction again after error %s, a bounded number of times', async (code) => {
    let runs = 0;
    const retried: number[] = [];
    const result = await withNumberTransaction(
      t.db,
      async () => {
        runs += 1;
        if (runs < 3) throw Object.assign(new Error('try again'), { code });
        return 'ok';
      },
      { onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(result).toBe('ok');
    expect(retried).toEqual([1, 2]);

    runs = 0;
    await expect(
      withNumberTransaction(t.db, async () => {
        runs += 1;
        throw Object.assign(new Error('always'), { code });
      }),
    ).rejects.toThrow('always');
    expect(runs).toBe(5);
  });

  it('does not retry other errors', async () => {
    let runs = 0;
    await expect(
      withNumberTransaction(t.db, async () => {
        runs += 1;
        throw Object.assign(new Error('duplicate'), { code: '23505' });
      }),
    ).rejects.toThrow('duplicate');
    expect(runs).toBe(1);
  });
});

describe('assignGeneratedNumber', () => {
  it('writes the number, bumps the version and records the assignment in the history', async () => {
    await givenCircle(t.db, { next_value: 42 });
    const user = await createUser(t.db);
    const contact = await givenContact(t.db);
    const number = await withNumberTransaction(t.db, (trx) => assignGeneratedNumber(trx, contact, user.id));
    expect(number).toBe('K-00042');
    expect(await t.db('contacts').where({ id: contact }).first()).toMatchObject({ customer_number: 'K-00042', version: 2, updated_by: user.id });
    expect(await t.db('contact_events').select('contact_id', 'actor_id', 'kind', 'payload')).toEqual([
      { contact_id: contact, actor_id: user.id, kind: 'number_assigned', payload: { number: 'K-00042', version: 2 } },
    ]);
  });

  it('refuses a contact that already has a number and consumes nothing', async () => {
    const id = await givenCircle(t.db);
    const contact = await givenContact(t.db, { customer_number: 'ALT-1' });
    const error = await withNumberTransaction(t.db, (trx) => assignGeneratedNumber(trx, contact, null)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Conflict);
    expect((error as Conflict).params).toEqual({ number: 'ALT-1' });
    expect((await circle(t.db, id)).next_value).toBe(1);
    expect(await t.db('contact_events').count({ n: '*' }).first()).toEqual({ n: '0' });
  });
});
