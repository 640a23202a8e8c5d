import request from 'supertest';
import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs, PASSWORD, formFields } from './helpers';

const t = useTestDatabase();

const newEmployee = {
  name: 'Max Müller',
  email: 'max.mueller@firma.example',
  role: 'member',
  language: 'de',
  password: 'ein-langes-passwort',
};

async function asAdmin() {
  const admin = await createUser(t.db, { name: 'Anna Admin', role: 'admin' });
  const app = buildApp(t.db);
  return { app, admin, ...(await loginAs(app, admin.email)) };
}

async function userCount(): Promise<number> {
  return Number((await t.db('users').count({ n: '*' }).first())!.n);
}

async function row(id: string) {
  return t.db('users').where({ id }).first();
}

async function sessionsOf(id: string): Promise<number> {
  return Number((await t.db('session').whereRaw(`sess ->> 'userId' = ?`, [id]).count({ n: '*' }).first())!.n);
}

describe('the settings area', () => {
  it('sends an admin from /settings on to the employees', async () => {
    const { agent } = await asAdmin();
    const res = await agent.get('/settings');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/users');
  });

  it('shows the Einstellungen entry to admins only', async () => {
    const { agent } = await asAdmin();
    const member = await createUser(t.db);
    const { agent: memberAgent } = await loginAs(buildApp(t.db), member.email);
    expect((await agent.get('/')).text).toContain('href="/settings">Einstellungen</a>');
    expect((await memberAgent.get('/')).text).not.toContain('Einstellungen');
  });

  it.each([
    ['get', '/settings'],
    ['get', '/settings/users'],
    ['get', '/settings/users/new'],
    ['get', '/settings/users/1/edit'],
    ['get', '/settings/something-added-later'],
    ['post', '/settings/users/1'],
    ['post', '/settings/users/1/deactivate'],
    ['get', '/settings/users/1/deactivate'],
  ] as const)('refuses a member %s %s with 403', async (method, path) => {
    const member = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), member.email);
    const res = method === 'get' ? await agent.get(path) : await agent.post(path).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Dafür fehlt Ihnen die Berechtigung.');
  });

  it('refuses a member creating an employee with a valid CSRF token, and writes nothing', async () => {
    const member = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), member.email);
    const res = await agent.post('/settings/users').type('form').send({ ...newEmployee, role: 'admin', _csrf: csrf });
    expect(res.status).toBe(403);
    expect(await userCount()).toBe(1);
  });
});

describe('the employee list', () => {
  it('shows every employee by name with role, language and status, deactivated ones marked', async () => {
    const { agent } = await asAdmin();
    await createUser(t.db, { name: 'Zoe Zimmer', email: 'zoe@firma.example', language: 'en', active: false });
    await createUser(t.db, { name: 'bernd Bauer', email: 'bernd@firma.example' });
    const res = await agent.get('/settings/users');
    expect(res.status).toBe(200);
    const names = ['Anna Admin', 'bernd Bauer', 'Zoe Zimmer'].map((name) => res.text.indexOf(`<td>${name}`));
    expect(names.every((at) => at > 0)).toBe(true);
    expect([...names].sort((a, b) => a - b)).toEqual(names);
    expect(res.text).toMatch(/<tr class="inactive">\s*<td>Zoe Zimmer<\/td>\s*<td class="email">zoe@<wbr>firma.<wbr>example<\/td>\s*<td>Mitarbeiter<\/td>\s*<td class="col-language">English<\/td>\s*<td><span class="badge badge-off">deaktiviert<\/span>/);
    expect(res.text).toMatch(/<td>Anna Admin <span class="muted">\(Sie\)<\/span><\/td>[\s\S]*?<td>Administrator<\/td>\s*<td class="col-language">Deutsch<\/td>\s*<td><span class="badge badge-ok">aktiv<\/span>/);
    expect(res.text).toContain('Mitarbeiter anlegen');
    expect(res.text).toContain('aria-label="Zoe Zimmer reaktivieren"');
    expect(res.text).toContain('aria-label="bernd Bauer deaktivieren"');
    expect(res.text).not.toContain('aria-label="Anna Admin deaktivieren"');
  });
});

