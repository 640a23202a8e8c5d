import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { useTestDatabase } from './db';
import { buildApp, createUser, csrfFrom, formFields, loginAs, PASSWORD } from './helpers';
import { createContact } from './factories';
import { hashPassword } from '../src/users/passwords';

const t = useTestDatabase();

describe('CSRF protection', () => {
  it('refuses a form POST without the token and changes nothing', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const res = await agent.post('/profile/language').type('form').send({ language: 'en' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Das Formular ist abgelaufen');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    expect((await t.db('users').where({ id: user.id }).first()).language).toBe('de');
  });

  it('refuses an htmx POST with a wrong header token, answering with a fragment for the message area', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const res = await agent
      .post('/profile/language')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', 'falsch')
      .type('form')
      .send({ language: 'en' });
    expect(res.status).toBe(403);
    expect(res.headers['hx-retarget']).toBe('#messages');
    expect(res.text).not.toContain('<html');
    expect((await t.db('users').where({ id: user.id }).first()).language).toBe('de');
  });

  it('accepts an htmx POST carrying the token as a header', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const res = await agent.post('/profile/language').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ language: 'en' });
    expect(res.status).toBe(204);
    expect(res.headers['hx-redirect']).toBe('/profile');
    expect(res.headers['hx-trigger']).toBeUndefined();
    expect((await t.db('users').where({ id: user.id }).first()).language).toBe('en');
    // The message travels to the page htmx navigates to, instead of vanishing with the navigation.
    expect((await agent.get('/profile')).text).toContain('Your language has been saved.');
  });

  it('refuses the login form itself without the token', async () => {
    const user = await createUser(t.db);
    const res = await request(buildApp(t.db)).post('/login').type('form').send({ email: user.email, password: 'x' });
    expect(res.status).toBe(403);
  });
});

