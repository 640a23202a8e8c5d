import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import request from 'supertest';
import pino from 'pino';
import { createApp } from '../src/app';
import { createDb, listReads, preparedQuery, PREPARED_PER_CONNECTION } from '../src/db/knex';
import { freePort, socketDirFor } from '../src/db/net';
import { loadConfig, ConfigError } from '../src/config';
import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs, testConfig, withStatements } from './helpers';
import { strictPartial } from '../src/web/partials';
import { escapeForView, html } from '../src/web/html';
import ejs from 'ejs';
import { avatar, displayName, type Pictured } from '../src/contacts/format';
import { assignmentLabel } from '../src/assignment/label';
import { translator } from '../src/i18n';

const t = useTestDatabase();

describe('/healthz', () => {
  it('answers 200 without login when the database is reachable', async () => {
    const res = await request(buildApp(t.db)).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers 503 when the database is not reachable, and pages say so in German', async () => {
    const port = await freePort();
    const deadDb = createDb(`postgres://postgres@127.0.0.1:${port}/nothing`);
    const app = createApp({ db: deadDb, config: testConfig(), logger: pino({ level: 'silent' }) });
    try {
      expect((await request(app).get('/healthz')).status).toBe(503);
      const user = await createUser(t.db);
      const { agent } = await loginAs(buildApp(t.db), user.email);
      const cookie = (await agent.get('/')).request as unknown as { cookies: string };
      const page = await request(app).get('/').set('Cookie', cookie.cookies);
      expect(page.status).toBe(503);
      expect(page.text).toContain('Die Datenbank ist gerade nicht erreichbar');
    } finally {
      await deadDb.destroy();
    }
  });
});

describe('the embedded PostgreSQL', () => {
  it('is reached through a socket in its data folder, and over TCP where a socket path would be too long', async () => {
    expect(socketDirFor('/srv/kontakte/.data/postgres/pgdata', 54321)).toBe('/srv/kontakte/.data/postgres/pgdata');
    expect(socketDirFor(`/srv/${'a'.repeat(100)}/pgdata`, 54321)).toBeUndefined();
    expect(socketDirFor('/srv/with space/pgdata', 54321)).toBeUndefined();
    // This run's own server (an embedded one unless TEST_DATABASE_URL names another) answers through it.
    const { rows } = await t.db.raw("select coalesce(inet_server_addr()::text, 'socket') as via");
    if (!process.env.TEST_DATABASE_URL) expect(rows[0].via).toBe('socket');
  });
});

describe('prepared statements (the session and the list)', () => {
  it('are kept per connection up to a bound, and prepared afresh when a table changes under them', async () => {
    const one = createDb(t.url, { min: 0, max: 1 });
    try {
      const prepared = async () => Number((await one.raw('select count(*) as n from pg_prepared_statements')).rows[0].n);
      for (let i = 0; i < PREPARED_PER_CONNECTION + 5; i++) {
        expect(await preparedQuery(one, `select $1::int + ${i} as n`, [1])).toEqual([{ n: 1 + i }]);
      }
      expect(await prepared()).toBeGreaterThan(0);
      expect(await prepared()).toBeLessThanOrEqual(PREPARED_PER_CONNECTION);
      // The same text again is the same statement, not a new one.
      const before = await prepared();
      await preparedQuery(one, `select $1::int + ${PREPARED_PER_CONNECTION + 4} as n`, [1]);
      expect(await prepared()).toBe(before);

      await one.raw('create table prepared_probe (v int)');
      await one.raw('insert into prepared_probe values (7)');
      expect(await preparedQuery(one, 'select *, $1::int as k from prepared_probe', [1])).toEqual([{ v: 7, k: 1 }]);
      await one.raw('alter table prepared_probe alter column v type text');
      expect(await preparedQuery(one, 'select *, $1::int as k from prepared_probe', [1])).toEqual([{ v: '7', k: 1 }]);
    } finally {
      await one.raw('drop table if exists prepared_probe');
      await one.destroy();
    }
  });
});

