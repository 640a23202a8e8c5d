import request from 'supertest';
import { useTestDatabase } from './db';
import { buildApp, createUser, formFields, loginAs } from './helpers';
import { createContact } from './factories';
import { reassign } from '../src/competences/service';
import { changeAssignment } from '../src/contacts/service';

const t = useTestDatabase();

async function asAdmin() {
  const admin = await createUser(t.db, { name: 'Anna Admin', role: 'admin' });
  const app = buildApp(t.db);
  return { app, admin, ...(await loginAs(app, admin.email)) };
}

async function competence(name: string, memberIds: string[] = []): Promise<string> {
  const [row] = await t.db('competences').insert({ name }).returning('id');
  if (memberIds.length) await t.db('competence_members').insert(memberIds.map((user_id) => ({ competence_id: row.id, user_id })));
  return String(row.id);
}

async function membersOf(id: string): Promise<string[]> {
  const rows = await t.db('competence_members').select('user_id').where({ competence_id: id }).orderBy('user_id');
  return rows.map((r) => String(r.user_id));
}

async function competenceCount(): Promise<number> {
  return Number((await t.db('competences').count({ n: '*' }).first())!.n);
}

async function assignTo(contactId: string, competenceId: string): Promise<void> {
  await t.db('contacts').where({ id: contactId }).update({ assignment: 'competence', competence_id: competenceId });
}

const sorted = (ids: string[]) => [...ids].sort((a, b) => Number(a) - Number(b));

describe('the competences settings', () => {
  it.each([
    ['get', '/settings/competences'],
    ['get', '/settings/competences/new'],
    ['get', '/settings/competences/1/edit'],
    ['get', '/settings/competences/1/delete'],
    ['post', '/settings/competences/1'],
    ['post', '/settings/competences/1/delete'],
    ['post', '/settings/competences/1/reassignment'],
  ] as const)('refuse a member %s %s with 403', async (method, path) => {
    const member = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), member.email);
    const res = method === 'get' ? await agent.get(path) : await agent.post(path).type('form').send({ _csrf: csrf, to: 'all' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Dafür fehlt Ihnen die Berechtigung.');
  });

  it('refuse a member creating, renaming, reassigning and deleting with a valid CSRF token, and nothing changes', async () => {
    const member = await createUser(t.db);
    const team = await competence('Vertrieb Süd', [member.id]);
    const contact = await createContact(t.db);
    await assignTo(contact, team);
    const { agent, csrf } = await loginAs(buildApp(t.db), member.email);
    const posts = [
      agent.post('/settings/competences').type('form').send({ _csrf: csrf, name: 'Neu', member_ids: member.id }),
      agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, name: 'Umbenannt' }),
      agent.post(`/settings/competences/${team}/reassignment`).type('form').send({ _csrf: csrf, to: 'all' }),
      agent.post(`/settings/competences/${team}/delete`).type('form').send({ _csrf: csrf }),
    ];
    for (const res of await Promise.all(posts)) expect(res.status).toBe(403);
    expect(await t.db('competences').select('name')).toEqual([{ name: 'Vertrieb Süd' }]);
    expect(await membersOf(team)).toEqual([member.id]);
    expect(await t.db('contacts').where({ id: contact }).first()).toMatchObject({ assignment: 'competence', competence_id: team });
    expect(await t.db('contact_events').where({ kind: 'assigned' })).toEqual([]);
  });

  it('are listed in the settings navigation and answer at /settings/competences', async () => {
    const { agent } = await asAdmin();
    const res = await agent.get('/settings/competences');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a href="/settings/competences" aria-current="page">Kompetenzen</a>');
    expect(res.text).toContain('Noch keine Kompetenzen angelegt.');
  });
});