describe('creating an employee', () => {
  it('stores them with an argon2id hash, says so on the list, and lets them log in', async () => {
    const { app, agent, csrf } = await asAdmin();
    const res = await agent.post('/settings/users').type('form').send({ ...newEmployee, language: 'en', _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/users');
    const stored = await t.db('users').where({ email: newEmployee.email }).first();
    expect(stored).toMatchObject({ name: 'Max Müller', role: 'member', language: 'en', active: true });
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    const list = await agent.get('/settings/users');
    expect(list.text).toContain('Max Müller wurde angelegt.');
    await expect(loginAs(app, newEmployee.email, newEmployee.password)).resolves.toBeDefined();
  });

  it('shows an empty form with the member role and German preselected', async () => {
    const { agent } = await asAdmin();
    const res = await agent.get('/settings/users/new');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<option value="member" selected>Mitarbeiter</option>');
    expect(res.text).toContain('<option value="de" selected>Deutsch</option>');
    expect(res.text).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">/);
  });

  it('refuses an e-mail address taken in another case, keeping what was typed', async () => {
    const { agent, csrf } = await asAdmin();
    await createUser(t.db, { email: 'max.mueller@firma.example' });
    const res = await agent
      .post('/settings/users')
      .type('form')
      .send({ ...newEmployee, email: 'MAX.Mueller@Firma.example', role: 'admin', language: 'en', _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-email-error">Diese E-Mail-Adresse ist bereits vergeben.</p>');
    expect(res.text).toContain('value="MAX.Mueller@Firma.example"');
    expect(res.text).toContain('value="Max Müller"');
    expect(res.text).toContain('<option value="admin" selected>');
    expect(res.text).toContain('<option value="en" selected>');
    expect(res.text).not.toContain(newEmployee.password);
    // Not sent back, so asked for again where it was typed.
    expect(res.text).toContain('id="f-password-error">Bitte das Passwort noch einmal eingeben: Es wird aus Sicherheitsgründen nicht wieder angezeigt.</p>');
    expect(await userCount()).toBe(2);
  });

  it('gives one employee and one field message when two admins add the same address at once', async () => {
    const { agent, csrf } = await asAdmin();
    const send = (email: string) => agent.post('/settings/users').type('form').send({ ...newEmployee, email, _csrf: csrf });
    const statuses = (await Promise.all([send('max.mueller@firma.example'), send('Max.Mueller@firma.example')])).map((r) => r.status);
    expect(statuses.sort()).toEqual([303, 422]);
    expect(await userCount()).toBe(2);
  });

  it.each([
    ['a blank name', { name: '   ' }, 'name', 'Bitte ausfüllen.'],
    ['a 5000-character name', { name: 'x'.repeat(5000) }, 'name', 'Höchstens 200 Zeichen.'],
    ['a bad e-mail address', { email: 'max.firma.example' }, 'email', 'Bitte eine gültige E-Mail-Adresse eingeben'],
    ['a short password', { password: 'kurz' }, 'password', 'Mindestens 10 Zeichen.'],
    ['an unknown role', { role: 'superuser' }, 'role', 'Ungültiger Wert.'],
    ['an unknown language', { language: 'fr' }, 'language', 'Ungültiger Wert.'],
  ])('refuses %s with a message under the field and writes nothing', async (_case, change, field, message) => {
    const { agent, csrf } = await asAdmin();
    const form = { ...newEmployee, ...change };
    const res = await agent.post('/settings/users').type('form').send({ ...form, _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain(`id="f-${field}-error">${message}`);
    expect(res.text).toContain('Bitte prüfen Sie die markierten Felder.');
    if (field !== 'email') expect(res.text).toContain(`value="${form.email}"`);
    if (field !== 'name') expect(res.text).toContain(`value="${form.name}"`);
    expect(await userCount()).toBe(1);
  });

  it('shows markup in a name as text, in the returned form and on the list', async () => {
    const { agent, csrf } = await asAdmin();
    const name = '<script>alert(1)</script>';
    const refused = await agent.post('/settings/users').type('form').send({ ...newEmployee, name, email: 'kaputt', _csrf: csrf });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(refused.text).not.toContain(name);
    expect(await userCount()).toBe(1);

    await agent.post('/settings/users').type('form').send({ ...newEmployee, name, _csrf: csrf });
    const list = await agent.get('/settings/users');
    expect(list.text).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(list.text).not.toContain(name);
  });
});

describe('editing an employee', () => {
  it('shows the form filled in', async () => {
    const { agent } = await asAdmin();
    const member = await createUser(t.db, { name: 'Sabine Schröder', language: 'en' });
    const res = await agent.get(`/settings/users/${member.id}/edit`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('value="Sabine Schröder"');
    expect(res.text).toContain(`value="${member.email}"`);
    expect(res.text).toContain('<option value="en" selected>');
    expect(res.text).toContain(`action="/settings/users/${member.id}"`);
  });

  it('saves name, e-mail, role and language, and keeps the password when left blank', async () => {
    const { app, agent, csrf } = await asAdmin();
    const member = await createUser(t.db);
    const before = await row(member.id);
    const res = await agent
      .post(`/settings/users/${member.id}`)
      .type('form')
      .send({ name: 'Jürgen Weiß', email: 'juergen.weiss@firma.example', role: 'admin', language: 'en', password: '', _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/users');
    expect(await row(member.id)).toMatchObject({
      name: 'Jürgen Weiß',
      email: 'juergen.weiss@firma.example',
      role: 'admin',
      language: 'en',
      password_hash: before.password_hash,
    });
    expect((await agent.get('/settings/users')).text).toContain('Die Änderungen an Jürgen Weiß wurden gespeichert.');
    await expect(loginAs(app, 'juergen.weiss@firma.example', PASSWORD)).resolves.toBeDefined();
  });

  it('keeps what another tab saved meanwhile where this form changed nothing, and refuses where both changed', async () => {
    const { agent, csrf } = await asAdmin();
    const member = await createUser(t.db, { name: 'Jürgen Weis' });
    const formOf = async () => {
      const page = (await agent.get(`/settings/users/${member.id}/edit`)).text;
      const seen = (field: string) => page.match(new RegExp(`name="seen_${field}" value="([^"]*)"`))![1];
      const shown = { name: seen('name'), email: seen('email'), role: seen('role'), language: seen('language') };
      return { ...shown, ...Object.fromEntries(Object.entries(shown).map(([k, v]) => [`seen_${k}`, v])), password: '', _csrf: csrf };
    };
    const tabA = await formOf();
    const tabB = await formOf();
    // Tab A makes him an administrator; tab B, opened before, only mends his name: he stays an administrator.
    expect((await agent.post(`/settings/users/${member.id}`).type('form').send({ ...tabA, role: 'admin' })).status).toBe(303);
    expect((await agent.post(`/settings/users/${member.id}`).type('form').send({ ...tabB, name: 'Jürgen Weiß' })).status).toBe(303);
    expect(await row(member.id)).toMatchObject({ name: 'Jürgen Weiß', role: 'admin' });
    // Tab C renames him and makes him an administrator; tab D, opened before, renames him too: refused,
    // its input kept. Its form comes back with the role saved meanwhile, so saving it again as it came
    // back takes tab D's name and keeps him an administrator.
    await agent.post(`/settings/users/${member.id}`).type('form').send({ ...(await formOf()), role: 'member' });
    const tabC = await formOf();
    const tabD = await formOf();
    expect((await agent.post(`/settings/users/${member.id}`).type('form').send({ ...tabC, name: 'Jürgen C', role: 'admin' })).status).toBe(303);
    const clash = await agent.post(`/settings/users/${member.id}`).type('form').send({ ...tabD, name: 'Jürgen D' });
    expect(clash.status).toBe(409);
    expect(clash.text).toContain('Der Mitarbeiter wurde inzwischen von jemand anderem geändert');
    expect(clash.text).toContain('Gespeichert ist jetzt: Jürgen C');
    expect(clash.text).toContain('value="Jürgen D"');
    expect(await row(member.id)).toMatchObject({ name: 'Jürgen C', role: 'admin' });
    const again = formFields(clash.text, `/settings/users/${member.id}`);
    expect(again.role).toBe('admin');
    expect((await agent.post(`/settings/users/${member.id}`).type('form').send(again)).status).toBe(303);
    expect(await row(member.id)).toMatchObject({ name: 'Jürgen D', role: 'admin' });
  });

  it('sets a new password and ends the employee’s sessions, but not the admin’s own', async () => {
    const { app, agent, csrf } = await asAdmin();
    const member = await createUser(t.db);
    const { agent: memberAgent } = await loginAs(app, member.email);
    const res = await agent
      .post(`/settings/users/${member.id}`)
      .type('form')
      .send({ name: member.name, email: member.email, role: 'member', language: 'de', password: 'ganz-neues-passwort', _csrf: csrf });
    expect(res.status).toBe(303);
    expect((await row(member.id)).password_hash).toMatch(/^\$argon2id\$/);
    expect(await sessionsOf(member.id)).toBe(0);
    expect((await memberAgent.get('/')).headers.location).toMatch(/^\/login/);
    expect((await agent.get('/settings/users')).status).toBe(200);
    await expect(loginAs(app, member.email, 'ganz-neues-passwort')).resolves.toBeDefined();
  });

  it('refuses an address another employee has, keeping what was typed', async () => {
    const { admin, agent, csrf } = await asAdmin();
    const member = await createUser(t.db);
    const res = await agent
      .post(`/settings/users/${member.id}`)
      .type('form')
      .send({ name: 'Neuer Name', email: admin.email.toUpperCase(), role: 'member', language: 'de', password: '', _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Diese E-Mail-Adresse ist bereits vergeben.');
    expect(res.text).toContain('value="Neuer Name"');
    expect(await row(member.id)).toMatchObject({ name: member.name, email: member.email });
  });

  it('lets an employee keep their own address in another case', async () => {
    const { agent, csrf } = await asAdmin();
    const member = await createUser(t.db, { email: 'emily@firma.example' });
    const res = await agent
      .post(`/settings/users/${member.id}`)
      .type('form')
      .send({ name: member.name, email: 'Emily@Firma.example', role: 'member', language: 'de', password: '', _csrf: csrf });
    expect(res.status).toBe(303);
    expect((await row(member.id)).email).toBe('Emily@Firma.example');
  });

  it('refuses a short new password and changes nothing', async () => {
    const { agent, csrf } = await asAdmin();
    const member = await createUser(t.db);
    const before = await row(member.id);
    const res = await agent
      .post(`/settings/users/${member.id}`)
      .type('form')
      .send({ name: 'Anders', email: member.email, role: 'member', language: 'de', password: 'kurz', _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-password-error">Mindestens 10 Zeichen.');
    expect(await row(member.id)).toEqual(before);
  });
});

describe('unknown employees', () => {
  it.each([
    ['get', '/settings/users/999999/edit'],
    ['get', '/settings/users/abc/edit'],
    ['get', '/settings/users/99999999999999999999999/edit'],
    ['post', '/settings/users/999999'],
    ['post', '/settings/users/-1'],
    ['post', '/settings/users/999999/deactivate'],
    ['post', '/settings/users/abc/reactivate'],
  ] as const)('answer %s %s with the 404 page', async (method, path) => {
    const { agent, csrf } = await asAdmin();
    const form = { ...newEmployee, _csrf: csrf };
    const res = method === 'get' ? await agent.get(path) : await agent.post(path).type('form').send(form);
    expect(res.status).toBe(404);
    expect(res.text).toContain('Diese Seite gibt es nicht (mehr).');
    expect(await userCount()).toBe(1);
  });
});

describe('deactivating an employee', () => {
  it('ends their session at once and keeps them from logging in', async () => {
    const { app, agent, csrf } = await asAdmin();
    const member = await createUser(t.db, { name: 'Max Müller' });
    const { agent: memberAgent } = await loginAs(app, member.email);
    expect(await sessionsOf(member.id)).toBe(1);

    // The list asks first: a dialog naming what happens, with nothing changed yet.
    const list = await agent.get('/settings/users');
    expect(list.text).toContain(`hx-get="/settings/users/${member.id}/deactivate"`);
    const dialog = await agent.get(`/settings/users/${member.id}/deactivate`).set('HX-Request', 'true');
    expect(dialog.text).toMatch(/^<dialog data-modal/);
    expect(dialog.text).toContain('Max Müller deaktivieren? Max Müller wird sofort abgemeldet');
    expect(dialog.text).toContain(`action="/settings/users/${member.id}/deactivate"`);
    expect((await agent.get(`/settings/users/${member.id}/deactivate`)).text).toContain('<html');
    expect((await row(member.id)).active).toBe(true);
    expect((await agent.get('/settings/users/999999/deactivate').set('HX-Request', 'true')).status).toBe(404);

    const res = await agent.post(`/settings/users/${member.id}/deactivate`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/users');
    expect((await row(member.id)).active).toBe(false);
    expect(await sessionsOf(member.id)).toBe(0);
    expect((await agent.get('/settings/users')).text).toContain('Max Müller wurde deaktiviert und abgemeldet.');

    const after = await memberAgent.get('/');
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);
    // With the right password, the login says why: the account is deactivated (403), not a wrong password.
    await expect(loginAs(app, member.email)).rejects.toThrow('login failed with 403');
  });

  it('names in its dialog what only this employee is responsible for, which is then found through the list', async () => {
    const { agent } = await asAdmin();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const olga = await createUser(t.db, { name: 'Olga Ohne', active: false });
    const contact = async (last_name: string, users: string[], status = 'customer') => {
      const [c] = await t.db('contacts').insert({ last_name, status, assignment: 'users' }).returning('id');
      await t.db('contact_assignees').insert(users.map((user_id) => ({ contact_id: c.id, user_id })));
    };
    await contact('Allein', [max.id]);
    await contact('Mit Sabine', [max.id, sabine.id]);
    await contact('Mit Olga', [max.id, olga.id]);
    await contact('Archiviert', [max.id], 'archived');
    const [group] = await t.db('groups').insert({ name: 'Messe', kind: 'static', assignment: 'users' }).returning('id');
    await t.db('group_assignees').insert({ group_id: group.id, user_id: max.id });
    const [alone, shared] = await t.db('competences').insert([{ name: 'Vertrieb Nord' }, { name: 'Vertrieb Süd' }]).returning('id');
    await t.db('competence_members').insert([
      { competence_id: alone.id, user_id: max.id },
      { competence_id: alone.id, user_id: olga.id },
      { competence_id: shared.id, user_id: max.id },
      { competence_id: shared.id, user_id: sabine.id },
    ]);
    await t.db('contacts').insert([
      { last_name: 'Nord', status: 'prospect', assignment: 'competence', competence_id: alone.id },
      { last_name: 'Süd', status: 'prospect', assignment: 'competence', competence_id: shared.id },
    ]);

    const dialog = await agent.get(`/settings/users/${max.id}/deactivate`).set('HX-Request', 'true');
    expect(dialog.text).toContain('Deaktivierte Mitarbeiter werden nicht benachrichtigt. Nur Max Müller ist zuständig für:');
    expect(dialog.text).toContain('<li>2 Kontakte</li>');
    // The list behind the link shows every contact assigned to him by name (the column says who else is).
    expect(dialog.text).toContain(`<a href="/contacts?assigned=${max.id}&amp;assigned_direct=1">Alle 3 Kontakte anzeigen, die Max Müller direkt zugewiesen sind</a>`);
    expect(dialog.text).toContain('<li>1 Gruppe</li>');
    expect(dialog.text).toContain('der Kompetenz „Vertrieb Nord“');
    expect(dialog.text).not.toContain('Vertrieb Süd');
    // Sabine shares all of hers: nothing to name.
    expect((await agent.get(`/settings/users/${sabine.id}/deactivate`).set('HX-Request', 'true')).text).not.toContain('nicht benachrichtigt');

    await t.db('users').where({ id: max.id }).update({ active: false });
    const list = await agent.get(`/contacts?assigned=${max.id}&assigned_direct=1`);
    expect(list.text).toMatch(new RegExp(`<option value="${max.id}" selected>Max Müller \\(deaktiviert\\)</option>`));
    expect(list.text).toContain('3 Kontakte');
  });

  it('says at once in its dialog when it would be refused: oneself, or the last active admin', async () => {
    const { admin, agent } = await asAdmin();
    const last = await agent.get(`/settings/users/${admin.id}/deactivate`).set('HX-Request', 'true');
    expect(last.text).toContain('Der letzte aktive Administrator kann nicht deaktiviert werden.');
    expect(last.text).not.toContain('type="submit"');
    await createUser(t.db, { role: 'admin' });
    const self = await agent.get(`/settings/users/${admin.id}/deactivate`).set('HX-Request', 'true');
    expect(self.text).toContain('Sie können sich nicht selbst deaktivieren.');
    expect(self.text).not.toContain('type="submit"');
  });

  it('refuses the last active admin deactivating themselves', async () => {
    const { admin, agent, csrf } = await asAdmin();
    const res = await agent.post(`/settings/users/${admin.id}/deactivate`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Der letzte aktive Administrator kann nicht deaktiviert werden.');
    expect((await row(admin.id)).active).toBe(true);
    expect(await sessionsOf(admin.id)).toBe(1);
  });

  it('refuses an admin deactivating themselves while other admins exist', async () => {
    const { admin, agent, csrf } = await asAdmin();
    await createUser(t.db, { role: 'admin' });
    const res = await agent.post(`/settings/users/${admin.id}/deactivate`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Sie können sich nicht selbst deaktivieren.');
    expect((await row(admin.id)).active).toBe(true);
  });

  it('leaves one admin active when two admins deactivate each other at the same moment', async () => {
    const app = buildApp(t.db);
    const first = await createUser(t.db, { role: 'admin' });
    const second = await createUser(t.db, { role: 'admin' });
    const a = await loginAs(app, first.email);
    const b = await loginAs(app, second.email);
    await Promise.all([
      a.agent.post(`/settings/users/${second.id}/deactivate`).type('form').send({ _csrf: a.csrf }),
      b.agent.post(`/settings/users/${first.id}/deactivate`).type('form').send({ _csrf: b.csrf }),
    ]);
    expect(await t.db('users').where({ role: 'admin', active: true }).count({ n: '*' }).first()).toEqual({ n: '1' });
  });
});

describe('the last active admin', () => {
  it('cannot be made a member; the form comes back with the message and what was typed', async () => {
    const { admin, agent, csrf } = await asAdmin();
    const res = await agent
      .post(`/settings/users/${admin.id}`)
      .type('form')
      .send({ name: 'Anna Neu', email: admin.email, role: 'member', language: 'de', password: '', _csrf: csrf });
    expect(res.status).toBe(409);
    expect(res.text).toContain('id="f-role-error">Der letzte aktive Administrator kann nicht zum Mitarbeiter herabgestuft werden.');
    expect(res.text).toContain('value="Anna Neu"');
    expect(await row(admin.id)).toMatchObject({ name: 'Anna Admin', role: 'admin' });
  });

  it('is counted among active admins only: a deactivated admin does not count', async () => {
    const { admin, agent, csrf } = await asAdmin();
    await createUser(t.db, { role: 'admin', active: false });
    const res = await agent
      .post(`/settings/users/${admin.id}`)
      .type('form')
      .send({ name: admin.name, email: admin.email, role: 'member', language: 'de', password: '', _csrf: csrf });
    expect(res.status).toBe(409);
    expect((await row(admin.id)).role).toBe('admin');
  });

  it('may hand over: with another active admin an admin can become a member, and lands on the dashboard', async () => {
    const { admin, agent, csrf } = await asAdmin();
    await createUser(t.db, { role: 'admin' });
    const res = await agent
      .post(`/settings/users/${admin.id}`)
      .type('form')
      .send({ name: admin.name, email: admin.email, role: 'member', language: 'de', password: '', _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect((await row(admin.id)).role).toBe('member');
    expect((await agent.get('/settings/users')).status).toBe(403);
  });
});

describe('reactivating an employee', () => {
  it('lets them log in again', async () => {
    const { app, agent, csrf } = await asAdmin();
    const member = await createUser(t.db, { name: 'Emily Clarke', active: false });
    await expect(loginAs(app, member.email)).rejects.toThrow();
    const res = await agent.post(`/settings/users/${member.id}/reactivate`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect((await row(member.id)).active).toBe(true);
    expect((await agent.get('/settings/users')).text).toContain('Emily Clarke wurde reaktiviert.');
    await expect(loginAs(app, member.email)).resolves.toBeDefined();
  });
});

describe('without a session', () => {
  it('the settings send the browser to the login page', async () => {
    const res = await request(buildApp(t.db)).get('/settings/users');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fsettings%2Fusers');
  });
});

describe('changing one\'s own password (Profil)', () => {
  it('tells every mistake at once, then changes it, ends the other sessions and lets in with the new one only', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const { agent, csrf } = await loginAs(app, user.email);
    const elsewhere = await loginAs(app, user.email);
    const send = (fields: Record<string, string>) => agent.post('/profile/password').type('form').send({ _csrf: csrf, ...fields });

    const all = await send({ current_password: 'falsch-falsch', new_password: 'kurz', confirm_password: 'anders' });
    expect(all.status).toBe(422);
    expect(all.text).toContain('Das aktuelle Passwort ist falsch.');
    expect(all.text).toContain('Mindestens 10 Zeichen.');
    expect(all.text).toContain('Die beiden Passwörter stimmen nicht überein.');
    const wrong = await send({ current_password: 'falsch-falsch', new_password: 'neues-passwort-1', confirm_password: 'neues-passwort-1' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('Das aktuelle Passwort ist falsch.');
    // Only a mismatch: the right current password is not called wrong.
    const mismatch = await send({ current_password: PASSWORD, new_password: 'neues-passwort-1', confirm_password: 'neues-passwort-2' });
    expect(mismatch.text).toContain('Die beiden Passwörter stimmen nicht überein.');
    expect(mismatch.text).not.toContain('Das aktuelle Passwort ist falsch.');
    // The same one again changes nothing: not "geändert", and the other sessions stay.
    const same = await send({ current_password: PASSWORD, new_password: PASSWORD, confirm_password: PASSWORD });
    expect(same.status).toBe(422);
    expect(same.text).toContain('Das neue Passwort muss sich vom aktuellen unterscheiden.');
    expect((await elsewhere.agent.get('/profile')).status).toBe(200);

    const done = await send({ current_password: PASSWORD, new_password: 'neues-passwort-1', confirm_password: 'neues-passwort-1' });
    expect(done.status).toBe(303);
    expect((await agent.get('/profile')).text).toContain('Ihr Passwort wurde geändert.');
    expect((await elsewhere.agent.get('/profile')).status).toBe(303);
    await expect(loginAs(app, user.email)).rejects.toThrow('login failed with 401');
    await expect(loginAs(app, user.email, 'neues-passwort-1')).resolves.toBeDefined();
  });

  it('counts wrong current passwords like failed logins, and stops guessing where the login would', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const { agent, csrf } = await loginAs(app, user.email);
    const send = (fields: Record<string, string>) => agent.post('/profile/password').type('form').send({ _csrf: csrf, ...fields });
    // Guesses with a valid new password and with an invalid one (every mistake at once) both count.
    for (let i = 0; i < 5; i++) expect((await send({ current_password: `geraten-${i}`, new_password: 'neues-passwort-1', confirm_password: 'neues-passwort-1' })).status).toBe(422);
    for (let i = 5; i < 10; i++) expect((await send({ current_password: `geraten-${i}`, new_password: 'kurz', confirm_password: 'kurz' })).status).toBe(422);
    const stopped = await send({ current_password: PASSWORD, new_password: 'neues-passwort-1', confirm_password: 'neues-passwort-1' });
    expect(stopped.status).toBe(429);
    expect(stopped.text).toMatch(/id="f-current_password-error">Zu viele falsche Versuche\. Bitte warten Sie 15 Minuten/);
    // Nothing changed, and the login from this address is stopped too.
    await expect(loginAs(app, user.email)).rejects.toThrow('login failed with 429');
    await t.db('login_failures').delete();
    await expect(loginAs(app, user.email)).resolves.toBeDefined();
  });

  it('lets the owner change her password while others fail at the login of her account from elsewhere', async () => {
    // Changing it is the remedy for just that: the limit for the account from anywhere does not count here.
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    await t.db('login_failures').insert(Array.from({ length: 100 }, (_, i) => ({ email: user.email, ip: `10.2.${Math.floor(i / 10)}.${i % 10}` })));
    const res = await agent.post('/profile/password').type('form').send({ _csrf: csrf, current_password: PASSWORD, new_password: 'neues-passwort-1', confirm_password: 'neues-passwort-1' });
    expect(res.status).toBe(303);
  });

  it('forgets the account\'s failures once the current password is right', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const send = (current: string) => agent.post('/profile/password').type('form').send({ _csrf: csrf, current_password: current, new_password: 'neues-passwort-1', confirm_password: 'neues-passwort-1' });
    expect((await send('geraten-1')).status).toBe(422);
    expect(await t.db('login_failures').count({ n: '*' }).first()).toEqual({ n: '1' });
    expect((await send(PASSWORD)).status).toBe(303);
    expect(await t.db('login_failures').count({ n: '*' }).first()).toEqual({ n: '0' });
  });
});
