import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import { preparedQuery, type Db } from '../db/knex';
import type { Config } from '../config';
import { currentUserColumns, type CurrentUser } from '../users/queries';

export const IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'kontakte.sid';

/**
 * A store on the app's own pool, so sessions share every instance's database and
 * go through the same outage handling as everything else. Every request reads
 * its session: the store's statements are prepared once per connection
 * (preparedQuery).
 */
function pgPoolOf(db: Db) {
  return {
    async query(text: string, params: unknown[]) {
      return { rows: await preparedQuery(db, text, params) };
    },
  };
}

/** Where the store leaves the session's employee for currentUser (src/web/auth.ts): see sessionEmployee. */
const employeeOfSession = Symbol('employee of the session');

type SessionRequest = Request & { [employeeOfSession]?: CurrentUser | null };

/**
 * The employee the session's own query brought along (active, or null when the
 * session names none that is active), or undefined when the session was not
 * read by the store in this request (new, regenerated): then ask the database.
 */
export function sessionEmployee(req: Request): CurrentUser | null | undefined {
  const { session: current, [employeeOfSession]: employee } = req as SessionRequest;
  return employee !== undefined && (employee === null || String(employee.id) === String(current?.userId)) ? employee : undefined;
}

/**
 * Every request read its session, then its employee: two round trips and two
 * statements for PostgreSQL to parse. This store reads both in one (a left
 * join, so a session whose employee was deactivated or never existed still
 * loads, with no employee), and hands the employee to the request when
 * express-session builds the session from what it read. The employee is never
 * part of the stored session.
 */
function sessionStore(pool: ReturnType<typeof pgPoolOf>) {
  const PgStore = connectPgSimple(session);
  const columns = currentUserColumns.map((column) => `u.${column}`).join(', ');
  const read = `select s.sess, ${columns} from "session" s
    left join users u on u.id = case when s.sess->>'userId' ~ '^[0-9]{1,18}$' then (s.sess->>'userId')::bigint end and u.active
    where s.sid = $1 and s.expire >= to_timestamp($2)`;
  const loaded = new WeakMap<object, CurrentUser | null>();

  return class KontakteStore extends PgStore {
    override get(sid: string, done: (error: unknown, sess?: session.SessionData | null) => void): void {
      pool.query(read, [sid, Math.ceil(Date.now() / 1000)]).then(
        ({ rows: [row] }) => {
          if (!row) return done(null, null);
          const { sess, ...user } = row as { sess: session.SessionData | string; id: string | null } & Omit<CurrentUser, 'id'>;
          let data: session.SessionData;
          try {
            data = typeof sess === 'string' ? JSON.parse(sess) : sess;
          } catch {
            return this.destroy(sid, (error) => done(error, null));
          }
          loaded.set(data, user.id === null ? null : ({ ...user, id: String(user.id) } as CurrentUser));
          done(null, data);
        },
        (error: unknown) => done(error),
      );
    }

    override createSession(req: Request, data: session.SessionData): session.Session & Partial<session.SessionData> {
      const employee = loaded.get(data);
      if (employee !== undefined) (req as SessionRequest)[employeeOfSession] = employee;
      return super.createSession(req, data);
    }
  };
}

export function sessionMiddleware(db: Db, config: Config): RequestHandler {
  const pool = pgPoolOf(db);
  const Store = sessionStore(pool);
  const store = new Store({
    pool: pool as never,
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
