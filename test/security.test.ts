import request from 'supertest';
import { useTestDatabase } from './db';
import { buildApp, createUser, csrfFrom, loginAs, PASSWORD } from './helpers';

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
    // Error pages for nobody in particular: a POST without a token, a logout without a session.
    const refused = await request(app).post('/contacts').type('form').send({ last_name: 'Niemand' });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Das Formular ist abgelaufen');
    expect((await request(app).post('/logout')).status).toBe(403);
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