describe('headers', () => {
  it('set a strict CSP without inline scripts or styles, and no X-Powered-By', async () => {
    const res = await request(buildApp(t.db)).get('/login');
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('store no session for a request that shows no form: only the login page starts one', async () => {
    const app = buildApp(t.db);
    const sessions = async () => Number((await t.db('session').count({ n: '*' }).first())!.n);
    const before = await sessions();
    const redirected = await request(app).get('/contacts');
    expect(redirected.status).toBe(303);
    expect(redirected.headers['set-cookie']).toBeUndefined();
    const htmx = await request(app).get('/contacts').set('HX-Request', 'true');
    expect(htmx.status).toBe(401);
    expect((await request(app).get('/nirgends')).status).toBe(303);
    // Answers for nobody in particular: a POST without a token (to the login first), a logout without a session.
    const refused = await request(app).post('/contacts').type('form').send({ last_name: 'Niemand' });
    expect(refused.status).toBe(303);
    expect(refused.headers.location).toBe('/login');
    expect((await request(app).post('/logout')).status).toBe(303);
    const tokenless = await request(app).post('/login').type('form').send({ email: 'x@firma.example', password: 'y' });
    expect(tokenless.status).toBe(403);
    expect(tokenless.text).toContain('Das Formular ist abgelaufen');
    expect(await sessions()).toBe(before);

    const agent = request.agent(app);
    const form = await agent.get('/login');
    expect(await sessions()).toBe(before + 1);
    // The token the form shows is the one the session keeps: posting it is accepted.
    const user = await createUser(t.db);
    const login = await agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, _csrf: csrfFrom(form.text) });
    expect(login.status).toBe(303);
  });

  it('keep logged-in pages out of every cache', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const res = await agent.get('/profile');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('mark the session cookie HttpOnly and SameSite=Lax, and Secure behind an HTTPS proxy', async () => {
    const plain = await request(buildApp(t.db)).get('/login');
    const cookie = String(plain.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const proxied = await request(buildApp(t.db, { trustProxy: 'loopback' })).get('/login').set('X-Forwarded-Proto', 'https');
    expect(String(proxied.headers['set-cookie'])).toMatch(/Secure/);
  });

  it('serve htmx and the app script from the app itself, never a CDN', async () => {
    const page = await request(buildApp(t.db)).get('/login');
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(2);
    for (const src of scripts) {
      expect(src).toMatch(/^\/static\//);
      const asset = await request(buildApp(t.db)).get(src);
      expect(asset.status).toBe(200);
    }
    expect(page.text).not.toMatch(/<script>|style="|hx-on/);
  });
});

describe('BASE_PATH', () => {
  it('serves the whole app, its links, redirects and assets under the sub-path', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db, { basePath: '/crm' });
    expect((await request(app).get('/login')).status).toBe(404);
    const redirect = await request(app).get('/crm/');
    expect(redirect.headers.location).toBe('/crm/login?next=%2Fcrm%2F');
    const { agent } = await loginAs(app, user.email, undefined, '/crm');
    const home = await agent.get('/crm/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('href="/crm/profile"');
    expect(home.text).toContain('action="/crm/logout"');
    const css = home.text.match(/href="(\/crm\/static\/css\/app\.css\?v=\w+)"/);
    expect(css).not.toBeNull();
    expect((await agent.get(css![1])).status).toBe(200);
    expect(String((await agent.get('/crm/profile')).status)).toBe('200');
  });
});

describe('errors', () => {
  it('show a German 404 page for an unknown address', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const res = await agent.get('/gibt-es-nicht');
    expect(res.status).toBe(404);
    expect(res.text).toContain('Diese Seite gibt es nicht (mehr).');
  });

  it('answer in English for an employee who chose English', async () => {
    const user = await createUser(t.db, { language: 'en' });
    const { agent } = await loginAs(buildApp(t.db), user.email);
    expect((await agent.get('/')).text).toContain('Log out');
  });

  it('use Accept-Language on the login page', async () => {
    const res = await request(buildApp(t.db)).get('/login').set('Accept-Language', 'en-US,en;q=0.9,de;q=0.5');
    expect(res.text).toContain('<html lang="en">');
    expect(res.text).toContain('Log in');
  });

  it('never show a stack trace', async () => {
    const page = await request(buildApp(t.db)).get('/login');
    const res = await request(buildApp(t.db))
      .post('/login')
      .set('Cookie', String(page.headers['set-cookie']).split(';')[0])
      .type('form')
      .send(`_csrf=${csrfFrom(page.text)}&email=%E0%A4%A&password=x`);
    expect(res.status).toBeLessThan(500);
    expect(res.text).not.toMatch(/Error:|at \w+ \(/);
  });
});

describe('requests that are no form of the app', () => {
  const contactCount = async () => Number((await t.db('contacts').count({ n: '*' }).first())!.n);

  it('answer a body that is no form (JSON, text, multipart outside the picture upload) with 415, and a post without one as an empty form', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const id = await createContact(t.db, { last_name: 'Bleibt' });
    const json = await agent.post('/contacts').set('X-CSRF-Token', csrf).set('Content-Type', 'application/json').send('{"last_name":"Neu"}');
    expect(json.status).toBe(415);
    expect(json.text).toContain('Diese Adresse nimmt nur Formulare entgegen');
    const text = await agent.post(`/contacts/${id}`).set('X-CSRF-Token', csrf).set('Content-Type', 'text/plain').send('last_name=X');
    expect(text.status).toBe(415);
    const notes = await agent.post(`/contacts/${id}/notes`).set('X-CSRF-Token', csrf).set('Content-Type', 'application/json').send('{"text":"hi"}');
    expect(notes.status).toBe(415);
    // A token in the address is taken from the picture upload alone: anywhere else a multipart post is refused.
    const elsewhere = await agent.post(`/contacts/${id}/delete?_csrf=${encodeURIComponent(csrf)}`).field('x', '1');
    expect(elsewhere.status).toBe(415);
    // No body at all: the form's own messages, not a 500.
    const empty = await agent.post('/contacts').set('X-CSRF-Token', csrf);
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Bitte Nachname oder Firma angeben.');
    for (const path of [`/contacts/${id}`, `/contacts/${id}/notes`]) {
      expect([path, (await agent.post(path).set('X-CSRF-Token', csrf)).status]).toEqual([path, 422]);
    }
    // An assignment form without fields means "Alle", which this contact has already: nothing to write.
    expect((await agent.post(`/contacts/${id}/assignment`).set('X-CSRF-Token', csrf)).status).toBe(303);
    expect(await contactCount()).toBe(1);
    expect(await t.db('contact_events').where({ contact_id: id }).whereNot({ kind: 'created' })).toEqual([]);
    expect((await t.db('contacts').where({ id }).first()).last_name).toBe('Bleibt');
  });

  it('answer a contact created from a page whose address cannot be read, or whose group is gone, with the list', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const create = (currentUrl: string, name: string) =>
      agent.post('/contacts').set('HX-Request', 'true').set('X-CSRF-Token', csrf).set('HX-Current-URL', currentUrl).type('form').send({ last_name: name, create_token: randomUUID(), assignment: 'all' });
    const broken = await create('http://[', 'Kaputt');
    expect(broken.status).toBe(200);
    expect(broken.text).toContain('>Kaputt</a>');
    const gone = await create('http://127.0.0.1/contacts?group=999999', 'Gruppenlos');
    expect(gone.status).toBe(200);
    expect(gone.text).toMatch(/Gruppenlos[\s\S]*Kaputt|Kaputt[\s\S]*Gruppenlos/);
    expect(await contactCount()).toBe(2);
  });

  it('name a record by its id as the app writes it: no hex, exponent, leading zero or space', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const id = await createContact(t.db, { last_name: 'Siebzehn' });
    for (const spelling of [`0x${Number(id).toString(16)}`, `0${id}`, `%20${id}`, `${id}.0`, `${id}e0`]) {
      expect([spelling, (await agent.get(`/contacts/${spelling}`)).status]).toEqual([spelling, 404]);
      const note = await agent.post(`/contacts/${spelling}/notes`).type('form').send({ _csrf: csrf, text: 'falsch' });
      expect([spelling, note.status]).toEqual([spelling, 404]);
    }
    expect((await agent.get(`/contacts/${id}`)).status).toBe(200);
    expect(await t.db('contact_events').where({ kind: 'note' })).toEqual([]);
  });

  it('take invisible control characters and direction overrides out of what is typed, keeping tabs and line breaks in notes', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const res = await agent.post('/contacts').type('form').send({ _csrf: csrf, last_name: 'Ctl\u0001\u001b\u202eLand', create_token: randomUUID(), assignment: 'all' });
    expect(res.status).toBe(303);
    const contact = await t.db('contacts').first();
    expect(contact.last_name).toBe('CtlLand');
    await agent.post(`/contacts/${contact.id}/notes`).type('form').send({ _csrf: csrf, text: 'Zeile 1\n\tZeile 2\u0007' });
    expect((await t.db('contact_events').where({ kind: 'note' }).first()).payload).toEqual({ text: 'Zeile 1\n\tZeile 2' });
    // Passwords stay as typed: one stored with such a character still opens the door.
    const odd = 'geheim\u202e\u0001-123456';
    const other = await createUser(t.db);
    await t.db('users').where({ id: other.id }).update({ password_hash: await hashPassword(odd) });
    await expect(loginAs(buildApp(t.db), other.email, odd)).resolves.toBeDefined();
  });

  it('take out zero-width and other invisible format characters and compose what is typed, keeping emoji whole', async () => {
    const user = await createUser(t.db, { role: 'admin' });
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const create = (fields: Record<string, string>) => agent.post('/contacts').type('form').send({ _csrf: csrf, create_token: randomUUID(), assignment: 'all', ...fields });
    // A name of one zero-width space (or soft hyphen, word joiner, Hangul filler) is no name.
    for (const blank of ['\u200b', '\u00ad', '\u2060\ufeff', '\u3164']) {
      const res = await create({ last_name: blank });
      expect([JSON.stringify(blank), res.status]).toEqual([JSON.stringify(blank), 422]);
      expect(res.text).toContain('Bitte Nachname oder Firma angeben.');
    }
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
    // A number that only looks like a taken one is the taken one.
    await createContact(t.db, { first_name: 'Jörg', last_name: 'Kaiser', customer_number: 'K-00004' });
    for (const lookalike of ['K-00004\u200b', '\u200bK-00004', 'K\u00ad-00004', 'K-000\u206004']) {
      const res = await create({ last_name: 'Neu', customer_number: lookalike });
      expect([JSON.stringify(lookalike), res.status]).toEqual([JSON.stringify(lookalike), 422]);
      expect(res.text).toContain('Kundennummer K-00004 ist bereits an Jörg Kaiser vergeben.');
    }
    // "Ö" typed as "O" and a combining diaeresis is stored as the one "Ö", and is then the same number.
    expect((await create({ last_name: 'Ko\u0308nig', customer_number: 'KO\u0308-1' })).status).toBe(303);
    expect(await t.db('contacts').where({ last_name: 'König' }).first()).toMatchObject({ customer_number: 'KÖ-1' });
    expect((await create({ last_name: 'Neu', customer_number: 'KÖ-1' })).status).toBe(422);
    // Emoji drawn with a joiner, and a flag drawn with tags, stay as they are; tags that end no flag go.
    const drawn = 'Team 👩\u200d💻 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
    expect((await create({ company: drawn })).status).toBe(303);
    expect(await t.db('contacts').where({ company: drawn }).first()).toBeDefined();
    expect((await create({ last_name: 'Flagge', customer_number: 'K-7🏴' })).status).toBe(303);
    const hidden = await create({ last_name: 'Versteckt', customer_number: 'K-7🏴\u{E0068}\u{E0069}\u{E0064}\u{E0065}' });
    expect(hidden.status).toBe(422);
    expect(hidden.text).toContain('Kundennummer K-7🏴 ist bereits an Flagge vergeben.');
    // The joiners and direction marks some scripts spell with stay: a Persian surname, a Hebrew note.
    const persian = 'علی\u200cزاده';
    expect((await create({ last_name: persian })).status).toBe(303);
    expect(await t.db('contacts').where({ last_name: persian }).first()).toBeDefined();
    const contact = (await t.db('contacts').where({ last_name: persian }).first()).id;
    await agent.post(`/contacts/${contact}/notes`).type('form').send({ _csrf: csrf, text: 'שלום!\u200f Termin 12:00' });
    expect((await t.db('contact_events').where({ kind: 'note', contact_id: contact }).first()).payload.text).toBe('שלום!\u200f Termin 12:00');
    // Names elsewhere: a competence called with one zero-width space is refused like an empty one.
    const competence = await agent.post('/settings/competences').type('form').send({ _csrf: csrf, name: '\u200b' });
    expect(competence.status).toBe(422);
    expect(await t.db('competences').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('leave what an edit form showed as it was: a name stored with such a character can be renamed', async () => {
    const admin = await createUser(t.db, { role: 'admin' });
    const { agent } = await loginAs(buildApp(t.db), admin.email);
    const [group] = await t.db('groups').insert({ name: 'Messe\u202e', kind: 'static' }).returning('id');
    const groupForm = formFields((await agent.get(`/groups/${group.id}`)).text, `/groups/${group.id}`);
    expect((await agent.post(`/groups/${group.id}`).type('form').send({ ...groupForm, name: 'Messe Köln' })).status).toBe(303);
    expect((await t.db('groups').where({ id: group.id }).first()).name).toBe('Messe Köln');
    const [competence] = await t.db('competences').insert({ name: 'Vertrieb\u202e' }).returning('id');
    const competenceForm = formFields((await agent.get(`/settings/competences/${competence.id}/edit`)).text, `/settings/competences/${competence.id}`);
    expect((await agent.post(`/settings/competences/${competence.id}`).type('form').send({ ...competenceForm, name: 'Vertrieb Nord' })).status).toBe(303);
    const member = await createUser(t.db, { name: 'Jürgen\u202e Weis' });
    const userForm = formFields((await agent.get(`/settings/users/${member.id}/edit`)).text, `/settings/users/${member.id}`);
    expect((await agent.post(`/settings/users/${member.id}`).type('form').send({ ...userForm, name: 'Jürgen Weiß' })).status).toBe(303);
    expect((await t.db('users').where({ id: member.id }).first()).name).toBe('Jürgen Weiß');
  });

  it('clean the address as they clean forms: a list searched with such a character keeps the ticks posted for it', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const max = await createContact(t.db, { first_name: 'Max', last_name: 'Müller' });
    const q = 'Max\u000bMüller';
    await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ q, toggle: max, ids: max });
    const list = await agent.get('/contacts').query({ q });
    expect(list.text).toContain('<strong>1 ausgewählt</strong>');
    expect(list.text).not.toContain('anderen Suche');
  });
});

