import { randomUUID } from 'node:crypto';
import { useTestDatabase } from './db';
import { buildApp, createUser, formFields, loginAs, withStatements } from './helpers';
import { createContact } from './factories';
import { ListFilter } from '../src/contacts/schema';
import { applyFilter } from '../src/contacts/queries';
import { countDynamicGroups } from '../src/groups/queries';
import { addMembers, createDynamicGroup, createGroup, purgeExpiredGroups, removeMembers } from '../src/groups/service';
import type { AssignmentInput } from '../src/assignment/schema';

const t = useTestDatabase();

const toAll: AssignmentInput = { kind: 'all', userIds: [], competenceId: undefined };

async function group(fields: Record<string, unknown>): Promise<string> {
  const [row] = await t.db('groups').insert({ name: 'Gruppe', kind: 'static', ...fields }).returning('id');
  return String(row.id);
}

async function members(groupId: string, contactIds: string[]): Promise<void> {
  await t.db('group_members').insert(contactIds.map((contact_id) => ({ group_id: groupId, contact_id })));
}

async function memberIds(groupId: string): Promise<string[]> {
  return (await t.db('group_members').where({ group_id: groupId }).orderBy('contact_id')).map((m) => String(m.contact_id));
}

function names(html: string): string[] {
  return [...html.matchAll(/<td><a href="\/contacts\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);
}

/** The sidebar's entries as the user reads them: name, count, and where the link goes. */
function sidebar(html: string): { name: string; count: string; href: string; current: boolean }[] {
  const aside = html.match(/<aside class="group-sidebar[\s\S]*?<\/aside>/)?.[0] ?? '';
  return [...aside.matchAll(/<a href="([^"]*)" data-group-link="\d*"( class="is-current" aria-current="page")?[^>]*>(?:<span class="group-name">)?([^<]*)(?:<\/span>)? ?(?:<span class="badge[^>]*>[^<]*<\/span>)?(?:<span class="group-count"[^>]*>([^<]*)<\/span>)?<\/a>/g)].map((m) => ({
    href: m[1].replace(/&amp;/g, '&'),
    current: Boolean(m[2]),
    name: m[3].trim(),
    count: m[4] ?? '',
  }));
}

async function login(name = 'Sabine Schröder') {
  const user = await createUser(t.db, { name });
  return { user, ...(await loginAs(buildApp(t.db), user.email)) };
}

