import { randomUUID } from 'node:crypto';
import { useTestDatabase } from './db';
import { buildApp, createUser, formFields, loginAs, withStatements } from './helpers';
import { whereResponsible } from '../src/assignment/responsibility';
import { createContact } from './factories';
import { cappedCountQuery } from '../src/contacts/queries';

const t = useTestDatabase();

async function competence(name: string, memberIds: string[]): Promise<string> {
  const [row] = await t.db('competences').insert({ name }).returning('id');
  if (memberIds.length) await t.db('competence_members').insert(memberIds.map((user_id) => ({ competence_id: row.id, user_id })));
  return String(row.id);
}

async function assign(contactId: string, how: { users?: string[]; competence?: string }) {
  if (how.competence) await t.db('contacts').where({ id: contactId }).update({ assignment: 'competence', competence_id: how.competence });
  if (how.users) {
    await t.db('contacts').where({ id: contactId }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert(how.users.map((user_id) => ({ contact_id: contactId, user_id })));
  }
}

function names(html: string): string[] {
  return [...html.matchAll(/<td><a href="\/contacts\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);
}

describe('assigning contacts', () => {
  it('happens in the create dialog: to some employees, or to a competence; all by default', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const max = await createUser(t.db, { name: 'Max Müller' });
    const team = await competence('Vertrieb Süd', [max.id]);
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    const base = { _csrf: csrf, last_name: 'Eins', status: 'prospect' };
    await agent.post('/contacts').type('form').send({ ...base, create_token: randomUUID() });
    await agent.post('/contacts').type('form').send({ ...base, last_name: 'Zwei', create_token: randomUUID(), assignment: 'users', assignee_ids: [max.id, me.id] });
    await agent.post('/contacts').type('form').send({ ...base, last_name: 'Drei', create_token: randomUUID(), assignment: 'competence', competence_id: team });
    const rows = await t.db('contacts').select('id', 'last_name', 'assignment', 'competence_id').orderBy('id');
    expect(rows.map((r) => [r.last_name, r.assignment, r.competence_id])).toEqual([
      ['Eins', 'all', null],
      ['Zwei', 'users', null],
      ['Drei', 'competence', team],
    ]);
    const assignees = await t.db('contact_assignees').where({ contact_id: rows[1].id }).orderBy('user_id');
    expect(assignees.map((a) => String(a.user_id))).toEqual([me.id, max.id].sort());
    const list = await agent.get('/contacts');
    expect(list.text).toMatch(/>Eins<\/a>[\s\S]*?assign-all">Alle/);
    expect(list.text).toMatch(/assign-users">Anna Admin, Max Müller/);
    expect(list.text).toMatch(/assign-competence" title="Kompetenz">Vertrieb Süd/);
  });

  it('refuses a deactivated employee, an unknown one and a missing competence, keeping the input', async () => {
    const me = await createUser(t.db);
    const gone = await createUser(t.db, { active: false });
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    const base = { _csrf: csrf, last_name: 'Neu', create_token: randomUUID() };
    const inactive = await agent.post('/contacts').type('form').send({ ...base, assignment: 'users', assignee_ids: gone.id });
    expect(inactive.status).toBe(422);
    expect(inactive.text).toContain('Ein gewählter Mitarbeiter ist deaktiviert.');
    const unknown = await agent.post('/contacts').type('form').send({ ...base, assignment: 'users', assignee_ids: '987654' });
    expect(unknown.text).toContain('existiert nicht (mehr)');
    const none = await agent.post('/contacts').type('form').send({ ...base, assignment: 'users' });
    expect(none.text).toContain('Bitte mindestens einen Mitarbeiter auswählen.');
    const competenceGone = await agent.post('/contacts').type('form').send({ ...base, assignment: 'competence', competence_id: '4242' });
    expect(competenceGone.status).toBe(422);
    expect(competenceGone.text).toContain('Die gewählte Kompetenz existiert nicht (mehr).');
    expect(competenceGone.text).toContain('value="competence" checked');
    expect(await t.db('contacts')).toHaveLength(0);
  });

  it('changes on the master data page, recorded in the history with names and notified to the responsible, old and new', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const team = await competence('Vertrieb Süd', [sabine.id]);
    const id = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    await assign(id, { users: [max.id] });
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    const res = await agent.post(`/contacts/${id}/assignment`).type('form').send({ _csrf: csrf, assignment: 'competence', competence_id: team });
    expect(res.status).toBe(303);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ assignment: 'competence', competence_id: team });
    expect(await t.db('contact_assignees').where({ contact_id: id })).toHaveLength(0);
    const event = await t.db('contact_events').where({ contact_id: id, kind: 'assigned' }).first();
    expect(event.payload).toEqual({ from: { kind: 'users', names: ['Max Müller'], ids: [max.id] }, to: { kind: 'competence', names: ['Vertrieb Süd'], id: team } });
    // Sabine, whose team has it now, and Max, who had it: he learns it is no longer his.
    const notified = await t.db('notifications').where({ event_id: event.id }).select('user_id').orderBy('user_id');
    expect(notified.map((n) => String(n.user_id))).toEqual([max.id, sabine.id]);
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toContain('hat die Zuweisung geändert: Max Müller → Vertrieb Süd');
    const told = await loginAs(buildApp(t.db), max.email);
    expect((await told.agent.get('/notifications')).text).toContain('Kunde');

    // Taken from a deactivated employee, or from the one who does it: nobody to tell but the new ones.
    await t.db('users').where({ id: sabine.id }).update({ active: false });
    const { agent: maxAgent, csrf: maxCsrf } = told;
    await t.db('contacts').where({ id }).update({ assignment: 'users', competence_id: null });
    await t.db('contact_assignees').insert([{ contact_id: id, user_id: max.id }, { contact_id: id, user_id: sabine.id }]);
    expect((await maxAgent.post(`/contacts/${id}/assignment`).type('form').send({ _csrf: maxCsrf, assignment: 'users', assignee_ids: me.id, seen_assignment: `users:${[max.id, sabine.id].sort().join(',')}` })).status).toBe(303);
    const last = await t.db('contact_events').where({ contact_id: id, kind: 'assigned' }).orderBy('id', 'desc').first();
    expect((await t.db('notifications').where({ event_id: last.id }).pluck('user_id')).map(String)).toEqual([me.id]);
  });

  it('on a contact archived since the page was shown: says who archived it, at the assignment, with the choice kept', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const jürgen = await createUser(t.db, { name: 'Jürgen Weiß' });
    const max = await createUser(t.db, { name: 'Max Müller' });
    const id = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    expect((await agent.get(`/contacts/${id}`)).text).toContain('name="status_seen" value="customer"');
    await t.db('contacts').where({ id }).update({ status: 'archived', previous_status: 'customer' });
    await t.db('contact_events').insert({ contact_id: id, actor_id: jürgen.id, kind: 'status', payload: JSON.stringify({ from: 'customer', to: 'archived' }) });
    const res = await agent.post(`/contacts/${id}/assignment`).type('form').send({ _csrf: csrf, status_seen: 'customer', assignment: 'users', assignee_ids: max.id });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Jürgen Weiß hat den Kontakt inzwischen auf „Archiv“ gesetzt.');
    expect(res.text).toMatch(new RegExp(`<option value="${max.id}" selected>Max Müller</option>`));
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'assigned' })).toHaveLength(0);
  });

  it('tells apart two employees of the same name, and records nothing when nothing changes', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const first = await createUser(t.db, { name: 'Max Müller' });
    const second = await createUser(t.db, { name: 'Max Müller' });
    const id = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    await assign(id, { users: [first.id] });
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    expect((await agent.post(`/contacts/${id}/assignment`).type('form').send({ _csrf: csrf, assignment: 'users', assignee_ids: second.id })).status).toBe(303);
    expect((await t.db('contact_assignees').where({ contact_id: id })).map((r) => String(r.user_id))).toEqual([second.id]);
    const [event] = await t.db('contact_events').where({ contact_id: id, kind: 'assigned' });
    expect(event).toBeDefined();
    // The new Max Müller, and the one it was taken from.
    expect((await t.db('notifications').where({ event_id: event.id }).orderBy('user_id')).map((n) => String(n.user_id))).toEqual([first.id, second.id]);
    // The same again: no event.
    expect((await agent.post(`/contacts/${id}/assignment`).type('form').send({ _csrf: csrf, assignment: 'users', assignee_ids: second.id })).status).toBe(303);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'assigned' })).toHaveLength(1);
  });

  it('refuses a change made on an assignment someone else changed meanwhile, naming what is saved; saving again overwrites', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const team = await competence('Vertrieb Süd', [sabine.id]);
    const id = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    await assign(id, { users: [max.id, sabine.id] });
    const app = buildApp(t.db);
    const { agent: mine } = await loginAs(app, me.email);
    const { agent: his } = await loginAs(app, max.email);
    const action = `/contacts/${id}/assignment`;
    const myForm = formFields((await mine.get(`/contacts/${id}`)).text, action);
    const hisForm = formFields((await his.get(`/contacts/${id}`)).text, action);
    expect(hisForm.assignee_ids).toEqual([max.id, sabine.id].sort((a, b) => Number(a) - Number(b)));

    expect((await mine.post(action).type('form').send({ ...myForm, assignment: 'competence', competence_id: team })).status).toBe(303);
    // Max, on the page he loaded before, adds Anna: refused, the competence stays, his choice is kept in the form.
    const refused = await his.post(action).type('form').send({ ...hisForm, assignee_ids: [max.id, sabine.id, me.id] });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Die Zuweisung wurde inzwischen von jemand anderem geändert. Gespeichert ist jetzt: Kompetenz Vertrieb Süd.');
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ assignment: 'competence', competence_id: team });
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'assigned' })).toHaveLength(1);
    const returned = formFields(refused.text, action);
    expect(returned).toMatchObject({ assignment: 'users', assignee_ids: [me.id, max.id, sabine.id].sort((a, b) => Number(a) - Number(b)) });
    // Sent again as it came back: a deliberate overwrite.
    expect((await his.post(action).type('form').send(returned)).status).toBe(303);
    expect((await t.db('contact_assignees').where({ contact_id: id }).orderBy('user_id')).map((r) => String(r.user_id))).toEqual([me.id, max.id, sabine.id].sort((a, b) => Number(a) - Number(b)));

    // A stale form asking for what is saved now anyway is no conflict: nothing to save.
    const stale = await mine.post(action).type('form').send({ ...myForm, assignee_ids: [me.id, max.id, sabine.id] });
    expect(stale.status).toBe(303);
    expect((await mine.get(`/contacts/${id}`)).text).toContain('Es gab nichts zu speichern.');
  });

  it('sends a form with errors back as a whole page with the bell and its poller, like any other page', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const max = await createUser(t.db, { name: 'Max Müller' });
    const id = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    const event = await t.db('contact_events').insert({ contact_id: id, actor_id: max.id, kind: 'note', payload: '{}' }).returning('id');
    await t.db('notifications').insert({ user_id: me.id, contact_id: id, event_id: event[0].id });
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    const refused = await agent.post(`/contacts/${id}/assignment`).type('form').send({ _csrf: csrf, assignment: 'users' });
    expect(refused.status).toBe(422);
    expect(refused.text).toMatch(/class="bell has-unread"[^>]*>\s*Benachrichtigungen <span class="count">1<\/span>/);
    expect(refused.text).toMatch(/hx-get="\/notifications\/poll\?after=\d+"/);
  });

  it('keeps a deactivated employee when the assignment is saved again, but never takes one newly', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const max = await createUser(t.db, { name: 'Max Müller' });
    const test = await createUser(t.db, { name: 'Test Person' });
    const other = await createUser(t.db, { name: 'Olga Ohne', active: false });
    const id = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    await assign(id, { users: [max.id, test.id] });
    await t.db('users').where({ id: test.id }).update({ active: false });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    const action = `/contacts/${id}/assignment`;
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toMatch(new RegExp(`<option value="${test.id}" selected>Test Person \\(deaktiviert\\)</option>`));
    expect(page.text).not.toContain('Olga Ohne');
    const form = formFields(page.text, action);
    const again = await agent.post(action).type('form').send(form);
    expect(again.status).toBe(303);
    expect((await t.db('contact_assignees').where({ contact_id: id }).orderBy('user_id')).map((r) => String(r.user_id))).toEqual([max.id, test.id]);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'assigned' })).toHaveLength(0);
    // Removing them is a change like any other; adding another deactivated employee is refused.
    const newly = await agent.post(action).type('form').send({ ...form, assignee_ids: [max.id, test.id, other.id] });
    expect(newly.status).toBe(422);
    expect(newly.text).toContain('Ein gewählter Mitarbeiter ist deaktiviert.');
    expect((await agent.post(action).type('form').send({ ...form, assignee_ids: [max.id] })).status).toBe(303);
    expect((await t.db('contact_assignees').where({ contact_id: id })).map((r) => String(r.user_id))).toEqual([max.id]);
    // Gone from the assignment, the deactivated employee is not offered any more.
    expect((await agent.get(`/contacts/${id}`)).text).not.toContain('Test Person (deaktiviert)</option>');
    // A form from before that removal, still naming them: told that the assignment changed meanwhile (409),
    // not that the employee is deactivated.
    const stale = await agent.post(action).type('form').send({ ...form, assignee_ids: [max.id, test.id, me.id] });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('Gespeichert ist jetzt: Max Müller.');
  });

  it('is refused for inbox and archived contacts with 409', async () => {
    const me = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    for (const status of ['inbox', 'archived'] as const) {
      const id = await createContact(t.db, { last_name: status, status });
      const res = await agent.post(`/contacts/${id}/assignment`).type('form').send({ _csrf: csrf, assignment: 'users', assignee_ids: me.id });
      expect(res.status).toBe(409);
      expect(await t.db('contacts').where({ id }).first()).toMatchObject({ assignment: 'all' });
    }
  });
});