describe('forms after Back', () => {
  // Chromium fills a page reloaded by Back with what its fields held before (selects, radios, text
  // areas): a clerk's next save then wrote those old values over a colleague's change, or a note twice.
  // autocomplete="off" on the form keeps what the server rendered.
  it('show what is saved: every form that sends data keeps the browser from refilling it', async () => {
    const admin = await createUser(t.db, { role: 'admin' });
    const member = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), admin.email);
    const id = await createContact(t.db, { last_name: 'Zurück', status: 'customer' });
    const pages = [`/contacts/${id}`, `/contacts/${id}/status?to=archived`, `/contacts/${id}/delete`, '/contacts/new', '/profile', '/settings/users/new', `/settings/users/${member.id}/edit`, '/settings/competences/new', '/settings/number-circles/new', '/settings/api-tokens'];
    let forms = 0;
    for (const url of pages) {
      const page = await agent.get(url);
      expect([url, page.status]).toEqual([url, 200]);
      for (const [tag] of page.text.matchAll(/<form\b[^>]*method="post"[^>]*>/g)) {
        if (tag.includes('/logout')) continue;
        forms++;
        expect([url, tag]).toEqual([url, expect.stringContaining('autocomplete="off"')]);
      }
    }
    expect(forms).toBeGreaterThanOrEqual(15);
  });

  it('sent back with messages, put the page\'s own address in the address bar, not the form\'s', async () => {
    // Reloading a form's address sent the form again, Back to it asked to, and /groups/4/assignment is a 404 to GET.
    const admin = await createUser(t.db, { role: 'admin' });
    const member = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), admin.email);
    const [group] = await t.db('groups').insert({ name: 'Messe', kind: 'static' }).returning('id');
    // A competence still holding a contact: its deletion is refused on its confirmation page.
    const [competence] = await t.db('competences').insert({ name: 'Vertrieb' }).returning('id');
    const held = await createContact(t.db, { last_name: 'Zurück', status: 'customer' });
    await t.db('contacts').where({ id: held }).update({ assignment: 'competence', competence_id: competence.id });
    const [circle] = await t.db('number_circles').insert({ name: 'Kundennummern', prefix: 'K-', suffix: '', digits: 5, next_value: 1, target: 'contacts', is_default: true, active: true }).returning('id');
    const sent: [string, string, Record<string, string>][] = [
      [`/groups/${group.id}`, `/groups/${group.id}`, { name: '' }],
      [`/groups/${group.id}/assignment`, `/groups/${group.id}`, { assignment: 'users' }],
      ['/settings/number-circles', '/settings/number-circles/new', { name: '' }],
      ['/settings/users', '/settings/users/new', { name: '' }],
      [`/settings/users/${member.id}`, `/settings/users/${member.id}/edit`, { name: '' }],
      ['/settings/competences', '/settings/competences/new', { name: '' }],
      ['/profile/password', '/profile', { current_password: '' }],
      ['/settings/api-tokens', '/settings/api-tokens', { name: '' }],
      [`/settings/number-circles/${circle.id}`, `/settings/number-circles/${circle.id}/edit`, { name: '' }],
      // Without JavaScript, the dialogs are pages of their own.
      ['/contacts', '/contacts/new', { last_name: '' }],
      ['/groups', '/groups/new', { kind: 'static', name: '' }],
      ['/contacts/bulk', '/contacts/bulk?action=archive&q=Zur%C3%BCck', { action: 'archive', all: '1', q: 'Zurück' }],
      [`/settings/competences/${competence.id}/delete`, `/settings/competences/${competence.id}/delete`, {}],
    ];
    for (const [action, address, fields] of sent) {
      const res = await agent.post(action).type('form').send({ _csrf: csrf, ...fields });
      expect([action, res.status >= 400 && res.status < 500]).toEqual([action, true]);
      expect([action, res.text.match(/data-replace-url="([^"]*)"/)?.[1]?.replaceAll('&amp;', '&')]).toEqual([action, address]);
    }
    // Asked for with GET, a page keeps its address.
    expect((await agent.get(`/groups/${group.id}`)).text).not.toContain('data-replace-url');
  });
});
