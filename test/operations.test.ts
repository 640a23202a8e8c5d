import request from 'supertest';
import pino from 'pino';
import { createApp } from '../src/app';
import { createDb } from '../src/db/knex';
import { freePort } from '../src/db/net';
import { loadConfig, ConfigError } from '../src/config';
import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs, testConfig } from './helpers';

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

  it('demands a session secret in production and a trusted proxy for the SSO header', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET/);
    expect(() => loadConfig({ AUTH_PROXY_HEADER: 'X-Remote-User' })).toThrow(/AUTH_PROXY_HEADER/);
  });

  it('has working defaults for a newcomer', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', basePath: '', trustProxy: false, demoData: true });
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32) }).demoData).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
  });

  it('exits with status 1 and a clear message when the server is started with a bad variable', () => {
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: 'achtzig' },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT');
  });
});
