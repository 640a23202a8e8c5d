import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createContact } from './factories';
import { useTestDatabase } from './db';
import { buildApp, createUser, csrfFrom, loginAs, PASSWORD } from './helpers';
import { SESSION_COOKIE } from '../src/web/session';

const t = useTestDatabase();

function sessionCookie(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`))?.split(';')[0];
}

async function loginForm(app: ReturnType<typeof buildApp>) {
  const agent = request.agent(app);
  const page = await agent.get('/login');
  return { agent, csrf: csrfFrom(page.text), cookie: sessionCookie(page) };
}

describe('login', () => {
  it('lets an active employee in and greets them by name', async () => {
    const user = await createUser(t.db, { name: 'Jürgen Weiß' });
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const home = await agent.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('Guten Tag, Jürgen Weiß!');
    expect(home.text).toContain('Abmelden');
  });

  it('accepts the e-mail address in any case', async () => {
    const user = await createUser(t.db, { email: 'Max.Mueller@Firma.example' });
    await expect(loginAs(buildApp(t.db), user.email.toUpperCase())).resolves.toBeDefined();
  });

  it('refuses a wrong password with a German message and keeps the e-mail typed', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginForm(buildApp(t.db));
    const res = await agent.post('/login').type('form').send({ email: user.email, password: 'falsch', _csrf: csrf });
    expect(res.status).toBe(401);
    expect(res.text).toContain('E-Mail oder Passwort ist falsch.');
    expect(res.text).toContain(`value="${user.email}"`);
    expect(await t.db('login_failures').where({ email: user.email }).count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('answers an empty form with messages under the fields', async () => {
    const { agent, csrf } = await loginForm(buildApp(t.db));
    const res = await agent.post('/login').type('form').send({ email: '', password: '', _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="f-email-error">Bitte ausfüllen\./);
    expect(res.text).toMatch(/id="f-password-error">Bitte ausfüllen\./);
  });

  it('calls a value of the wrong type invalid rather than missing', async () => {
    const { agent, csrf } = await loginForm(buildApp(t.db));
    const res = await agent.post('/login').type('form').send(`_csrf=${encodeURIComponent(csrf)}&email=a%40b.de&email=c%40d.de&password=x`);
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="f-email-error">Ungültiger Wert\./);
  });

  it('refuses a deactivated employee, saying so to whoever typed her password, and only "wrong" otherwise', async () => {
    const user = await createUser(t.db, { active: false });
    const { agent, csrf } = await loginForm(buildApp(t.db));
    const res = await agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, _csrf: csrf });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Ihr Zugang ist deaktiviert. Bitte wenden Sie sich an die Administration.');
    expect(res.text).toContain(`value="${user.email}"`);
    expect((await agent.get('/')).headers.location).toMatch(/^\/login/);
    const guessed = await agent.post('/login').type('form').send({ email: user.email, password: 'geraten-123456', _csrf: csrf });
    expect(guessed.status).toBe(401);
    expect(guessed.text).toContain('E-Mail oder Passwort ist falsch.');
    expect(guessed.text).not.toContain('deaktiviert');
    expect(await t.db('login_failures').where({ email: user.email.toLowerCase() }).count({ n: '*' }).first()).toEqual({ n: '2' });
  });

  it('throttles an account from an address after 10 failures in 15 minutes, even with the right password', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const { agent, csrf } = await loginForm(app);
    for (let i = 0; i < 10; i++) {
      expect((await agent.post('/login').type('form').send({ email: user.email, password: 'falsch', _csrf: csrf })).status).toBe(401);
    }
    const res = await agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, _csrf: csrf });
    expect(res.status).toBe(429);
    expect(res.text).toContain('Zu viele fehlgeschlagene Anmeldeversuche');
  });

  it('counts every spelling of the address that finds the account as that account', async () => {
    // PostgreSQL folds "İ" to "i" when it looks the account up; JavaScript folds it to "i̇", and
    // each such spelling used to get counters of its own while logging into the same account.
    const user = await createUser(t.db, { email: 'maria.weiss@firma.example' });
    const { agent, csrf } = await loginForm(buildApp(t.db));
    const send = (email: string, password: string) => agent.post('/login').type('form').send({ email, password, _csrf: csrf });
    for (let i = 0; i < 5; i++) expect((await send(user.email, 'falsch')).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await send(' MARİA.WEİSS@firma.example ', 'falsch')).status).toBe(401);
    expect((await send('marİa.weiss@firma.example', PASSWORD)).status).toBe(429);
    expect((await send(user.email, PASSWORD)).status).toBe(429);
    expect(await t.db('login_failures').select('email').distinct()).toEqual([{ email: 'maria.weiss@firma.example' }]);
  });

  it('lets the owner in while others fail on the account from elsewhere, up to 100 failures', async () => {
    const user = await createUser(t.db);
    await t.db('login_failures').insert(Array.from({ length: 99 }, (_, i) => ({ email: user.email, ip: `10.0.${Math.floor(i / 10)}.${i % 10}` })));
    await expect(loginAs(buildApp(t.db), user.email)).resolves.toBeDefined();
    // The login cleared them; 100 from elsewhere stop everyone, the owner too.
    await t.db('login_failures').insert(Array.from({ length: 100 }, (_, i) => ({ email: user.email, ip: `10.1.${Math.floor(i / 10)}.${i % 10}` })));
    const { agent, csrf } = await loginForm(buildApp(t.db));
    expect((await agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, _csrf: csrf })).status).toBe(429);
  });

  it('throttles an address after 30 failures on different accounts', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const { agent, csrf } = await loginForm(app);
    for (let i = 0; i < 30; i++) {
      expect((await agent.post('/login').type('form').send({ email: `gibt-es-nicht-${i}@firma.example`, password: 'x', _csrf: csrf })).status).toBe(401);
    }
    const res = await agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, _csrf: csrf });
    expect(res.status).toBe(429);
  });

  it('counts parallel attempts one at a time: no more than 10 get past the limit', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginForm(buildApp(t.db));
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => agent.post('/login').type('form').send({ email: user.email, password: 'falsch', _csrf: csrf })),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    expect(await t.db('login_failures').where({ email: user.email }).count({ n: '*' }).first()).toEqual({ n: '10' });
  });

  it('forgets failures older than 15 minutes', async () => {
    const user = await createUser(t.db);
    await t.db('login_failures').insert(
      Array.from({ length: 10 }, () => ({ email: user.email, ip: '10.0.0.1', at: t.db.raw(`now() - interval '16 minutes'`) })),
    );
    await expect(loginAs(buildApp(t.db), user.email)).resolves.toBeDefined();
  });

  it('gives a new session id at login, so a planted cookie is worthless', async () => {
    const user = await createUser(t.db);
    const { agent, csrf, cookie: before } = await loginForm(buildApp(t.db));
    const res = await agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, _csrf: csrf });
    const after = sessionCookie(res);
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after).not.toEqual(before);
    const sessions = await t.db('session').select('sid');
    expect(sessions.map((s) => s.sid)).not.toContain(decodeURIComponent(before!.split('=')[1]).slice(2).split('.')[0]);
  });

  it('returns to the page asked for before login, but never to another host', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const first = await loginForm(app);
    const ok = await first.agent
      .post('/login')
      .type('form')
      .send({ email: user.email, password: PASSWORD, next: '/profile?x=1', _csrf: first.csrf });
    expect(ok.headers.location).toBe('/profile?x=1');
    const second = await loginForm(app);
    const evil = await second.agent
      .post('/login')
      .type('form')
      .send({ email: user.email, password: PASSWORD, next: 'https://evil.example/steal', _csrf: second.csrf });
    expect(evil.headers.location).toBe('/steal');
    // Paths the browser would read as another host ("//evil.example/").
    for (const next of ['/.//evil.example/steal', 'http://x//evil.example/steal', '/%2e//evil.example/steal', '/\\evil.example/steal']) {
      const form = await loginForm(app);
      const res = await form.agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, next, _csrf: form.csrf });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/[^/\\]/);
      expect(res.headers.location).toMatch(/\/steal$/);
    }
    // The page asked for can be a list with many filters: a long address is followed, an absurd one dropped,
    // and neither refuses the login (it was refused with 422 and no word why).
    const longList = `/contacts?q=a&${Array.from({ length: 150 }, (_, i) => `status=prospect&city=Ort${i}`).join('&')}`;
    expect(longList.length).toBeGreaterThan(2000);
    const third = await loginForm(app);
    const long = await third.agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, next: longList, _csrf: third.csrf });
    expect(long.status).toBe(303);
    expect(long.headers.location).toBe(longList);
    const fourth = await loginForm(app);
    const absurd = await fourth.agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, next: `/${'x'.repeat(20_000)}`, _csrf: fourth.csrf });
    expect(absurd.status).toBe(303);
    expect(absurd.headers.location).toBe('/');
  });
});

describe('logout', () => {
  it('destroys the session, so the old cookie no longer opens pages', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const { agent, csrf } = await loginAs(app, user.email);
    const home = await agent.get('/');
    const cookie = (home.request as unknown as { cookies: string }).cookies;
    const out = await agent.post('/logout').type('form').send({ _csrf: csrf });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login?bye=1');
    expect(await t.db('session').count({ n: '*' }).first()).toEqual({ n: '0' });
    const replay = await request(app).get('/').set('Cookie', cookie);
    expect(replay.status).toBe(303);
    // The old cookie shows this browser was logged in: the login page says the session ended.
    expect(replay.headers.location).toBe('/login?next=%2F&ended=1');
    const login = await request(app).get(replay.headers.location);
    expect(login.text).toContain('Ihre Anmeldung ist abgelaufen oder wurde beendet');
    // Without a cookie, nobody was logged in: no such notice; nor with the cookie the login form itself gave.
    expect((await request(app).get('/')).headers.location).toBe('/login?next=%2F');
    const visitor = request.agent(app);
    await visitor.get('/login');
    expect((await visitor.get('/contacts')).headers.location).toBe('/login?next=%2Fcontacts');
    // Logged out on purpose, the browser is told nothing ended either.
    const { agent: leaving, csrf: leavingCsrf } = await loginAs(app, user.email);
    await leaving.post('/logout').type('form').send({ _csrf: leavingCsrf });
    expect((await leaving.get('/contacts')).headers.location).toBe('/login?next=%2Fcontacts');
    expect((await request(app).get('/login?next=%2F')).text).not.toContain('abgelaufen');
  });
});

describe('sessions', () => {
  it('end when the employee is deactivated', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    await t.db('users').where({ id: user.id }).update({ active: false });
    const res = await agent.get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login/);
  });

  it('read the employee afresh on every request: a changed role counts at once', async () => {
    const admin = await createUser(t.db, { role: 'admin' });
    const { agent } = await loginAs(buildApp(t.db), admin.email);
    expect((await agent.get('/settings/users')).status).toBe(200);
    await t.db('users').where({ id: admin.id }).update({ role: 'member', name: 'Neu Benannt' });
    expect((await agent.get('/settings/users')).status).toBe(403);
    expect((await agent.get('/')).text).toContain('Neu Benannt');
  });

  it('treat a session naming no employee as logged out, and keep the employee out of the stored session', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    expect((await agent.get('/')).status).toBe(200);
    const [stored] = await t.db('session').select('sess');
    expect(Object.keys(stored.sess).sort()).toEqual(['cookie', 'csrfToken', 'lastActiveAt', 'loginAt', 'userId']);
    await t.db('session').update({ sess: t.db.raw(`jsonb_set(sess::jsonb, '{userId}', '"1 or 1=1"')::json`) });
    const res = await agent.get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login/);
  });

  it('end 12 hours after login however active the employee is', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    await t.db('session').update({
      sess: t.db.raw(`jsonb_set(sess::jsonb, '{loginAt}', to_jsonb((extract(epoch from now()) * 1000 - 12.5 * 3600 * 1000)::bigint))::json`),
    });
    expect((await agent.get('/')).status).toBe(303);
  });

  it('are idle for at most 30 minutes', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const { expire } = await t.db('session').select(t.db.raw('extract(epoch from expire - now()) as expire')).first();
    expect(Number(expire)).toBeGreaterThan(29 * 60);
    expect(Number(expire)).toBeLessThanOrEqual(30 * 60 + 2);
    await t.db('session').update({ expire: t.db.raw(`now() - interval '1 second'`) });
    expect((await agent.get('/')).status).toBe(303);
  });

  it('renew their cookie when activity is recorded (once a minute), not on every response', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    expect(sessionCookie(await agent.get('/contacts'))).toBeUndefined();
    await t.db('session').update({
      sess: t.db.raw(`jsonb_set(sess::jsonb, '{lastActiveAt}', to_jsonb((extract(epoch from now()) * 1000 - 2 * 60000)::bigint))::json`),
      expire: t.db.raw(`now() + interval '28 minutes'`),
    });
    const active = await agent.get('/contacts');
    expect(sessionCookie(active)).toBeDefined();
    const expires = Date.parse(String(active.headers['set-cookie']).match(/Expires=([^;]+)/)![1]);
    expect(expires - Date.now()).toBeGreaterThan(29 * 60_000);
    const { expire } = await t.db('session').select(t.db.raw('extract(epoch from expire - now()) as expire')).first();
    expect(Number(expire)).toBeGreaterThan(29 * 60);
  });

  it('record activity once for requests that come together, not once each', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    await t.db.raw('create table session_saves (at timestamptz default now())');
    await t.db.raw(`create function note_session_save() returns trigger language plpgsql as $$ begin insert into session_saves default values; return null; end $$`);
    await t.db.raw('create trigger note_session_save after update on session for each row execute function note_session_save()');
    try {
      await t.db('session').update({
        sess: t.db.raw(`jsonb_set(sess::jsonb, '{lastActiveAt}', to_jsonb((extract(epoch from now()) * 1000 - 2 * 60000)::bigint))::json`),
      });
      await t.db('session_saves').delete();
      const responses = await Promise.all(Array.from({ length: 5 }, () => agent.get('/contacts')));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await t.db('session_saves').count({ n: '*' }).first()).toEqual({ n: '1' });
      const { sess } = await t.db('session').select('sess').first();
      expect(Date.now() - Number(sess.lastActiveAt)).toBeLessThan(10_000);
    } finally {
      await t.db.raw('drop trigger note_session_save on session');
      await t.db.raw('drop function note_session_save()');
      await t.db.raw('drop table session_saves');
    }
  });

  it('end after 30 idle minutes even while a tab keeps polling for notifications', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const setIdle = (minutes: number) =>
      t.db('session').update({
        sess: t.db.raw(`jsonb_set(sess::jsonb, '{lastActiveAt}', to_jsonb((extract(epoch from now()) * 1000 - ? * 60000)::bigint))::json`, [minutes]),
      });
    await setIdle(29);
    expect((await agent.get('/notifications/poll?after=0').set('HX-Request', 'true')).status).toBe(200);
    await setIdle(31);
    const poll = await agent.get('/notifications/poll?after=0').set('HX-Request', 'true');
    expect(poll.status).toBe(401);
    expect(JSON.parse(poll.headers['hx-trigger']).sessionEnded.loginUrl).toMatch(/^\/login/);
  });

  it('ended while a form was filled in: its sending is told to log in again, never "Formular abgelaufen", and writes nothing', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const { agent, csrf } = await loginAs(app, user.email);
    const id = await createContact(t.db, { last_name: 'Vorher' });
    const page = await agent.get(`/contacts/${id}`);
    await t.db('session').update({ sess: t.db.raw(`jsonb_set(sess::jsonb, '{lastActiveAt}', to_jsonb((extract(epoch from now()) * 1000 - 31 * 60000)::bigint))::json`) });

    // A plain form (the master data): to the login, which says the session ended; not the CSRF error page.
    expect(page.headers['referrer-policy']).toBe('same-origin');
    const plain = await agent.post(`/contacts/${id}`).set('Referer', `http://intranet.example/contacts/${id}`).type('form').send({ _csrf: csrfFrom(page.text), last_name: 'Nachher', version: '1' });
    expect(plain.status).toBe(303);
    expect(plain.headers.location).toBe(`/login?next=%2Fcontacts%2F${id}&ended=1`);
    // After the login, back to the page the form was on, not to the form's own address (a 404 to GET).
    const note = await agent.post(`/contacts/${id}/notes`).set('Referer', `http://intranet.example/contacts/${id}`).type('form').send({ _csrf: csrf, text: 'Hallo' });
    expect(note.headers.location).toBe(`/login?next=%2Fcontacts%2F${id}&ended=1`);
    const picture = await agent.post(`/contacts/${id}/picture?_csrf=${encodeURIComponent(csrf)}`).set('Referer', `http://intranet.example/contacts/${id}`).type('form').send({});
    expect(picture.headers.location).not.toContain('_csrf');
    expect((await agent.post('/notifications/read').type('form').send({ _csrf: csrf })).headers.location).toBe('/login?ended=1');
    // An htmx form: nothing swapped, nothing to jump to; the page keeps the input and says so (public/js/app.js).
    const htmx = await agent
      .post('/contacts')
      .type('form')
      .set('HX-Request', 'true')
      .set('HX-Current-URL', 'http://intranet.example/contacts?q=m')
      .send({ _csrf: csrf, last_name: 'Neu', create_token: randomUUID() });
    expect(htmx.status).toBe(401);
    expect(htmx.headers['hx-reswap']).toBe('none');
    expect(htmx.headers['hx-redirect']).toBeUndefined();
    expect(JSON.parse(htmx.headers['hx-trigger'])).toEqual({ sessionEnded: { loginUrl: '/login?next=%2Fcontacts%3Fq%3Dm&ended=1', sent: true } });
    expect(htmx.text).toBe('');
    expect(await t.db('contacts').pluck('last_name')).toEqual(['Vorher']);
    // Logging out from such a page goes to the login, where it was a 403.
    const logout = await agent.post('/logout').type('form').send({ _csrf: csrf });
    expect(logout.status).toBe(303);
    expect(logout.headers.location).toBe('/login?bye=1');
  });

  it('logged in again in another tab: /session gives the page the new token, and an htmx form sent with the old one gets it too', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db);
    const { agent, csrf: oldToken } = await loginAs(app, user.email);
    // The other tab: a new login, a new session (the cookie jar is the browser's, shared by its tabs).
    const again = await agent.get('/login');
    expect(again.status).toBe(303);
    await agent.post('/logout').type('form').send({ _csrf: oldToken });
    const loginPage = await agent.get('/login');
    expect((await agent.post('/login').type('form').send({ email: user.email, password: PASSWORD, _csrf: csrfFrom(loginPage.text) })).status).toBe(303);

    const session = await agent.get('/session');
    expect(session.status).toBe(200);
    expect(session.headers['cache-control']).toBe('no-store');
    expect(session.body.loggedIn).toBe(true);
    expect(session.body).toMatchObject({ userId: user.id, name: user.name });
    const newToken = session.body.csrfToken as string;
    expect(newToken).not.toBe(oldToken);
    expect(csrfFrom((await agent.get('/contacts')).text)).toBe(newToken);

    const form = { last_name: 'Zweiter Versuch', status: 'prospect', assignment: 'all', create_token: randomUUID() };
    const stale = await agent.post('/contacts').type('form').set('HX-Request', 'true').set('X-Page-User', user.id).send({ ...form, _csrf: oldToken });
    expect(stale.status).toBe(403);
    expect(stale.headers['x-csrf-token']).toBe(newToken);
    expect(stale.headers['x-csrf-user']).toBe(user.id);
    expect(stale.headers['hx-retarget']).toBe('#messages');
    expect(stale.text).toContain('Diese Seite stammt aus einer früheren Anmeldung. Ihre Eingaben sind noch da: bitte noch einmal senden.');
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
    const resent = await agent.post('/contacts').type('form').set('HX-Request', 'true').set('X-CSRF-Token', newToken).send(form);
    expect(resent.status).toBe(200);
    expect(await t.db('contacts').pluck('last_name')).toEqual(['Zweiter Versuch']);
  });

  it('a page of one employee sent after another logged in in the same browser: refused, no token handed over, nothing written', async () => {
    const anna = await createUser(t.db, { name: 'Anna Admin' });
    const max = await createUser(t.db, { name: 'Max Müller' });
    const app = buildApp(t.db);
    const { agent, csrf: annasToken } = await loginAs(app, anna.email);
    await agent.post('/logout').type('form').send({ _csrf: annasToken });
    const loginPage = await agent.get('/login');
    await agent.post('/login').type('form').send({ email: max.email, password: PASSWORD, _csrf: csrfFrom(loginPage.text) });
    expect((await agent.get('/session')).body).toMatchObject({ loggedIn: true, userId: max.id, name: 'Max Müller' });
    const form = { last_name: 'Von Anna getippt', status: 'prospect', assignment: 'all', create_token: randomUUID() };
    const res = await agent.post('/contacts').type('form').set('HX-Request', 'true').set('X-Page-User', anna.id).send({ ...form, _csrf: annasToken });
    expect(res.status).toBe(403);
    expect(res.headers['x-csrf-token']).toBeUndefined();
    expect(res.text).toContain('In diesem Browser ist jetzt Max Müller angemeldet; diese Seite gehört zu einer anderen Anmeldung. Es wurde nichts gesendet');
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('/session says "not logged in" without starting a session', async () => {
    const app = buildApp(t.db);
    const sessions = async () => Number((await t.db('session').count({ n: '*' }).first())!.n);
    const before = await sessions();
    const res = await request(app).get('/session');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ loggedIn: false });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await sessions()).toBe(before);
  });
});

