import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type { Db } from '../db/knex';
import type { Config } from '../config';

export const IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'kontakte.sid';

/**
 * A store on the app's own pool, so sessions share every instance's database and
 * go through the same outage handling as everything else. The store's few
 * statements run as named prepared statements: every request reads its session,
 * and PostgreSQL then parses and plans that query once per connection, not each time.
 */
function pgPoolOf(db: Db) {
  // Named after the text itself: connections are shared, and a name must always mean the same statement.
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name) names.set(text, (name = `kontakte_session_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`));
    return name;
  };
  return {
    async query(text: string, params: unknown[]) {
      const connection = await db.client.acquireConnection();
      try {
        return await connection.query({ name: nameOf(text), text, values: params });
      } finally {
        await db.client.releaseConnection(connection);
      }
    },
  };
}

export function sessionMiddleware(db: Db, config: Config): RequestHandler {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool: pgPoolOf(db) as never,
    tableName: 'session',
    createTableIfMissing: false,
    // No UPDATE on every request: the idle logout is enforced from the session's lastActiveAt
    // (src/web/auth.ts), which saves the session - and so renews its expiry - at most once a minute.
    disableTouch: true,
    pruneSessionInterval: config.env === 'test' ? false : 15 * 60,
    ttl: IDLE_TIMEOUT_MS / 1000,
  });
  return session({
    name: SESSION_COOKIE,
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: undefined,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: 'auto',
      maxAge: IDLE_TIMEOUT_MS,
      path: config.basePath || '/',
    },
  });
}