describe('the competence list', () => {
  it('shows each competence by name with its members, deactivated ones marked, and its number of contacts', async () => {
    const { agent } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const emily = await createUser(t.db, { name: 'Emily Clarke', active: false });
    const nord = await competence('vertrieb Nord', [max.id, emily.id]);
    await competence('Buchhaltung');
    for (let i = 0; i < 3; i += 1) await assignTo(await createContact(t.db), nord);
    await createContact(t.db);

    const res = await agent.get('/settings/competences');
    expect(res.status).toBe(200);
    expect(res.text.indexOf('<td>Buchhaltung</td>')).toBeGreaterThan(0);
    expect(res.text.indexOf('<td>Buchhaltung</td>')).toBeLessThan(res.text.indexOf('<td>vertrieb Nord</td>'));
    expect(res.text).toMatch(
      /<td>vertrieb Nord<\/td>\s*<td>\s*<span class="muted">Emily Clarke \(deaktiviert\)<\/span>, <span>Max Müller<\/span>\s*<\/td>\s*<td class="num">3<\/td>/,
    );
    expect(res.text).toMatch(/<td>Buchhaltung<\/td>\s*<td>\s*<span class="muted">keine Mitglieder<\/span>\s*<\/td>\s*<td class="num">0<\/td>/);
    expect(res.text).toContain(`href="/settings/competences/${nord}/edit" aria-label="vertrieb Nord bearbeiten"`);
  });
});

