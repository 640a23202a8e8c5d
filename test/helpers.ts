import querystring from 'node:querystring';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../src/app';
import { loadConfig, type Config } from '../src/config';
import type { Db } from '../src/db/knex';
import { hashPassword } from '../src/users/passwords';
import { insertUser, type Role } from '../src/users/queries';

export const PASSWORD = 'richtig-geheim-123';
let passwordHash: Promise<string> | undefined;

export function testConfig(overrides: Partial<Config> = {}): Config {
  // Tests change sessions and employees in SQL and ask at once: the session cache (on by default, with its own tests) would answer from before.
  return { ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), sessionCache: false, ...overrides };
}

export function buildApp(db: Db, overrides: Partial<Config> = {}): Express {
  return createApp({ db, config: testConfig(overrides) });
}

let counter = 0;
export async function createUser(
  db: Db,
  fields: Partial<{ name: string; email: string; role: Role; active: boolean; language: 'de' | 'en' }> = {},
) {
  counter += 1;
  passwordHash ??= hashPassword(PASSWORD);
  const email = fields.email ?? `mitarbeiter${counter}@firma.example`;
  const id = await insertUser(db, {
    name: fields.name ?? `Erika Mustermann ${counter}`,
    email,
    passwordHash: await passwordHash,
    role: fields.role ?? 'member',
    language: fields.language,
  });
  if (fields.active === false) await db('users').where({ id }).update({ active: false });
  return { id, email, name: fields.name ?? `Erika Mustermann ${counter}` };
}

export function csrfFrom(html: string): string {
  const match = html.match(/<meta name="csrf-token" content="([^"]+)"/);
  if (!match) throw new Error('no CSRF token in page');
  return match[1];
}

export type Agent = ReturnType<typeof request.agent>;

/** Logs in through the real form; returns the cookie-keeping agent and its CSRF token. */
export async function loginAs(app: Express, email: string, password = PASSWORD, basePath = ''): Promise<{ agent: Agent; csrf: string }> {
  const agent = request.agent(app);
  const loginPage = await agent.get(`${basePath}/login`);
  const res = await agent
    .post(`${basePath}/login`)
    .type('form')
    .send({ email, password, _csrf: csrfFrom(loginPage.text) });
  if (res.status !== 303) throw new Error(`login failed with ${res.status}`);
  const home = await agent.get(`${basePath}/`);
  return { agent, csrf: csrfFrom(home.text) };
}

/** A statement as the query listeners hear it; the list reads add how they plan it (listReads). */
export interface HeardQuery {
  sql: string;
  planning?: string;
}

/** What `work` returns, and the SQL of every statement knex sent on `db` meanwhile (`queries`: as heard). */
export async function withStatements<T>(db: Db, work: () => Promise<T>): Promise<{ result: T; statements: string[]; queries: HeardQuery[] }> {
  const queries: HeardQuery[] = [];
  const listen = (query: HeardQuery) => queries.push(query);
  db.on('query', listen);
  try {
    const result = await work();
    return { result, statements: queries.map((q) => q.sql), queries };
  } finally {
    db.off('query', listen);
  }
}

/**
 * What a browser would send for the first form of a page that posts to `action`:
 * its inputs (ticked boxes only) and selected options, decoded. For tests that
 * send a form exactly as it came back.
 */
export function formFields(html: string, action: string): Record<string, string | string[]> {
  const start = html.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form posting to ${action}`);
  const form = html.slice(start, html.indexOf('</form>', start));
  const decode = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const fields: Record<string, string | string[]> = {};
  const add = (name: string, value: string) => {
    const had = fields[name];
    fields[name] = had === undefined ? value : ([] as string[]).concat(had, value);
  };
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    if (!name) continue;
    const type = /\btype="([^"]*)"/.exec(tag)?.[1] ?? 'text';
    if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/.test(tag)) continue;
    add(name, decode(/\bvalue="([^"]*)"/.exec(tag)?.[1] ?? ''));
  }
  for (const [tag, name, options] of form.matchAll(/<select\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/select>/g)) {
    // A multiple select sends every chosen option, or nothing; a single one its chosen option, else its first.
    if (/^<select\b[^>]*\smultiple\b/.test(tag)) {
      for (const [, value] of options.matchAll(/<option value="([^"]*)"[^>]*\sselected\b/g)) add(name, decode(value));
      continue;
    }
    const chosen = /<option value="([^"]*)"[^>]*\sselected\b/.exec(options) ?? /<option value="([^"]*)"/.exec(options);
    if (chosen) add(name, decode(chosen[1]));
  }
  return fields;
}

/**
 * An "older entries" address as htmx swaps it in (a fragment) and as a new tab or a browser without
 * JavaScript opens it (a whole page): both answered, each in its form.
 */
export async function fragmentAndPage(agent: Agent, url: string): Promise<{ fragment: request.Response; whole: request.Response }> {
  const fragment = await agent.get(url).set('HX-Request', 'true');
  expect(fragment.status).toBe(200);
  expect(fragment.text).not.toContain('<html');
  const whole = await agent.get(url);
  expect(whole.status).toBe(200);
  expect(whole.text).toContain('<html');
  return { fragment, whole };
}

/**
 * What the bulk dialog's form carries as `confirmed` for "Alle … Treffer" (the
 * set's fingerprint, src/contacts/bulk.ts), as a browser gets it: every match
 * of the filter selected (unless `selected`: the selection made already), then
 * the dialog opened.
 */
export async function confirmedAll(agent: Agent, csrf: string, action: string, filter: Record<string, string | string[]> = {}, { selected = false } = {}): Promise<string> {
  if (!selected) await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ ...filter, all: '1' });
  const dialog = await agent.get(`/contacts/bulk?${querystring.stringify({ ...filter, action })}`).set('HX-Request', 'true');
  const confirmed = dialog.text.match(/name="confirmed" value="([^"]+)"/)?.[1];
  if (!confirmed) throw new Error(`the bulk dialog (${dialog.status}) carries no confirmed value`);
  return confirmed;
}