describe('the list reads', () => {
  it('and every other statement are planned for memory-resident data and never JIT-compiled', async () => {
    const settings = (db: typeof t.db) => db.select(db.raw("current_setting('random_page_cost') as cost, current_setting('jit') as jit"));
    expect(await settings(t.db)).toEqual([{ cost: '1.1', jit: 'off' }]);
    expect(await listReads(t.db, settings(t.db))).toEqual([{ cost: '1.1', jit: 'off' }]);
  });

  it('run prepared on pools of their own: one plans every call, one keeps plans as PostgreSQL judges; with knex inside a transaction', async () => {
    const mode = (db: typeof t.db) => db.select(db.raw("current_setting('plan_cache_mode') as mode"));
    expect(await listReads(t.db, mode(t.db))).toEqual([{ mode: 'force_custom_plan' }]);
    expect(await listReads(t.db, mode(t.db), 'kept')).toEqual([{ mode: 'auto' }]);
    // The main pool keeps PostgreSQL's default: foreign-key checks there keep their plans.
    expect((await t.db.raw("select current_setting('plan_cache_mode') as mode")).rows).toEqual([{ mode: 'auto' }]);
    await t.db.transaction(async (trx) => expect(await listReads(trx, mode(trx))).toEqual([{ mode: 'auto' }]));
  });

  it('keep the plan of the list by status, flags and country, with its limit written in; any other filter is planned per call', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    // The list reads of one request, with how each is planned.
    const list = async (query: string) => {
      const { result, queries } = await withStatements(t.db, () => agent.get(`/contacts?${query}`).set('HX-Request', 'true'));
      expect(result.status).toBe(200);
      return queries.filter((q) => q.planning);
    };
    const [byStatus] = await list('status=inbox&sort=-created');
    expect(byStatus.planning).toBe('kept');
    // A bound limit left the kept plan guessing a tenth of the table, and it joined every contact.
    expect(byStatus.sql).toMatch(/ order by c\.created_at desc, c\.id desc limit 51\) as "p"/);
    // The flags and the country are written in: each value its own statement and plan.
    const [withoutEmail] = await list('country=AT&has_email=no&has_number=yes');
    expect(withoutEmail.planning).toBe('kept');
    expect(withoutEmail.sql).toMatch(/and c\.country = 'AT' and c\.has_number = true and c\.has_email = false order by/);
    for (const filter of ['q=anna', 'city=K%C3%B6ln', 'postal_code=8', 'created_from=2026-01-01', 'assigned=me', 'competence=1&has_email=no']) {
      expect((await list(filter)).map((q) => q.planning)).toEqual(['perCall']);
    }
    // Each on its own pool, named apart.
    const { rows } = await t.db.raw(
      `select distinct application_name as name from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query like '%"p"."sort_key"%' order by 1`,
    );
    expect(rows.map((r: { name: string }) => r.name)).toEqual(['kontakte-list', 'kontakte-list-per-call']);
  });
});

describe('what a page loads beside its route (the bell, the group sidebar)', () => {
  it('arrives in the page, and a failure there gives the error page, not a half page or a crash', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const page = await agent.get('/contacts');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Alle Kontakte');
    expect(page.text).toMatch(/class="[^"]*bell/);

    await t.db.raw('alter table notifications rename to notifications_away');
    try {
      const broken = await agent.get('/contacts');
      expect(broken.status).toBe(500);
      expect(broken.text).toContain('<html');
      expect(broken.text).not.toMatch(/notifications_away|at .*\.ts:\d+/);
    } finally {
      await t.db.raw('alter table notifications_away rename to notifications');
    }
    expect((await agent.get('/contacts')).status).toBe(200);
  });
});

describe('configuration', () => {
  it('names the bad variable', () => {
    expect(() => loadConfig({ PORT: 'achtzig' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'achtzig', BASE_PATH: 'crm/', DATABASE_URL: 'mysql://x' });
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^PORT:/m);
      expect(problems).toMatch(/^BASE_PATH:/m);
      expect(problems).toMatch(/^DATABASE_URL:/m);
    }
  });

  it('takes the notification poll interval in whole seconds from 1 to 600 (the page polls at it) and the session cache as true/false', async () => {
    expect(loadConfig({ NOTIFICATION_POLL_SECONDS: '60' }).notificationPollSeconds).toBe(60);
    expect(loadConfig({ SESSION_CACHE: 'false' }).sessionCache).toBe(false);
    expect(() => loadConfig({ SESSION_CACHE: 'vielleicht' })).toThrow(/SESSION_CACHE/);
    for (const wrong of ['0', '601', '2.5', 'oft']) expect(() => loadConfig({ NOTIFICATION_POLL_SECONDS: wrong })).toThrow(/^\s*- NOTIFICATION_POLL_SECONDS:/m);
    const app = createApp({ db: t.db, config: testConfig({ notificationPollSeconds: 45 }) });
    await createUser(t.db, { email: 'poll@kontakte.example' });
    const { agent } = await loginAs(app, 'poll@kontakte.example');
    const page = await agent.get('/contacts');
    expect(page.text).toMatch(/<div id="notify-poller" hx-get="\/notifications\/poll\?after=0" hx-trigger="every 45s"/);
  });

  it('demands a session secret in production and a trusted proxy for the SSO header', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET/);
    expect(() => loadConfig({ AUTH_PROXY_HEADER: 'X-Remote-User' })).toThrow(/AUTH_PROXY_HEADER/);
    // Every peer is "the proxy" with true or a hop count: the header only with the proxy's addresses.
    for (const trust of ['true', '1', '2']) {
      expect(() => loadConfig({ AUTH_PROXY_HEADER: 'X-Remote-User', TRUST_PROXY: trust })).toThrow(/name the proxy's addresses/);
    }
    expect(loadConfig({ AUTH_PROXY_HEADER: 'X-Remote-User', TRUST_PROXY: '10.0.0.5' }).authProxyHeader).toBe('x-remote-user');
    expect(loadConfig({ AUTH_PROXY_HEADER: 'X-Remote-User', TRUST_PROXY: 'loopback' }).trustProxy).toBe('loopback');
  });

  it('has working defaults for a newcomer', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', basePath: '', trustProxy: false, demoData: true, notificationPollSeconds: 20, sessionCache: true });
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32) }).demoData).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
  });

  it('exits with status 1 and a clear message when the server is started with a bad variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: 'achtzig' },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT');
  });
});