describe('creating a competence', () => {
  it('offers the active employees as members, not the deactivated ones', async () => {
    const { agent } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    await createUser(t.db, { name: 'Emily Clarke', active: false });
    const res = await agent.get('/settings/competences/new');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<input type="checkbox" name="member_ids" value="${max.id}"> Max Müller`);
    expect(res.text).not.toContain('Emily Clarke');
  });

  it('stores the name and the members, and says so on the list', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const res = await agent
      .post('/settings/competences')
      .type('form')
      .send({ _csrf: csrf, name: '  Vertrieb Nord  ', member_ids: [max.id, sabine.id, max.id] });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/competences');
    const stored = await t.db('competences').first();
    expect(stored.name).toBe('Vertrieb Nord');
    expect(await membersOf(String(stored.id))).toEqual(sorted([max.id, sabine.id]));
    const list = await agent.get('/settings/competences');
    expect(list.text).toContain('Die Kompetenz „Vertrieb Nord“ wurde angelegt.');
    expect(list.text).toContain('<span>Max Müller</span>, <span>Sabine Schröder</span>');
  });

  it('allows a competence without members', async () => {
    const { agent, csrf } = await asAdmin();
    const res = await agent.post('/settings/competences').type('form').send({ _csrf: csrf, name: 'Empfang' });
    expect(res.status).toBe(303);
    expect(await competenceCount()).toBe(1);
  });

  it('refuses a name taken in another case, keeping what was typed and the ticked members', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    await competence('Vertrieb Nord');
    const res = await agent.post('/settings/competences').type('form').send({ _csrf: csrf, name: 'VERTRIEB nord', member_ids: max.id });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-name-error">Eine Kompetenz mit diesem Namen gibt es bereits.</p>');
    expect(res.text).toContain('value="VERTRIEB nord"');
    expect(res.text).toContain(`value="${max.id}" checked> Max Müller`);
    expect(res.text).toContain('Bitte prüfen Sie die markierten Felder.');
    expect(await competenceCount()).toBe(1);
  });

  it('gives one competence and one field message when two admins add the same name at once', async () => {
    const { agent, csrf } = await asAdmin();
    const send = (name: string) => agent.post('/settings/competences').type('form').send({ _csrf: csrf, name });
    const results = await Promise.all([send('Vertrieb Nord'), send('vertrieb nord')]);
    expect(results.map((r) => r.status).sort()).toEqual([303, 422]);
    expect(results.find((r) => r.status === 422)!.text).toContain('Eine Kompetenz mit diesem Namen gibt es bereits.');
    expect(await competenceCount()).toBe(1);
  });

  it.each([
    ['a blank name', { name: '   ' }, 'name', 'Bitte ausfüllen.'],
    ['a 101-character name', { name: 'x'.repeat(101) }, 'name', 'Höchstens 100 Zeichen.'],
    ['a member id that is no number', { member_ids: 'abc' }, 'member_ids', 'Ungültige Mitarbeiter-Auswahl.'],
    ['an unknown member', { member_ids: '999999' }, 'member_ids', 'Ein gewählter Mitarbeiter existiert nicht (mehr).'],
  ])('refuses %s with a message under the field and writes nothing', async (_case, change, field, message) => {
    const { agent, csrf } = await asAdmin();
    const res = await agent.post('/settings/competences').type('form').send({ _csrf: csrf, name: 'Vertrieb Nord', ...change });
    expect(res.status).toBe(422);
    expect(res.text).toContain(`id="f-${field}-error">${message}</p>`);
    expect(await competenceCount()).toBe(0);
  });

  it('refuses a deactivated employee as a new member', async () => {
    const { agent, csrf } = await asAdmin();
    const emily = await createUser(t.db, { name: 'Emily Clarke', active: false });
    const res = await agent.post('/settings/competences').type('form').send({ _csrf: csrf, name: 'Vertrieb Nord', member_ids: emily.id });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-member_ids-error">Ein gewählter Mitarbeiter ist deaktiviert und kann nicht neu hinzugefügt werden.</p>');
    expect(await competenceCount()).toBe(0);
  });

  it('shows markup in a name as text', async () => {
    const { agent, csrf } = await asAdmin();
    await agent.post('/settings/competences').type('form').send({ _csrf: csrf, name: '<b>Team</b>' });
    const list = await agent.get('/settings/competences');
    expect(list.text).toContain('<td>&lt;b&gt;Team&lt;/b&gt;</td>');
    expect(list.text).not.toContain('<b>Team</b>');
  });
});

describe('editing a competence', () => {
  it('shows the form with the members ticked, deactivated members included and marked', async () => {
    const { agent } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const emily = await createUser(t.db, { name: 'Emily Clarke', active: false });
    await createUser(t.db, { name: 'Zoe Zimmer', active: false });
    const team = await competence('Vertrieb Nord', [emily.id]);
    const res = await agent.get(`/settings/competences/${team}/edit`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('value="Vertrieb Nord"');
    expect(res.text).toContain(`action="/settings/competences/${team}"`);
    expect(res.text).toContain(`value="${emily.id}" checked> Emily Clarke (deaktiviert)`);
    expect(res.text).toContain(`value="${max.id}"> Max Müller`);
    expect(res.text).not.toContain('Zoe Zimmer');
  });

  it('renames it and changes its members; a deactivated member may stay', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const emily = await createUser(t.db, { name: 'Emily Clarke', active: false });
    const team = await competence('Vertrieb Nord', [max.id, emily.id]);
    const res = await agent
      .post(`/settings/competences/${team}`)
      .type('form')
      .send({ _csrf: csrf, name: 'Vertrieb Nord-Ost', member_ids: [sabine.id, emily.id] });
    expect(res.status).toBe(303);
    expect((await t.db('competences').where({ id: team }).first()).name).toBe('Vertrieb Nord-Ost');
    expect(await membersOf(team)).toEqual(sorted([sabine.id, emily.id]));
    expect((await agent.get('/settings/competences')).text).toContain('Die Kompetenz „Vertrieb Nord-Ost“ wurde gespeichert.');
  });

  it('keeps what another tab saved meanwhile where this form changed nothing, and refuses where both changed', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const team = await competence('Innendienst', []);
    const formOf = async () => {
      const page = (await agent.get(`/settings/competences/${team}/edit`)).text;
      return { seen_name: page.match(/name="seen_name" value="([^"]*)"/)![1], seen_member_ids: page.match(/name="seen_member_ids" value="([^"]*)"/)![1] };
    };
    const tabA = await formOf();
    const tabB = await formOf();
    // Tab A adds two members; tab B, opened before, only renames: the members stay.
    expect((await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, ...tabA, name: 'Innendienst', member_ids: [max.id, sabine.id] })).status).toBe(303);
    expect((await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, ...tabB, name: 'Innendienst Nord' })).status).toBe(303);
    expect((await t.db('competences').where({ id: team }).first()).name).toBe('Innendienst Nord');
    expect(await membersOf(team)).toEqual(sorted([max.id, sabine.id]));
    // Both change the members: the second is told what is saved, keeps its input, and writes nothing.
    const tabC = await formOf();
    const tabD = await formOf();
    expect((await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, ...tabC, name: 'Innendienst Nord', member_ids: [max.id] })).status).toBe(303);
    const clash = await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, ...tabD, name: 'Innendienst Nord', member_ids: [sabine.id] });
    expect(clash.status).toBe(409);
    expect(clash.text).toContain('Die Kompetenz wurde inzwischen von jemand anderem geändert');
    expect(clash.text).toContain('Gespeichert ist jetzt: „Innendienst Nord“ (Max Müller)');
    expect(clash.text).toContain(`value="${sabine.id}" checked>`);
    expect(clash.text).toContain(`name="seen_member_ids" value="${max.id}"`);
    expect(await membersOf(team)).toEqual([max.id]);
    // Saved again as it came back: a deliberate overwrite.
    expect((await agent.post(`/settings/competences/${team}`).type('form').send(formFields(clash.text, `/settings/competences/${team}`))).status).toBe(303);
    expect(await membersOf(team)).toEqual([sabine.id]);
    // Both rename; one also adds a member. The other's form comes back with that member ticked, so saving it
    // again as it came back keeps the member and takes its name.
    const tabE = await formOf();
    const tabF = await formOf();
    expect((await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, ...tabE, name: 'VS B', member_ids: [sabine.id, max.id] })).status).toBe(303);
    const renamed = await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, ...tabF, name: 'VS A', member_ids: [sabine.id] });
    expect(renamed.status).toBe(409);
    expect((await agent.post(`/settings/competences/${team}`).type('form').send(formFields(renamed.text, `/settings/competences/${team}`))).status).toBe(303);
    expect((await t.db('competences').where({ id: team }).first()).name).toBe('VS A');
    expect(await membersOf(team)).toEqual(sorted([max.id, sabine.id]));
  });

  it('removes every member when none is ticked', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db);
    const team = await competence('Vertrieb Nord', [max.id]);
    const res = await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, name: 'Vertrieb Nord' });
    expect(res.status).toBe(303);
    expect(await membersOf(team)).toEqual([]);
  });

  it('asks before the last members go while contacts are assigned to it, keeping the form, and saves when told to', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db);
    const team = await competence('Kundenservice', [max.id]);
    await assignTo(await createContact(t.db), team);
    await assignTo(await createContact(t.db), team);
    const form = formFields((await agent.get(`/settings/competences/${team}/edit`)).text, `/settings/competences/${team}`);
    const { member_ids: _ticked, ...unticked } = form;
    const asked = await agent.post(`/settings/competences/${team}`).type('form').send({ ...unticked, name: 'Kundendienst' });
    expect(asked.status).toBe(409);
    expect(asked.text).toContain('„Kundendienst“ ist 2 Kontakten zugewiesen. Ohne Mitglieder ist niemand mehr für sie zuständig');
    expect(asked.text).toContain('name="without_members" value="1"');
    expect(asked.text).toContain('value="Kundendienst"');
    expect(await membersOf(team)).toEqual([max.id]);
    expect((await t.db('competences').where({ id: team }).first()).name).toBe('Kundenservice');
    // Sent again with the box ticked: saved as it was asked.
    const again = formFields(asked.text, `/settings/competences/${team}`);
    const saved = await agent.post(`/settings/competences/${team}`).type('form').send({ ...again, without_members: '1' });
    expect(saved.status).toBe(303);
    expect(await membersOf(team)).toEqual([]);
    expect((await t.db('competences').where({ id: team }).first()).name).toBe('Kundendienst');
    // Without members already, or without contacts, nothing is asked.
    expect((await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, name: 'Kundendienst 2' })).status).toBe(303);
  });

  it('lets a competence keep its own name in another case, but not take another one’s', async () => {
    const { agent, csrf } = await asAdmin();
    const team = await competence('Vertrieb Nord');
    await competence('Buchhaltung');
    const own = await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, name: 'VERTRIEB NORD' });
    expect(own.status).toBe(303);
    const taken = await agent.post(`/settings/competences/${team}`).type('form').send({ _csrf: csrf, name: 'buchhaltung' });
    expect(taken.status).toBe(422);
    expect(taken.text).toContain('Eine Kompetenz mit diesem Namen gibt es bereits.');
    expect(taken.text).toContain('value="buchhaltung"');
    expect((await t.db('competences').where({ id: team }).first()).name).toBe('VERTRIEB NORD');
  });

  it('refuses adding an employee who is deactivated and not yet a member, changing nothing', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db);
    const emily = await createUser(t.db, { active: false });
    const team = await competence('Vertrieb Nord', [max.id]);
    const res = await agent
      .post(`/settings/competences/${team}`)
      .type('form')
      .send({ _csrf: csrf, name: 'Anders', member_ids: [max.id, emily.id] });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Ein gewählter Mitarbeiter ist deaktiviert und kann nicht neu hinzugefügt werden.');
    expect(await membersOf(team)).toEqual([max.id]);
    expect((await t.db('competences').where({ id: team }).first()).name).toBe('Vertrieb Nord');
  });

  it.each([
    ['get', '/settings/competences/999999/edit'],
    ['get', '/settings/competences/abc/edit'],
    ['post', '/settings/competences/999999'],
    ['get', '/settings/competences/999999/delete'],
    ['post', '/settings/competences/999999/delete'],
    ['post', '/settings/competences/999999/reassignment'],
  ] as const)('answers %s %s for an unknown competence with the 404 page', async (method, path) => {
    const { agent, csrf } = await asAdmin();
    const res = method === 'get' ? await agent.get(path) : await agent.post(path).type('form').send({ _csrf: csrf, name: 'X', to: 'all' });
    expect(res.status).toBe(404);
    expect(res.text).toContain('Diese Seite gibt es nicht (mehr).');
    expect(await competenceCount()).toBe(0);
  });
});

describe('deleting a competence', () => {
  it('asks first, in a dialog for htmx, and deletes it with its memberships when confirmed', async () => {
    const { agent, csrf } = await asAdmin();
    const max = await createUser(t.db);
    const team = await competence('Vertrieb Nord', [max.id]);
    const dialog = await agent.get(`/settings/competences/${team}/delete`).set('HX-Request', 'true');
    expect(dialog.status).toBe(200);
    expect(dialog.headers.vary).toContain('HX-Request');
    expect(dialog.text).toMatch(/^<dialog data-modal/);
    expect(dialog.text).toContain('Die Kompetenz „Vertrieb Nord“ endgültig löschen?');

    const res = await agent.post(`/settings/competences/${team}/delete`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/competences');
    expect(await competenceCount()).toBe(0);
    expect(await t.db('competence_members')).toEqual([]);
    expect((await agent.get('/settings/competences')).text).toContain('Die Kompetenz „Vertrieb Nord“ wurde gelöscht.');
  });

  it('is refused with 409 while contacts are assigned, and the page offers to reassign them', async () => {
    const { agent, csrf } = await asAdmin();
    const team = await competence('Vertrieb Nord');
    await competence('Vertrieb Süd');
    await assignTo(await createContact(t.db), team);
    await assignTo(await createContact(t.db, { status: 'archived', previous_status: 'customer' }), team);

    const res = await agent.post(`/settings/competences/${team}/delete`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Die Kompetenz „Vertrieb Nord“ ist noch 2 Kontakten zugewiesen und kann deshalb nicht gelöscht werden.');
    expect(res.text).toContain(`action="/settings/competences/${team}/reassignment"`);
    expect(res.text).toContain('<option value="all" selected>Alle Mitarbeiter</option>');
    expect(res.text).toMatch(/<option value="\d+">Vertrieb Süd<\/option>/);
    expect(res.text).not.toMatch(/<option value="\d+">Vertrieb Nord<\/option>/);
    expect(res.text).toContain('>Neu zuweisen</button>');
    expect(await competenceCount()).toBe(2);
  });

  it('moves the contacts to another competence in one go, with history and notifications, and then deletes', async () => {
    const { agent, csrf, admin } = await asAdmin();
    const oldMember = await createUser(t.db, { name: 'Max Müller' });
    const newMember = await createUser(t.db, { name: 'Sabine Schröder' });
    const inactive = await createUser(t.db, { name: 'Emily Clarke' });
    const bystander = await createUser(t.db, { name: 'Jürgen Weiß' });
    const nord = await competence('Vertrieb Nord', [oldMember.id]);
    const sued = await competence('Vertrieb Süd', [newMember.id, inactive.id, admin.id]);
    await t.db('users').where({ id: inactive.id }).update({ active: false });
    const moved = [await createContact(t.db), await createContact(t.db, { status: 'inbox' })];
    for (const id of moved) await assignTo(id, nord);
    const untouched = await createContact(t.db);

    const res = await agent.post(`/settings/competences/${nord}/reassignment`).type('form').send({ _csrf: csrf, to: sued });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/settings/competences/${nord}/delete`);

    const contacts = await t.db('contacts').select('id', 'assignment', 'competence_id', 'updated_by').whereIn('id', moved).orderBy('id');
    expect(contacts).toEqual(moved.map((id) => ({ id, assignment: 'competence', competence_id: sued, updated_by: admin.id })));
    expect(await t.db('contacts').where({ id: untouched }).first()).toMatchObject({ assignment: 'all', competence_id: null });

    const events = await t.db('contact_events').select('id', 'contact_id', 'actor_id', 'payload').where({ kind: 'assigned' }).orderBy('contact_id');
    expect(events.map((e) => e.contact_id)).toEqual(moved);
    for (const event of events) {
      expect(event).toMatchObject({
        actor_id: admin.id,
        payload: { from: { kind: 'competence', names: ['Vertrieb Nord'], id: nord }, to: { kind: 'competence', names: ['Vertrieb Süd'], id: sued } },
      });
    }
    // The newly responsible are told, and the old team, whose contacts they were; the acting admin,
    // the deactivated member and the bystander are not.
    const notifications = await t.db('notifications').select('user_id', 'contact_id', 'event_id').orderBy(['contact_id', 'user_id']);
    expect(notifications).toEqual(
      events.flatMap((e) => [oldMember, newMember].map((u) => ({ user_id: u.id, contact_id: e.contact_id, event_id: e.id }))),
    );
    expect(notifications.some((n) => [bystander.id, inactive.id, admin.id].includes(n.user_id))).toBe(false);

    const confirmation = await agent.get(`/settings/competences/${nord}/delete`);
    expect(confirmation.text).toContain('Neu zugewiesen an „Vertrieb Süd“: 2 Kontakte.');
    expect(confirmation.text).toContain('Die Kompetenz „Vertrieb Nord“ endgültig löschen?');
    const deleted = await agent.post(`/settings/competences/${nord}/delete`).type('form').send({ _csrf: csrf });
    expect(deleted.status).toBe(303);
    expect(await t.db('competences').pluck('name')).toEqual(['Vertrieb Süd']);
  });

  it('moves the contacts to all employees, notifying every active employee but the admin', async () => {
    const { agent, csrf, admin } = await asAdmin();
    const max = await createUser(t.db);
    const sabine = await createUser(t.db);
    await createUser(t.db, { active: false });
    const team = await competence('Vertrieb Nord', [max.id]);
    const contact = await createContact(t.db);
    await assignTo(contact, team);

    const res = await agent.post(`/settings/competences/${team}/reassignment`).type('form').send({ _csrf: csrf, to: 'all' });
    expect(res.status).toBe(303);
    expect(await t.db('contacts').where({ id: contact }).first()).toMatchObject({ assignment: 'all', competence_id: null });
    const event = await t.db('contact_events').where({ contact_id: contact, kind: 'assigned' }).first();
    expect(event.payload).toEqual({ from: { kind: 'competence', names: ['Vertrieb Nord'], id: team }, to: { kind: 'all', names: [] } });
    expect(await t.db('notifications').where({ event_id: event.id }).orderBy('user_id').pluck('user_id')).toEqual(sorted([max.id, sabine.id]));
    expect(await t.db('notifications').where({ user_id: admin.id })).toEqual([]);
    expect((await agent.get(`/settings/competences/${team}/delete`)).text).toContain('Neu zugewiesen an „Alle Mitarbeiter“: 1 Kontakt.');
  });

  it('is refused while a dynamic group filters by it, naming the group; reassigning to another competence moves the filter', async () => {
    const { agent, csrf } = await asAdmin();
    const service = await competence('Kundenservice');
    const sales = await competence('Vertrieb');
    const [team] = await t.db('groups').insert({ name: 'Team Kundenservice', kind: 'dynamic', filter: JSON.stringify({ competence: service }) }).returning('id');
    const page = await agent.get(`/settings/competences/${service}/delete`);
    expect(page.text).toContain('Die dynamische Gruppe „Team Kundenservice“ filtert nach „Kundenservice“');
    // Held by the filter alone, "Alle Mitarbeiter" would move nothing: only the other competence is offered.
    expect(page.text).toMatch(/<select id="f-to" name="to"[^>]*>\s*<optgroup label="Kompetenzen">\s*<option value="\d+" selected>Vertrieb<\/option>/);
    expect((await agent.post(`/settings/competences/${service}/delete`).type('form').send({ _csrf: csrf })).status).toBe(409);
    expect(await competenceCount()).toBe(2);
    expect((await agent.post(`/settings/competences/${service}/reassignment`).type('form').send({ _csrf: csrf, to: sales })).status).toBe(303);
    expect((await t.db('groups').where({ id: team.id }).first()).filter).toEqual({ competence: sales });
    expect((await agent.get(`/settings/competences/${service}/delete`)).text).toContain('1 dynamische Gruppe filtert jetzt nach „Vertrieb“.');
    expect((await agent.post(`/settings/competences/${service}/delete`).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect(await competenceCount()).toBe(1);
  });

  it('is refused while a group is assigned, and reassigning moves the group too', async () => {
    const { agent, csrf } = await asAdmin();
    const team = await competence('Vertrieb Nord');
    const sued = await competence('Vertrieb Süd');
    const contact = await createContact(t.db);
    await assignTo(contact, team);
    const [group] = await t.db('groups').insert({ name: 'Messe 2026', assignment: 'competence', competence_id: team }).returning('id');

    const list = await agent.get('/settings/competences');
    expect(list.text).toMatch(/<td>Vertrieb Nord<\/td>[\s\S]*?<td class="num">1<\/td>\s*<td class="num">1<\/td>/);
    const refused = await agent.post(`/settings/competences/${team}/delete`).type('form').send({ _csrf: csrf });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Die Kompetenz „Vertrieb Nord“ ist noch einem Kontakt und einer Gruppe zugewiesen und kann deshalb nicht gelöscht werden.');

    await agent.post(`/settings/competences/${team}/reassignment`).type('form').send({ _csrf: csrf, to: sued });
    expect(await t.db('groups').where({ id: group.id }).first()).toMatchObject({ assignment: 'competence', competence_id: sued });
    expect((await agent.get(`/settings/competences/${team}/delete`)).text).toContain('Neu zugewiesen an „Vertrieb Süd“: 1 Kontakt und 1 Gruppe.');
    const deleted = await agent.post(`/settings/competences/${team}/delete`).type('form').send({ _csrf: csrf });
    expect(deleted.status).toBe(303);
    expect(await t.db('competences').pluck('name')).toEqual(['Vertrieb Süd']);
  });

  it.each([
    ['the competence itself', 'self', 'Bitte eine andere Kompetenz wählen als die, die gelöscht werden soll.'],
    ['an unknown competence', '999999', 'Die gewählte Kompetenz existiert nicht (mehr). Bitte wählen Sie erneut.'],
    ['nothing', '', 'Bitte „Alle Mitarbeiter“ oder eine andere Kompetenz wählen.'],
  ])('refuses reassigning to %s with a message under the field, moving nothing', async (_case, to, message) => {
    const { agent, csrf } = await asAdmin();
    const team = await competence('Vertrieb Nord');
    const contact = await createContact(t.db);
    await assignTo(contact, team);
    const res = await agent
      .post(`/settings/competences/${team}/reassignment`)
      .type('form')
      .send({ _csrf: csrf, to: to === 'self' ? team : to });
    expect(res.status).toBe(422);
    expect(res.text).toContain(`id="f-to-error">${message}</p>`);
    expect(await t.db('contacts').where({ id: contact }).first()).toMatchObject({ assignment: 'competence', competence_id: team });
    expect(await t.db('contact_events').where({ kind: 'assigned' })).toEqual([]);
  });
});

describe('without a session', () => {
  it('the competences send the browser to the login page', async () => {
    const res = await request(buildApp(t.db)).get('/settings/competences');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fsettings%2Fcompetences');
  });
});

describe('reassigning a competence while a contact is assigned to it', () => {
  it('waits instead of deadlocking, whichever gets the competence first', async () => {
    const admin = await createUser(t.db, { role: 'admin' });
    const member = await createUser(t.db);
    const nord = await competence('Vertrieb Nord', [member.id]);
    const sued = await competence('Vertrieb Süd', [member.id]);
    const contact = await createContact(t.db, { status: 'customer' });
    await assignTo(contact, nord);
    const waiting = async (n: number) => {
      for (let i = 0; i < 100; i++) {
        const { rows } = await t.db.raw(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        if (rows[0].n >= n) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`expected ${n} transactions waiting for a lock`);
    };
    // Held apart so both queue on "Vertrieb Süd": the reassignment first (it then moves the contact),
    // the single assignment second (it had locked the contact before asking for the competence).
    const holder = await t.db.transaction();
    await holder('competences').where({ id: sued }).forUpdate();
    const moving = reassign(t.db, nord, { kind: 'competence', competenceId: sued }, admin.id);
    await waiting(1);
    const assigning = changeAssignment(t.db, contact, { kind: 'competence', competenceId: sued, userIds: [] }, member.id);
    await waiting(2);
    await holder.commit();
    const results = await Promise.allSettled([moving, assigning]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok']);
    expect(await t.db('contacts').where({ id: contact }).first()).toMatchObject({ assignment: 'competence', competence_id: sued });
  });
});