describe('the group sidebar on the contacts list', () => {
  it('lists static and dynamic groups and only my own unexpired temporary ones, with member counts', async () => {
    const { user, agent } = await login();
    const other = await createUser(t.db);
    const a = await createContact(t.db, { last_name: 'Anton', city: 'München' });
    const b = await createContact(t.db, { last_name: 'Berta', city: 'München', status: 'customer' });
    const c = await createContact(t.db, { last_name: 'Cäsar', status: 'archived' });
    await createContact(t.db, { last_name: 'Dora', city: 'München', status: 'archived' });
    await members(await group({ name: 'Messe 2026', group_number: 'G-001' }), [a, b, c]);
    await group({ name: 'Kunden in München', kind: 'dynamic', filter: JSON.stringify({ city: 'münchen' }) });
    await members(await group({ name: 'Meine Auswahl', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() + interval '1 hour'`) }), [a]);
    await group({ name: 'Fremde Auswahl', kind: 'temporary', owner_id: other.id, expires_at: t.db.raw(`now() + interval '1 hour'`) });
    await group({ name: 'Abgelaufen', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() - interval '1 minute'`) });

    const page = await agent.get('/contacts');
    expect(sidebar(page.text).map(({ name, count }) => [name, count])).toEqual([
      ['Alle Kontakte', ''],
      ['Messe 2026', '3'],
      ['Kunden in München', '…'],
      ['Meine Auswahl', '1'],
    ]);
    expect(page.text).toMatch(/Temporäre Gruppen<\/h3>[\s\S]*>Meine Auswahl<\/span> <span class="badge badge-temporary">temporär<\/span>/);
    expect(page.text).toContain('hx-get="/groups/counts" hx-trigger="load" hx-swap="none"');

    // The dynamic count arrives in one request, as an out-of-band swap, and equals what the list shows for the group.
    const dynamicId = (await t.db('groups').where({ kind: 'dynamic' }).first()).id;
    const counts = await agent.get('/groups/counts').set('HX-Request', 'true');
    expect(counts.text).toContain(`<span class="group-count" id="group-count-${dynamicId}" hx-swap-oob="true">2</span>`);
    const list = await agent.get(`/contacts?group=${dynamicId}`);
    expect(list.text).toContain('2 Kontakte');
  });

  it('counts all dynamic groups in two statements side by side, each filter once', async () => {
    const me = await createUser(t.db);
    await createContact(t.db, { last_name: 'Kölner', city: 'Köln', status: 'customer' });
    await createContact(t.db, { last_name: 'Bonner', city: 'Bonn' });
    await createContact(t.db, { last_name: 'Eingang', city: 'Köln', status: 'inbox' });
    const koeln = await group({ kind: 'dynamic', filter: JSON.stringify({ city: 'köln', status: ['customer', 'inbox'] }) });
    const active = await group({ kind: 'dynamic', filter: JSON.stringify({}) });
    const percent = await group({ kind: 'dynamic', filter: JSON.stringify({ q: '100%' }) });
    const broken = await group({ kind: 'dynamic', filter: JSON.stringify({ status: ['verschollen'] }) });
    const { result: counts, statements } = await withStatements(t.db, () => countDynamicGroups(t.db, me.id));
    const exactly = (n: number) => ({ n, capped: false });
    expect(Object.fromEntries(counts)).toEqual({ [koeln]: exactly(2), [active]: exactly(2), [percent]: exactly(0), [broken]: exactly(0) });
    expect(statements.filter((sql) => sql.includes('from "contacts"'))).toHaveLength(2);
    expect(statements.join('\n').match(/select count\(\*\)/g)).toHaveLength(2);
  });

  it('links each group to the list filtered by it, keeping the search and filters, and highlights the chosen one', async () => {
    const { agent } = await login();
    const id = await group({ name: 'Messe 2026' });
    const page = await agent.get(`/contacts?q=m%C3%BCller&status=customer&status=prospect&sort=-name&group=${id}`);
    const entries = sidebar(page.text);
    expect(entries).toEqual([
      { name: 'Alle Kontakte', count: '', current: false, href: '/contacts?q=m%C3%BCller&status=customer&status=prospect&sort=-name' },
      { name: 'Messe 2026', count: '0', current: true, href: `/contacts?q=m%C3%BCller&status=customer&status=prospect&sort=-name&group=${id}` },
    ]);
    expect(page.text).toContain(`<a class="group-edit small" href="/groups/${id}">Gruppe bearbeiten</a>`);
    expect(page.text).toMatch(/<div class="page-head">[\s\S]*<div class="with-groups">\s*<aside class="group-sidebar/);
  });

  it('renders on its own for groupsChanged, with the links of the list it sits beside', async () => {
    const { agent } = await login();
    const id = await group({ name: 'Neu gefüllt' });
    await members(id, [await createContact(t.db)]);
    const res = await agent.get(`/groups/sidebar?q=abc&group=${id}`).set('HX-Request', 'true');
    expect(res.text.trim()).toMatch(/^<aside class="group-sidebar/);
    expect(sidebar(res.text)[1]).toEqual({ name: 'Neu gefüllt', count: '1', current: true, href: `/contacts?q=abc&group=${id}` });
  });
});

describe('creating a group with "Neue Gruppe"', () => {
  const valid = () => ({ name: 'Messe Hannover', group_number: 'G-007', kind: 'static', assignment: 'all', create_token: randomUUID() });

  it('offers the dialog as a fragment for htmx and as a page without JavaScript', async () => {
    const { agent } = await login();
    const fragment = await agent.get('/groups/new').set('HX-Request', 'true');
    expect(fragment.text).toMatch(/^<dialog data-modal/);
    expect(fragment.text).toContain('<h2 id="group-create-title">Neue Gruppe</h2>');
    expect(fragment.text).toMatch(/name="create_token" value="[0-9a-f-]{36}"/);
    expect(fragment.text).toContain('name="group_number"');
    expect(fragment.text).toContain('name="assignee_ids"');
    expect(fragment.headers.vary).toMatch(/HX-Request/);
    const page = await agent.get('/groups/new');
    expect(page.text).toContain('<html');
    expect(page.text).toMatch(/<form method="post" autocomplete="off" action="\/groups"/);
  });

  it('saves the group with number and assignment, then shows the list it was made from with a message', async () => {
    const { user, agent, csrf } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const res = await agent
      .post('/groups')
      .set('HX-Request', 'true')
      .set('HX-Current-URL', 'http://intranet/contacts?q=abc')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ ...valid(), assignment: 'users', assignee_ids: [max.id, user.id] });
    expect(res.status).toBe(204);
    expect(res.headers['hx-redirect']).toBe('/contacts?q=abc');
    const row = await t.db('groups').first();
    expect(row).toMatchObject({ name: 'Messe Hannover', group_number: 'G-007', kind: 'static', assignment: 'users', filter: null, owner_id: null, expires_at: null, created_by: user.id });
    expect((await t.db('group_assignees').where({ group_id: row.id }).orderBy('user_id')).map((a) => String(a.user_id))).toEqual([user.id, max.id].sort());
    const list = await agent.get('/contacts?q=abc');
    expect(list.text).toContain('Die Gruppe „Messe Hannover“ wurde angelegt.');
    expect(sidebar(list.text).map((e) => e.name)).toContain('Messe Hannover');
  });

  it('creates one group, not two, when "Speichern" is clicked twice', async () => {
    const { agent, csrf } = await login();
    const form = { ...valid(), _csrf: csrf };
    const [a, b] = await Promise.all([agent.post('/groups').type('form').send(form), agent.post('/groups').type('form').send(form)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(await t.db('groups').count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('requires a name, keeping everything typed', async () => {
    const { agent, csrf } = await login();
    const res = await agent
      .post('/groups')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ ...valid(), name: '   ', group_number: 'G-Ü1' });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/^<dialog/);
    expect(res.text).toContain('id="g-name-error">Bitte ausfüllen.');
    expect(res.text).toContain('value="G-Ü1"');
    expect(await t.db('groups').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('refuses a group number another group holds, in any case, naming that group', async () => {
    const { agent, csrf } = await login();
    await group({ name: 'Kunden Nord', group_number: 'G-001' });
    const res = await agent.post('/groups').type('form').send({ ...valid(), group_number: ' g-001 ', _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Gruppennummer g-001 ist bereits an „Kunden Nord“ vergeben.');
    expect(res.text).toContain('value="Messe Hannover"');
    expect(await t.db('groups').count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('offers "Nummer erzeugen" with the number it will probably give, and gives the next free one on saving', async () => {
    const { agent, csrf } = await login();
    await t.db('number_circles').insert({ name: 'Gruppennummern', prefix: 'G-', digits: 3, next_value: 1, target: 'groups', is_default: true });
    await group({ name: 'Von Hand', group_number: 'g-001' });
    const dialog = await agent.get('/groups/new').set('HX-Request', 'true');
    expect(dialog.text).toContain('name="generate_number" value="1"');
    expect(dialog.text).toContain('voraussichtlich G-002');
    const res = await agent.post('/groups').type('form').send({ ...valid(), group_number: '', generate_number: '1', _csrf: csrf });
    expect(res.status).toBe(303);
    expect(await t.db('groups').where({ name: 'Messe Hannover' }).first()).toMatchObject({ group_number: 'G-002' });
    expect(await t.db('number_circles').where({ target: 'groups' }).first()).toMatchObject({ next_value: '3' });
    expect((await agent.get(res.headers.location)).text).toContain('Die Gruppe „Messe Hannover“ wurde mit der Nummer G-002 angelegt.');
    const both = await agent.post('/groups').type('form').send({ ...valid(), group_number: 'G-100', generate_number: '1', _csrf: csrf });
    expect(both.status).toBe(422);
    expect(both.text).toContain('Bitte entweder eine Nummer eingeben oder „Nummer erzeugen“ wählen.');
  });

  it('refuses to overwrite a rename made meanwhile by someone else, names it and keeps the input; saving again then wins', async () => {
    const sabine = await login();
    const max = await login('Max Müller');
    const id = await group({ name: 'Messe', group_number: 'G-001' });
    const form = (await sabine.agent.get(`/groups/${id}`)).text;
    const seen = { seen_name: form.match(/name="seen_name" value="([^"]*)"/)![1], seen_group_number: form.match(/name="seen_group_number" value="([^"]*)"/)![1] };
    expect(seen).toEqual({ seen_name: 'Messe', seen_group_number: 'G-001' });

    await max.agent.post(`/groups/${id}`).type('form').send({ name: 'Messe Hannover', group_number: 'G-001', seen_name: 'Messe', seen_group_number: 'G-001', _csrf: max.csrf }).expect(303);
    const late = await sabine.agent.post(`/groups/${id}`).type('form').send({ name: 'Messe Köln', group_number: 'G-001', ...seen, _csrf: sabine.csrf });
    expect(late.status).toBe(409);
    expect(late.text).toContain('Die Gruppe wurde inzwischen von jemand anderem geändert: Name jetzt „Messe Hannover“, Nummer G-001.');
    expect(late.text).toContain('value="Messe Köln"');
    expect(late.text).toContain('name="seen_name" value="Messe Hannover"');
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ name: 'Messe Hannover' });

    // Typing what is there now is no conflict; saving from the refreshed form overwrites knowingly.
    await sabine.agent.post(`/groups/${id}`).type('form').send({ name: 'Messe Hannover', group_number: 'G-001', ...seen, _csrf: sabine.csrf }).expect(303);
    await sabine.agent.post(`/groups/${id}`).type('form').send({ name: 'Messe Köln', group_number: 'G-001', seen_name: 'Messe Hannover', seen_group_number: 'G-001', _csrf: sabine.csrf }).expect(303);
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ name: 'Messe Köln' });

    // A number taken away meanwhile is said as such, not as "Nummer –".
    await max.agent.post(`/groups/${id}`).type('form').send({ name: 'Messe Köln', group_number: '', seen_name: 'Messe Köln', seen_group_number: 'G-001', _csrf: max.csrf }).expect(303);
    const numberless = await sabine.agent.post(`/groups/${id}`).type('form').send({ name: 'Messe Köln', group_number: 'G-009', seen_name: 'Messe Köln', seen_group_number: 'G-001', _csrf: sabine.csrf });
    expect(numberless.status).toBe(409);
    expect(numberless.text).toContain('Name jetzt „Messe Köln“, ohne Gruppennummer.');
  });

  it('gives an existing group without a number one from the circle on its page, and offers it only while it has none', async () => {
    const { agent, csrf } = await login();
    await t.db('number_circles').insert({ name: 'Gruppennummern', prefix: 'G-', digits: 3, next_value: 7, target: 'groups', is_default: true });
    const id = await group({ name: 'Ohne Nummer', group_number: null });
    const page = await agent.get(`/groups/${id}`);
    expect(page.text).toContain('name="generate_number" value="1"');
    expect(page.text).toContain('voraussichtlich G-007');

    const both = await agent.post(`/groups/${id}`).type('form').send({ name: 'Ohne Nummer', group_number: 'X-1', generate_number: '1', _csrf: csrf });
    expect(both.status).toBe(422);
    expect(both.text).toContain('Bitte entweder eine Nummer eingeben oder „Nummer erzeugen“ wählen.');
    expect(both.text).toContain('value="X-1"');
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ group_number: null });

    const res = await agent.post(`/groups/${id}`).type('form').send({ name: 'Jetzt mit Nummer', group_number: '', generate_number: '1', _csrf: csrf });
    expect(res.status).toBe(303);
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ name: 'Jetzt mit Nummer', group_number: 'G-007' });
    const after = await agent.get(res.headers.location);
    expect(after.text).toContain('Die Gruppe „Jetzt mit Nummer“ wurde gespeichert und hat die Nummer G-007 erhalten.');
    expect(after.text).not.toContain('name="generate_number"');

    // Sent again from a stale page: the group has its number, nothing changes.
    const again = await agent.post(`/groups/${id}`).type('form').send({ name: 'Jetzt mit Nummer', group_number: '', generate_number: '1', _csrf: csrf });
    expect(again.status).toBe(422);
    expect(again.text).toContain('Die Gruppe hat inzwischen schon eine Nummer.');
    expect(await t.db('number_circles').where({ target: 'groups' }).first()).toMatchObject({ next_value: '8' });
  });

  it('does not offer "Nummer erzeugen" without a default number circle for groups, and refuses it if sent anyway', async () => {
    const { agent, csrf } = await login();
    expect((await agent.get('/groups/new').set('HX-Request', 'true')).text).not.toContain('generate_number');
    const res = await agent.post('/groups').type('form').send({ ...valid(), group_number: '', generate_number: '1', _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Für Gruppen ist kein Standard-Nummernkreis eingerichtet.');
    expect(await t.db('groups').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('refuses an assignment to a deactivated employee or to no one', async () => {
    const { agent, csrf } = await login();
    const gone = await createUser(t.db, { active: false });
    const inactive = await agent.post('/groups').type('form').send({ ...valid(), assignment: 'users', assignee_ids: gone.id, _csrf: csrf });
    expect(inactive.status).toBe(422);
    expect(inactive.text).toContain('Ein gewählter Mitarbeiter ist deaktiviert.');
    const none = await agent.post('/groups').type('form').send({ ...valid(), assignment: 'competence', _csrf: csrf });
    expect(none.status).toBe(422);
    expect(none.text).toMatch(/id="g-competence_id-error">/);
    expect(await t.db('groups').count({ n: '*' }).first()).toEqual({ n: '0' });
  });
});

describe('saving the list filter as a dynamic group', () => {
  it('opens the dialog with the current filter as hidden fields, never the group, sort or position', async () => {
    const { agent } = await login();
    const res = await agent
      .get('/groups/new?kind=dynamic&q=M%C3%BCller&status=customer&status=prospect&city=M%C3%BCnchen&sort=-name&group=5&after=abc&assigned=me')
      .set('HX-Request', 'true');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Als dynamische Gruppe speichern');
    const hidden = [...res.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]).filter(([n]) => !['_csrf', 'create_token'].includes(n));
    expect(hidden).toEqual([
      ['kind', 'dynamic'],
      ['q', 'Müller'],
      ['status', 'customer'],
      ['status', 'prospect'],
      ['city', 'München'],
      ['assigned', 'me'],
    ]);
    expect(res.text).toMatch(/<dt>Ort<\/dt><dd>München<\/dd>/);
  });

  it('stores exactly the parsed filter, and the group shows what the filter matches', async () => {
    const { user, agent, csrf } = await login();
    await createContact(t.db, { last_name: 'Huber', city: 'München', status: 'customer' });
    await createContact(t.db, { last_name: 'Maier', city: 'München' });
    await createContact(t.db, { last_name: 'Schulz', city: 'Berlin', status: 'customer' });
    const filter = { q: ' hub ', status: ['customer'], city: 'München', has_email: '' };
    const res = await agent
      .post('/groups')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ name: 'Kunden in München', kind: 'dynamic', create_token: randomUUID(), assignment: 'all', ...filter });
    expect(res.status).toBe(204);
    const row = await t.db('groups').first();
    expect(res.headers['hx-redirect']).toBe(`/contacts?group=${row.id}`);
    expect(row).toMatchObject({ kind: 'dynamic', created_by: user.id, filter: JSON.parse(JSON.stringify(ListFilter.parse(filter))) });
    expect(row.filter).toEqual({ q: 'hub', status: ['customer'], city: 'München' });
    const list = await agent.get(res.headers['hx-redirect']);
    expect(names(list.text)).toEqual(['Testperson Huber']);
    expect(list.text).toContain('Die Gruppe „Kunden in München“ wurde angelegt.');
  });

  it('refuses a filter that no longer validates, and saves nothing', async () => {
    const { agent, csrf } = await login();
    const res = await agent
      .post('/groups')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ name: 'Kaputt', kind: 'dynamic', create_token: randomUUID(), assignment: 'all', status: 'verschollen', city: 'Köln' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Der Filter der Liste ist ungültig');
    expect(res.text).not.toContain('type="submit"');
    const opened = await agent.get('/groups/new?kind=dynamic&postal_code=%27%3B--').set('HX-Request', 'true');
    expect(opened.status).toBe(422);
    expect(opened.text).toContain('Der Filter der Liste ist ungültig');
    expect(await t.db('groups').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('is offered next to the filters, carrying them to the dialog', async () => {
    const { agent } = await login();
    const page = await agent.get('/contacts?city=Bonn&sort=-name');
    expect(page.text).toMatch(/<a class="button save-dynamic" href="\/groups\/new\?kind=dynamic&amp;city=Bonn"[^>]*hx-include="closest form"/);
  });
});

describe('the group page', () => {
  it('shows name, number, kind, assignment and member count, with a link to the list', async () => {
    const { agent } = await login();
    const id = await group({ name: 'Messe 2026', group_number: 'G-001' });
    await members(id, [await createContact(t.db), await createContact(t.db)]);
    const page = await agent.get(`/groups/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Messe 2026 <span class="muted">G-001</span></h1>');
    expect(page.text).toContain('<span class="badge group-kind-static">Gruppe</span>');
    expect(page.text).toContain('2 Kontakte');
    expect(page.text).toContain(`href="/contacts?group=${id}">Kontakte der Gruppe anzeigen`);
    expect(page.text).toContain('assign-all">Alle');
    expect(page.text).toContain('Jeder Mitarbeiter kann sie umbenennen');
  });

  it('counts and describes a dynamic group by its filter', async () => {
    const { agent } = await login();
    await createContact(t.db, { city: 'Köln' });
    const id = await group({ name: 'Köln', kind: 'dynamic', filter: JSON.stringify({ city: 'Köln', has_number: 'no' }) });
    const page = await agent.get(`/groups/${id}`);
    expect(page.text).toContain('1 Kontakt');
    expect(page.text).toContain('<dt>Kundennummer</dt><dd>nicht vorhanden</dd>');
    expect(page.text).toContain('<dt>Status</dt><dd>Interessent, Kunde</dd>');
  });

  it('renames and renumbers a group, refusing a number another group holds', async () => {
    const { agent, csrf } = await login();
    const id = await group({ name: 'Alt', group_number: 'G-001' });
    await group({ name: 'Andere', group_number: 'G-002' });
    const taken = await agent.post(`/groups/${id}`).type('form').send({ name: 'Neu', group_number: 'g-002', _csrf: csrf });
    expect(taken.status).toBe(422);
    expect(taken.text).toContain('Gruppennummer g-002 ist bereits an „Andere“ vergeben.');
    expect(taken.text).toContain('value="Neu"');
    const blank = await agent.post(`/groups/${id}`).type('form').send({ name: '', group_number: '', _csrf: csrf });
    expect(blank.status).toBe(422);
    const saved = await agent.post(`/groups/${id}`).type('form').send({ name: 'Neu', group_number: 'g-001', _csrf: csrf });
    expect(saved.status).toBe(303);
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ name: 'Neu', group_number: 'g-001' });
    expect((await agent.get(saved.headers.location)).text).toContain('Die Gruppe „Neu“ wurde gespeichert.');
  });

  it('re-assigns a group with the reusable assignment fields, any employee may', async () => {
    const { agent, csrf } = await login();
    const owner = await createUser(t.db);
    const [team] = await t.db('competences').insert({ name: 'Vertrieb Süd' }).returning('id');
    const id = await group({ name: 'Geteilt', created_by: owner.id });
    const res = await agent.post(`/groups/${id}/assignment`).type('form').send({ assignment: 'competence', competence_id: team.id, _csrf: csrf });
    expect(res.status).toBe(303);
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ assignment: 'competence', competence_id: team.id });
    const page = await agent.get(`/groups/${id}`);
    expect(page.text).toContain('assign-competence" title="Kompetenz">Vertrieb Süd');
    const bad = await agent.post(`/groups/${id}/assignment`).type('form').send({ assignment: 'users', assignee_ids: '987654', _csrf: csrf });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('existiert nicht (mehr)');

    // A form loaded before that change, sent now: refused with what is saved, nothing overwritten.
    const stale = { ...formFields(page.text, `/groups/${id}/assignment`), seen_assignment: 'all', assignment: 'all' };
    const refused = await agent.post(`/groups/${id}/assignment`).type('form').send(stale);
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Gespeichert ist jetzt: Kompetenz Vertrieb Süd.');
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ assignment: 'competence', competence_id: team.id });
  });

  it('deletes a group after confirmation; its contacts remain', async () => {
    const { agent, csrf } = await login();
    const id = await group({ name: 'Weg damit' });
    const contact = await createContact(t.db);
    await members(id, [contact]);
    await t.db('group_assignees').insert({ group_id: id, user_id: (await createUser(t.db)).id });
    const dialog = await agent.get(`/groups/${id}/delete`).set('HX-Request', 'true');
    expect(dialog.text).toMatch(/^<dialog data-modal/);
    expect(dialog.text).toContain('Die Gruppe „Weg damit“ löschen? Die Kontakte bleiben erhalten');
    const res = await agent.post(`/groups/${id}/delete`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/contacts');
    expect(await t.db('groups').where({ id }).first()).toBeUndefined();
    expect(await t.db('group_members').where({ group_id: id })).toEqual([]);
    expect(await t.db('group_assignees').where({ group_id: id })).toEqual([]);
    expect(await t.db('contacts').where({ id: contact }).first()).toBeDefined();
    // The member's history says it left the group, as "Aus Gruppe entfernen" would.
    expect(await t.db('contact_events').where({ contact_id: contact, kind: 'group_removed' }).first()).toMatchObject({ payload: expect.objectContaining({ group: 'Weg damit' }) });
    expect((await agent.get('/contacts')).text).toContain('Die Gruppe „Weg damit“ wurde gelöscht. Ihre Kontakte bleiben erhalten.');
    expect((await agent.get(`/contacts/${contact}`)).text).toContain('aus der Gruppe „Weg damit“ entfernt');
    expect((await agent.get(`/contacts?group=${id}`)).status).toBe(404);
  });

  it("turns the owner's temporary group into a permanent one that everyone sees", async () => {
    const { user, agent, csrf } = await login();
    const colleague = await createUser(t.db);
    const id = await group({ name: 'Temporär 27.11. 14:05', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() + interval '2 hours'`) });
    // Joining and leaving a temporary group leaves no trace in the history, nor notifications.
    const [a, b, c] = [await createContact(t.db, { last_name: 'A' }), await createContact(t.db, { last_name: 'B' }), await createContact(t.db, { last_name: 'C' })];
    expect(await addMembers(t.db, id, [a, b, c], user.id)).toMatchObject({ added: 3 });
    expect(await removeMembers(t.db, id, [c], user.id)).toEqual({ removed: 1 });
    expect(await t.db('contact_events').whereIn('kind', ['group_added', 'group_removed'])).toEqual([]);
    expect(await t.db('notifications')).toEqual([]);
    const page = await agent.get(`/groups/${id}`);
    expect(page.text).toContain('Nur Sie sehen diese Gruppe.');
    expect(page.text).toContain('In dauerhafte Gruppe umwandeln');
    // Not "Gruppen gehören allen", and no assignment for a group nobody else sees.
    expect(page.text).toContain('Die Gruppe gehört nur Ihnen.');
    expect(page.text).not.toContain('Gruppen gehören allen');
    expect(page.text).toContain('Eine temporäre Gruppe sehen nur Sie; sie wird niemandem zugewiesen.');
    expect(page.text).not.toContain(`/groups/${id}/assignment`);
    // Sent anyway (an old page, a crafted form): refused, nothing saved.
    const assigned = await agent.post(`/groups/${id}/assignment`).type('form').send({ _csrf: csrf, assignment: 'users', assignee_ids: [colleague.id] });
    expect(assigned.status).toBe(409);
    expect(assigned.text).toContain('Eine temporäre Gruppe sehen nur Sie; sie wird niemandem zugewiesen.');
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ assignment: 'all' });
    const res = await agent.post(`/groups/${id}/keep`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ kind: 'static', owner_id: null, expires_at: null });
    // Made permanent, its members are recorded as joining it, and those responsible hear of it.
    const events = await t.db('contact_events').where({ kind: 'group_added' }).orderBy('contact_id');
    expect(events.map((e) => [String(e.contact_id), String(e.actor_id), e.payload.group])).toEqual([
      [a, user.id, 'Temporär 27.11. 14:05'],
      [b, user.id, 'Temporär 27.11. 14:05'],
    ]);
    expect((await t.db('notifications').where({ user_id: colleague.id })).map((n) => String(n.contact_id)).sort()).toEqual([a, b].sort());
    const kept = await agent.get(`/groups/${id}`);
    expect(kept.text).toContain('ist jetzt eine dauerhafte Gruppe');
    expect(kept.text).toContain('Gruppen gehören allen');
    expect(kept.text).toContain(`/groups/${id}/assignment`);
    const again = await agent.post(`/groups/${id}/keep`).type('form').send({ _csrf: csrf });
    expect(again.status).toBe(409);
  });

  it("answers 404 for another employee's temporary group, whatever is asked", async () => {
    const { agent, csrf, user } = await login();
    const other = await createUser(t.db);
    const id = await group({ name: 'Privat', kind: 'temporary', owner_id: other.id, expires_at: t.db.raw(`now() + interval '2 hours'`) });
    expect((await agent.get(`/groups/${id}`)).status).toBe(404);
    expect((await agent.post(`/groups/${id}/keep`).type('form').send({ _csrf: csrf })).status).toBe(404);
    expect((await agent.post(`/groups/${id}/delete`).type('form').send({ _csrf: csrf })).status).toBe(404);
    expect((await agent.post(`/groups/${id}`).type('form').send({ name: 'Meins', _csrf: csrf })).status).toBe(404);
    expect((await agent.get('/groups/abc')).status).toBe(404);
    // Nor can its contacts be selected: ticking "Alle Treffer" in it counted the whole list.
    const tick = await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ group: id, all: '1' });
    expect(tick.status).toBe(404);
    expect(tick.text).not.toContain('ausgewählt');
    // Ticks kept in one's own group deleted meanwhile can still be cleared.
    const mine = await group({ name: 'Meine', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() + interval '2 hours'`) });
    const ticked = await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ group: mine, all: '1' });
    expect(ticked.status).toBe(200);
    await t.db('groups').where({ id: mine }).delete();
    const cleared = await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ group: mine, clear: '1' });
    expect(cleared.status).toBe(200);
    expect(cleared.headers['hx-trigger']).toContain('selectionChanged');
    expect(await t.db('groups').where({ id }).first()).toMatchObject({ name: 'Privat', kind: 'temporary' });
  });

  it('refuses changes without the CSRF token', async () => {
    const { agent } = await login();
    const id = await group({ name: 'Bleibt' });
    expect((await agent.post(`/groups/${id}/delete`).type('form').send({})).status).toBe(403);
    expect((await agent.post('/groups').type('form').send({ name: 'X', create_token: randomUUID() })).status).toBe(403);
    expect(await t.db('groups').count({ n: '*' }).first()).toEqual({ n: '1' });
  });
});

describe('temporary groups', () => {
  it('belong to their maker, expire in 24 hours and are named by the time when made without a name', async () => {
    const me = await createUser(t.db);
    const { id } = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: me.id });
    const row = await t.db('groups').select('*', t.db.raw(`extract(epoch from expires_at - now()) as seconds`)).where({ id }).first();
    expect(row).toMatchObject({ kind: 'temporary', owner_id: me.id, created_by: me.id });
    expect(row.name).toMatch(/^Temporär \d\d\.\d\d\. \d\d:\d\d$/);
    expect(Number(row.seconds)).toBeGreaterThan(24 * 3600 - 60);
    expect(Number(row.seconds)).toBeLessThanOrEqual(24 * 3600);
  });

  it("disappear when their owner logs out, others' stay", async () => {
    const { user, agent, csrf } = await login();
    const other = await createUser(t.db);
    const mine = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: user.id });
    await members(mine.id, [await createContact(t.db)]);
    const theirs = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: other.id });
    const kept = await createGroup(t.db, { name: 'Dauerhaft', kind: 'static', assignment: toAll, actorId: user.id });
    const res = await agent.post('/logout').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect((await t.db('groups').orderBy('id')).map((g) => String(g.id))).toEqual([theirs.id, kept.id]);
    expect(await t.db('group_members')).toEqual([]);
  });

  it('stay while their owner is still logged in elsewhere, and go with the last session', async () => {
    const { user, agent: firstPc, csrf: firstCsrf } = await login();
    const { agent: secondPc, csrf: secondCsrf } = await loginAs(buildApp(t.db), user.email);
    const mine = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: user.id });
    expect((await secondPc.post('/logout').type('form').send({ _csrf: secondCsrf })).status).toBe(303);
    expect(await t.db('groups').where({ id: mine.id })).toHaveLength(1);
    expect((await firstPc.get(`/contacts?group=${mine.id}`)).status).toBe(200);
    expect((await firstPc.post('/logout').type('form').send({ _csrf: firstCsrf })).status).toBe(303);
    expect(await t.db('groups').where({ id: mine.id })).toHaveLength(0);
  });

  it('go when their owner is logged out by the idle timeout, at the next purge', async () => {
    const { user } = await login();
    const other = await login();
    const mine = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: user.id });
    const theirs = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: other.user.id });
    expect(await purgeExpiredGroups(t.db)).toBe(0);
    // The session of `user` ran out (the store's expiry is renewed while they are active).
    await t.db('session').whereRaw(`sess->>'userId' = ?`, [user.id]).update({ expire: t.db.raw(`now() - interval '1 second'`) });
    expect(await purgeExpiredGroups(t.db)).toBe(1);
    expect((await t.db('groups').orderBy('id')).map((g) => String(g.id))).toEqual([theirs.id]);
    expect(mine.id).not.toBe(theirs.id);
  });

  it('are purged 24 hours after they were made, and are invisible from then on', async () => {
    const { user, agent } = await login();
    const old = await group({ name: 'Gestern', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() - interval '1 second'`) });
    const fresh = await group({ name: 'Heute', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() + interval '23 hours'`) });
    const permanent = await group({ name: 'Dauerhaft' });
    expect((await agent.get(`/contacts?group=${old}`)).status).toBe(404);
    expect((await agent.get(`/groups/${old}`)).status).toBe(404);
    expect(await purgeExpiredGroups(t.db)).toBe(1);
    expect((await t.db('groups').orderBy('id')).map((g) => String(g.id))).toEqual([fresh, permanent]);
  });
});

describe('adding and removing members (the bulk actions use these)', () => {
  it('adds prospects and customers, reports inbox and archived contacts as skipped by status, and leaves existing members alone', async () => {
    const me = await createUser(t.db);
    const prospect = await createContact(t.db, { status: 'prospect' });
    const customer = await createContact(t.db, { status: 'customer' });
    const already = await createContact(t.db, { status: 'customer' });
    const inbox = [await createContact(t.db, { status: 'inbox' }), await createContact(t.db, { status: 'inbox' })];
    const archived = await createContact(t.db, { status: 'archived' });
    const { id } = await createGroup(t.db, { name: 'Messe', kind: 'static', assignment: toAll, actorId: me.id });
    await members(id, [already]);
    const result = await addMembers(t.db, id, [prospect, customer, already, ...inbox, archived, '999999'], me.id);
    expect(result).toEqual({ added: 2, skipped: [{ status: 'archived', count: 1 }, { status: 'inbox', count: 2 }] });
    expect(await memberIds(id)).toEqual([prospect, customer, already].sort((a, b) => Number(a) - Number(b)));
  });

  it('writes a history event per added contact and notifies the responsible employees, set-based', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const colleague = await createUser(t.db);
    const contacts = [await createContact(t.db), await createContact(t.db), await createContact(t.db)];
    const { id } = await createGroup(t.db, { name: 'Messe „Nord“', kind: 'static', assignment: toAll, actorId: me.id });
    const { statements } = await withStatements(t.db, () => addMembers(t.db, id, contacts, me.id));
    expect(statements.filter((sql) => /insert into/i.test(sql))).toHaveLength(2);
    const events = await t.db('contact_events').where({ kind: 'group_added' }).orderBy('contact_id');
    expect(events.map((e) => [String(e.contact_id), String(e.actor_id), e.payload])).toEqual(contacts.map((c) => [c, me.id, { group: 'Messe „Nord“', group_id: Number(id) }]));
    const notifications = await t.db('notifications').orderBy('contact_id');
    expect(notifications.map((n) => [String(n.user_id), String(n.contact_id)])).toEqual(contacts.map((c) => [colleague.id, c]));

    const { agent } = await loginAs(buildApp(t.db), colleague.email);
    const history = await agent.get(`/contacts/${contacts[0]}`);
    expect(history.text).toContain('hat den Kontakt zur Gruppe „Messe „Nord““ hinzugefügt');
  });

  it('takes "all matching" as a query and adds exactly what it selects, however odd the filter', async () => {
    const me = await createUser(t.db);
    const hit = await createContact(t.db, { company: 'Rabatt 100% GmbH' });
    await createContact(t.db, { company: 'Rabatt 1000 AG' });
    await createContact(t.db, { company: "O'Brien & Söhne" });
    const { id } = await createGroup(t.db, { name: 'Rabatt', kind: 'static', assignment: toAll, actorId: me.id });
    const filter = ListFilter.parse({ q: '100%' });
    const all = applyFilter(t.db, t.db('contacts as c').select('c.id'), filter, me.id);
    expect(await addMembers(t.db, id, all, me.id)).toEqual({ added: 1, skipped: [] });
    expect(await memberIds(id)).toEqual([hit]);
    const quote = applyFilter(t.db, t.db('contacts as c').select('c.id'), ListFilter.parse({ q: "o'brien" }), me.id);
    expect((await addMembers(t.db, id, quote, me.id)).added).toBe(1);
    expect(await memberIds(id)).toHaveLength(2);
  });

  it('runs in the caller’s transaction, so a later failure leaves nothing behind', async () => {
    const me = await createUser(t.db);
    const contact = await createContact(t.db);
    await expect(
      t.db.transaction(async (trx) => {
        const { id } = await createGroup(trx, { name: 'Halb', kind: 'static', assignment: toAll, actorId: me.id });
        await addMembers(trx, id, [contact], me.id);
        throw new Error('later step failed');
      }),
    ).rejects.toThrow('later step failed');
    expect(await t.db('groups')).toEqual([]);
    expect(await t.db('contact_events').where({ kind: 'group_added' })).toEqual([]);
  });

  it('refuses to change the members of a dynamic group', async () => {
    const me = await createUser(t.db);
    const { id } = await createDynamicGroup(t.db, { name: 'Köln', filter: { city: 'Köln' }, assignment: toAll, actorId: me.id });
    const contact = await createContact(t.db);
    await expect(addMembers(t.db, id, [contact], me.id)).rejects.toMatchObject({ status: 409, messageKey: 'groups.dynamicMembers' });
    await expect(removeMembers(t.db, id, [contact], me.id)).rejects.toMatchObject({ status: 409 });
    expect(await t.db('group_members')).toEqual([]);
  });

  it("treats another employee's temporary group as missing", async () => {
    const me = await createUser(t.db);
    const other = await createUser(t.db);
    const { id } = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: other.id });
    await expect(addMembers(t.db, id, [await createContact(t.db)], me.id)).rejects.toMatchObject({ status: 404, messageKey: 'groups.gone' });
  });

  it("keeps each group's member count exact however members come and go, deleted contacts included", async () => {
    const me = await createUser(t.db);
    const [a, b, c] = [await createContact(t.db), await createContact(t.db), await createContact(t.db)];
    const first = await createGroup(t.db, { name: 'Eins', kind: 'static', assignment: toAll, actorId: me.id });
    const second = await createGroup(t.db, { name: 'Zwei', kind: 'static', assignment: toAll, actorId: me.id });
    const count = async (id: string) => (await t.db('groups').select('member_count').where({ id }).first()).member_count;
    await addMembers(t.db, first.id, [a, b, c], me.id);
    await addMembers(t.db, second.id, [a, b], me.id);
    await addMembers(t.db, first.id, [a], me.id);
    expect([await count(first.id), await count(second.id)]).toEqual([3, 2]);
    await removeMembers(t.db, first.id, [c], me.id);
    await t.db('contacts').whereIn('id', [a, b]).delete();
    expect([await count(first.id), await count(second.id)]).toEqual([0, 0]);
    await t.db('groups').where({ id: second.id }).delete();
    expect(await t.db('contacts').where({ id: c }).first()).toBeDefined();
  });

  it('removes members with a group_removed event each, ignoring contacts that were not members', async () => {
    const me = await createUser(t.db);
    const colleague = await createUser(t.db);
    const [a, b, outsider] = [await createContact(t.db), await createContact(t.db, { status: 'archived' }), await createContact(t.db)];
    const { id } = await createGroup(t.db, { name: 'Messe', kind: 'static', assignment: toAll, actorId: me.id });
    await members(id, [a, b]);
    expect(await removeMembers(t.db, id, [b, outsider], me.id)).toEqual({ removed: 1 });
    expect(await memberIds(id)).toEqual([a]);
    const events = await t.db('contact_events').where({ kind: 'group_removed' });
    expect(events.map((e) => [String(e.contact_id), e.payload])).toEqual([[b, { group: 'Messe', group_id: Number(id) }]]);
    expect((await t.db('notifications')).map((n) => [String(n.user_id), String(n.contact_id)])).toEqual([[colleague.id, b]]);
    const all = t.db('contacts as c').select('c.id');
    expect(await removeMembers(t.db, id, all, me.id)).toEqual({ removed: 1 });
    expect(await memberIds(id)).toEqual([]);
  });
});