describe('starting on a port that is taken', () => {
  it('exits with status 1 and says so, instead of announcing an app that does not listen', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        // Said before the database is reached: this one does not exist.
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent', DEMO_DATA: 'false' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(out).toContain(`Kontakte konnte nicht starten: Port ${port} auf 127.0.0.1 ist schon belegt`);
      expect(out).not.toContain('läuft auf');
    } finally {
      taken.close();
    }
  }, 60_000);
});

describe('partials compiled strict (the list rows)', () => {
  const names = ['rows', 'createdId', 'selection', 'isSelected', 'displayName', 't', 'url', 'avatar', 'assignmentLabel'];
  const row = { id: '7', salutation: null, first_name: 'Jörg', last_name: '<Müller>', company: null, email: null, status: 'customer', customer_number: null, city: 'Köln', picture_updated_at: null, assignment: { kind: 'all' } };
  const locals = {
    rows: [row],
    createdId: null,
    selection: { all: false, ids: [] },
    isSelected: () => false,
    displayName,
    t: translator('de'),
    url: (p: string) => `/crm${p}`,
    avatar: (c: Pictured) => avatar('/crm', c),
    assignmentLabel,
  };

  it('prints the rows escaped, the same from the cached compilation', () => {
    const rows = strictPartial('contacts/_rows', names, { cache: true });
    const first = rows(locals).toString();
    expect(first).toContain('<a href="/crm/contacts/7">Jörg &lt;Müller&gt;</a>');
    expect(first).toContain('<span class="badge status-customer">Kunde</span>');
    expect(rows(locals).toString()).toBe(first);
  });

  it('escapes what it prints exactly as EJS itself does, and so does html``', () => {
    const values = [undefined, null, '', 'Müller', '<script>alert("x")</script>', `O'Brien & Söhne`, '&amp;', '>>', 0, 42, false, true, ['a<', 'b'], { toString: () => '"q"' }];
    for (const value of values) {
      expect(escapeForView(value)).toBe(ejs.escapeXML(value as string));
      // html`` prints nothing for false and joins lists without commas; everything else as <%= %>.
      if (value !== undefined && value !== null && value !== false && !Array.isArray(value)) expect(html`${value}`.toString()).toBe(ejs.escapeXML(value as string));
    }
    expect(ejs.render('<%= v %>', { v: `<b title='x'>&"` }, { escape: escapeForView })).toBe('&lt;b title=&#39;x&#39;&gt;&amp;&#34;');
  });

  it('fails loudly when the template reads a local it does not declare', () => {
    const rows = strictPartial('contacts/_rows', names.filter((n) => n !== 'avatar'), { cache: false });
    expect(() => rows({ ...locals, avatar: undefined })).toThrow(/avatar/);
  });
});

describe('the database connections', () => {
  it("read dates as ISO text whatever the server's DateStyle, so the creation sort's cursors keep working", async () => {
    const name = new URL(t.url).pathname.slice(1);
    await t.db.raw(`alter database ?? set "DateStyle" = 'German, DMY'`, [name]);
    const db = createDb(t.url, { min: 0, max: 1 });
    try {
      const { rows } = await db.raw(`select timestamptz '2026-12-06 14:53:09+00' as at, timestamptz '2026-12-06 14:53:09+00'::text as text`);
      expect(rows[0].text).toMatch(/^2026-12-06 \d{2}:53:09/);
      expect(rows[0].at).toEqual(new Date('2026-12-06T14:53:09Z'));
    } finally {
      await db.destroy();
      await t.db.raw(`alter database ?? reset "DateStyle"`, [name]);
    }
  });
});

describe('the request log', () => {
  function capture(level: string) {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { app: createApp({ db: t.db, config: testConfig(), logger }), lines };
  }

  it('writes one line per request at level info: method, address and status, no headers', async () => {
    const { app, lines } = capture('info');
    await request(app).get('/login?next=%2Fcontacts').set('Cookie', 'secret=1');
    const logged = lines.filter((l) => l.msg === 'request completed');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ req: { method: 'GET', url: '/login?next=%2Fcontacts' }, res: { statusCode: 200 } });
    expect(JSON.stringify(logged[0])).not.toContain('secret');
  });

  it('leaves the CSRF token of a URL out', async () => {
    const { app, lines } = capture('debug');
    // Refused (no session): the refusal is logged at debug with its address too.
    await request(app).post('/contacts/1/picture?_csrf=geheim-token&x=1');
    const logged = lines.filter((l) => l.msg === 'request completed');
    expect(logged[0]).toMatchObject({ req: { url: '/contacts/1/picture?_csrf=…&x=1' } });
    expect(JSON.stringify(lines)).not.toContain('geheim-token');
  });

  it('writes none above info, where the app answers all the same', async () => {
    const { app, lines } = capture('warn');
    expect((await request(app).get('/login')).status).toBe(200);
    expect(lines).toEqual([]);
  });
});
