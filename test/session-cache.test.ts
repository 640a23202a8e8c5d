import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs } from './helpers';
import { sessionCacheOf } from '../src/web/session';
import type { Db } from '../src/db/knex';

/**
 * The session cache (src/web/session-cache.ts): what it serves from memory, and
 * that every change any instance makes - here made in SQL, as another instance
 * would - reaches it before it is asked again.
 */
const t = useTestDatabase();

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** Changes rows without the triggers that announce them: what the cache cannot know unless it reads. */
async function unannounced(db: Db, sql: string, bindings: unknown[] = []): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('set local session_replication_role = replica');
    await trx.raw(sql, bindings as never);
  });
}

async function loggedIn() {
  const app = buildApp(t.db, { sessionCache: true });
  const cache = sessionCacheOf(t.db)!;
  await until(() => cache.isListening, 'the cache listens');
  const user = await createUser(t.db);
  const { agent } = await loginAs(app, user.email);
  // Logging in wrote the session; once that is announced, the next page reads it from the database and keeps it.
  await cache.settled();
  expect((await agent.get('/contacts')).status).toBe(200);
  return { agent, user, cache };
}

const sessionOf = async (userId: string) => (await t.db('session').whereRaw(`sess ->> 'userId' = ?`, [userId]).first())!;

describe('the session cache', () => {
  it('answers from memory once it has read a session', async () => {
    const { agent, user } = await loggedIn();
    // Gone from the table without a word: only a session served from memory still works.
    await unannounced(t.db, `delete from session where sess ->> 'userId' = ?`, [user.id]);
    expect((await agent.get('/contacts')).status).toBe(200);
  });

  it('forgets a session another instance ended', async () => {
    const { agent, user, cache } = await loggedIn();
    await t.db('session').whereRaw(`sess ->> 'userId' = ?`, [user.id]).delete();
    await cache.settled();
    const res = await agent.get('/contacts');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fcontacts&ended=1');
  });

  it('forgets a session another instance changed', async () => {
    const { agent, user, cache } = await loggedIn();
    const other = await createUser(t.db, { name: 'Bernd Anders' });
    const { sid } = await sessionOf(user.id);
    await t.db('session').where({ sid }).update({ sess: t.db.raw(`jsonb_set(sess::jsonb, '{userId}', to_jsonb(?::text))::json`, [other.id]) });
    await cache.settled();
    const profile = (await agent.get('/profile')).text;
    expect(profile).toContain(`<dd class="email">${other.email.replace(/([@.])/g, '$1<wbr>')}</dd>`);
    expect(profile).not.toContain(user.email);
  });

  it('forgets every session when an employee changes: a deactivated one is logged out', async () => {
    const { agent, user, cache } = await loggedIn();
    await t.db('users').where({ id: user.id }).update({ active: false });
    await cache.settled();
    expect((await agent.get('/contacts')).status).toBe(303);
  });

  it('reads from the database while its connection is down, and serves from memory again once it is back', async () => {
    const { agent, user, cache } = await loggedIn();
    await t.db.raw(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'kontakte-session-cache' and datname = current_database()`);
    await until(() => !cache.isListening, 'the cache notices');
    expect((await agent.get('/contacts')).status).toBe(200);
    // Not served from memory: the unannounced delete is seen at once.
    const row = await sessionOf(user.id);
    await unannounced(t.db, 'delete from session where sid = ?', [row.sid]);
    expect((await agent.get('/contacts')).status).toBe(303);

    await until(() => cache.isListening, 'the cache listens again');
    const again = await loginAs(buildApp(t.db, { sessionCache: true }), user.email);
    await cache.settled();
    expect((await again.agent.get('/contacts')).status).toBe(200);
    await unannounced(t.db, `delete from session where sess ->> 'userId' = ?`, [user.id]);
    expect((await again.agent.get('/contacts')).status).toBe(200);
  });

  it('does not keep a read that a change overtook, nor a session past its expiry', async () => {
    const { cache } = await loggedIn();
    const session = { json: '{}', employee: null, expires: Date.now() + 60_000 };
    const ticket = cache.ticket();
    await t.db.raw(`select pg_notify('kontakte_sessions', md5('some other session'))`);
    await cache.settled();
    cache.keep('raced', ticket, session);
    expect(cache.read('raced')).toBeUndefined();

    cache.keep('fresh', cache.ticket(), session);
    expect(cache.read('fresh')).toBeDefined();
    cache.keep('expired', cache.ticket(), { ...session, expires: Date.now() - 1 });
    expect(cache.read('expired')).toBeUndefined();
  });

  it('reads a session once for requests that come together', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db), user.email);
    const lock = await t.db.transaction();
    try {
      // The session table locked: every read of it waits, visibly, in pg_stat_activity.
      await lock.raw('lock table session in access exclusive mode');
      const responses = Promise.all(Array.from({ length: 5 }, () => agent.get('/contacts')));
      const waiting = async () =>
        Number(
          (
            await t.db.raw(
              `select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'select s.sess::text as sess, s.expire%'`,
            )
          ).rows[0].n,
        );
      let n = 0;
      for (let i = 0; i < 40 && n === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        n = await waiting();
      }
      // Time for the other four to start reads of their own, if they were going to.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await waiting()).toBe(1);
      await lock.commit();
      expect((await responses).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      if (!lock.isCompleted()) await lock.rollback();
    }
  });

  it('is off with SESSION_CACHE=false: every request reads the table', async () => {
    const user = await createUser(t.db);
    const { agent } = await loginAs(buildApp(t.db, { sessionCache: false }), user.email);
    expect((await agent.get('/contacts')).status).toBe(200);
    await unannounced(t.db, `delete from session where sess ->> 'userId' = ?`, [user.id]);
    expect((await agent.get('/contacts')).status).toBe(303);
  });
});