describe('pages that need a session', () => {
  it('send a plain request to the login page', async () => {
    const res = await request(buildApp(t.db)).get('/profile');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fprofile');
  });

  it('answer an htmx request with the login address for the page to go to, instead of pasting the login page into a fragment', async () => {
    const res = await request(buildApp(t.db))
      .get('/profile')
      .set('HX-Request', 'true')
      .set('HX-Current-URL', 'http://intranet.example/profile');
    expect(res.status).toBe(401);
    expect(res.headers['hx-reswap']).toBe('none');
    expect(JSON.parse(res.headers['hx-trigger'])).toEqual({ sessionEnded: { loginUrl: '/login?next=%2Fprofile', sent: false } });
    expect(res.text).toBe('');
  });
});

describe('single sign-on through the proxy header', () => {
  it('logs in the active employee named by the trusted proxy', async () => {
    const user = await createUser(t.db, { name: 'Sabine Schröder' });
    const app = buildApp(t.db, { trustProxy: 'loopback', authProxyHeader: 'x-remote-user' });
    const res = await request(app).get('/').set('X-Remote-User', user.email);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Guten Tag, Sabine Schröder!');
  });

  it('ignores the header when the request does not come from the trusted proxy', async () => {
    const user = await createUser(t.db);
    const app = buildApp(t.db, { trustProxy: '10.9.9.9', authProxyHeader: 'x-remote-user' });
    const res = await request(app).get('/').set('X-Remote-User', user.email);
    expect(res.status).toBe(303);
  });

  it('ignores deactivated employees', async () => {
    const user = await createUser(t.db, { active: false });
    const app = buildApp(t.db, { trustProxy: 'loopback', authProxyHeader: 'x-remote-user' });
    expect((await request(app).get('/').set('X-Remote-User', user.email)).status).toBe(303);
  });
});