describe('the assigned-employee filter', () => {
  it('"Mir zugewiesen" finds contacts assigned to all, to me directly and to my competence, and nothing else', async () => {
    const me = await createUser(t.db);
    const other = await createUser(t.db);
    const mine = await competence('Meine', [me.id]);
    const theirs = await competence('Fremde', [other.id]);
    await createContact(t.db, { last_name: 'Alle' });
    await assign(await createContact(t.db, { last_name: 'Direkt' }), { users: [me.id, other.id] });
    await assign(await createContact(t.db, { last_name: 'Team' }), { competence: mine });
    await assign(await createContact(t.db, { last_name: 'FremdDirekt' }), { users: [other.id] });
    await assign(await createContact(t.db, { last_name: 'FremdTeam' }), { competence: theirs });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    expect(names((await agent.get('/contacts?assigned=me')).text)).toEqual(['Testperson Alle', 'Testperson Direkt', 'Testperson Team']);
    expect(names((await agent.get('/contacts?assigned=me&assigned_direct=1')).text)).toEqual(['Testperson Direkt']);
    expect(names((await agent.get(`/contacts?assigned=${other.id}`)).text)).toEqual(['Testperson Alle', 'Testperson Direkt', 'Testperson FremdDirekt', 'Testperson FremdTeam']);
    expect(names((await agent.get(`/contacts?competence=${theirs}`)).text)).toEqual(['Testperson FremdTeam']);
    expect(names((await agent.get(`/contacts?assigned=me&q=team`)).text)).toEqual(['Testperson Team']);
  });

  it('counts up to a cap: past it with the contacts for all alone, and exactly below it', async () => {
    const me = await createUser(t.db);
    for (let i = 0; i < 5; i++) await createContact(t.db, { last_name: `Für alle ${i}`, status: 'customer' });
    for (let i = 0; i < 2; i++) {
      const id = await createContact(t.db, { last_name: `Meiner ${i}`, status: 'customer' });
      await t.db('contacts').where({ id }).update({ assignment: 'users' });
      await t.db('contact_assignees').insert({ contact_id: id, user_id: me.id });
    }
    const count = async (cap: number) => Number((await cappedCountQuery(t.db, { assigned: me.id }, undefined, undefined, cap).first()).n);
    expect(await count(3)).toBeGreaterThan(3);
    expect(await count(5)).toBeGreaterThan(5);
    expect(await count(6)).toBeGreaterThan(6);
    expect(await count(7)).toBe(7);
    expect(await count(100)).toBe(7);
  });

  it("counts an employee's contacts by kind of assignment, each once, as many as the rule finds in the table", async () => {
    const me = await createUser(t.db);
    const other = await createUser(t.db);
    const mine = await competence('Meine', [me.id]);
    const alsoMine = await competence('Auch meine', [me.id, other.id]);
    const theirs = await competence('Fremde', [other.id]);
    // Every kind and status, and a contact assigned to me and another employee by name (counted once).
    for (const status of ['inbox', 'prospect', 'customer', 'archived'] as const) {
      await createContact(t.db, { last_name: `Alle ${status}`, status });
      await assign(await createContact(t.db, { last_name: `Direkt ${status}`, status }), { users: [me.id, other.id] });
      await assign(await createContact(t.db, { last_name: `Team ${status}`, status }), { competence: mine });
      await assign(await createContact(t.db, { last_name: `Auch ${status}`, status }), { competence: alsoMine });
      await assign(await createContact(t.db, { last_name: `FremdDirekt ${status}`, status }), { users: [other.id] });
      await assign(await createContact(t.db, { last_name: `FremdTeam ${status}`, status }), { competence: theirs });
    }
    const byRule = async (user: string, statuses: string[]) =>
      Number((await whereResponsible(t.db('contacts as c').whereIn('c.status', statuses), t.db, user).count({ n: '*' }).first())?.n);
    const { agent } = await loginAs(buildApp(t.db), me.email);
    const cases: [string, string, string[]][] = [
      ['assigned=me', me.id, ['prospect', 'customer']],
      [`assigned=${other.id}`, other.id, ['prospect', 'customer']],
      ['assigned=me&status=archived', me.id, ['archived']],
      ['assigned=me&status=inbox&status=prospect&status=customer&status=archived', me.id, ['inbox', 'prospect', 'customer', 'archived']],
    ];
    for (const [query, user, statuses] of cases) {
      const { result: res, statements } = await withStatements(t.db, () => agent.get(`/contacts?${query}`));
      const expected = await byRule(user, statuses);
      expect([query, res.text.match(/(\d+) Kontakte/)?.[1]]).toEqual([query, String(expected)]);
      // Counted by kind (responsibleUnion), not by testing every contact against the rule.
      expect(statements.some((sql) => /union all/.test(sql))).toBe(true);
    }
    expect(await byRule(me.id, ['prospect', 'customer'])).toBe(8);
    // The start page's counts per status, likewise.
    const { result: start, statements: startStatements } = await withStatements(t.db, () => agent.get('/'));
    for (const status of ['inbox', 'prospect', 'customer', 'archived']) {
      expect([status, start.text.match(new RegExp(`status-${status}">[^<]+</span> <strong>(\\d+)</strong>`))?.[1]]).toEqual([status, String(await byRule(me.id, [status]))]);
    }
    expect(startStatements.some((sql) => /json_object_agg[\s\S]*union all/.test(sql))).toBe(true);
    // With another filter beside it, the rule's one condition stays.
    const { statements } = await withStatements(t.db, () => agent.get('/contacts?assigned=me&q=team'));
    expect(statements.some((sql) => /union all/.test(sql))).toBe(false);
  });

  it('is always visible next to the search, with "Mir zugewiesen" and the employees', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    const page = await agent.get('/contacts');
    expect(page.text).toMatch(/<label for="flt-assigned">Zugewiesener Mitarbeiter<\/label>/);
    expect(page.text).toContain('<option value="me">Mir zugewiesen</option>');
    expect(page.text).toContain(`<option value="${me.id}">Anna Admin</option>`);
    // "nur direkte Zuweisung" is offered with an employee chosen, not with "alle" (where it would do nothing).
    expect(page.text).toMatch(/<input type="checkbox" id="flt-assigned_direct" name="assigned_direct" value="1" disabled>/);
    expect((await agent.get('/contacts?assigned=me')).text).toMatch(/<input type="checkbox" id="flt-assigned_direct" name="assigned_direct" value="1">/);
    expect((await agent.get('/contacts?assigned=jemand')).status).toBe(422);
  });
});
