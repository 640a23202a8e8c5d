import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import type { Logger } from 'pino';
import { closeWithDb, connectionStringOf, preparedQuery, type Db } from '../db/knex';
import type { Config } from '../config';
import { currentUserColumns, type CurrentUser } from '../users/queries';
import { SessionCache, type CachedSession } from './session-cache';

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
function sessionStore(pool: ReturnType<typeof pgPoolOf>, cache: SessionCache | undefined) {
  const PgStore = connectPgSimple(session);
  const columns = currentUserColumns.map((column) => `u.${column}`).join(', ');
  // The session as its stored text: it is kept and handed out as JSON, never needed as pg's parsed object.
  const read = `select s.sess::text as sess, s.expire, ${columns} from "session" s
    left join users u on u.id = case when s.sess->>'userId' ~ '^[0-9]{1,18}$' then (s.sess->>'userId')::bigint end and u.active
    where s.sid = $1 and s.expire >= to_timestamp($2)`;
  const loaded = new WeakMap<object, CurrentUser | null>();
  type Found = CachedSession | null | 'corrupt';
  /**
   * Reads under way, one per session: requests of a session that arrive together (a page
   * and the htmx loads it starts, or all that came in while the cache had just forgotten
   * it) share one, rather than each asking PostgreSQL the same - and, under load, each
   * needing a connection of the pool at the same moment.
   */
  const reading = new Map<string, Promise<Found>>();

  async function readFromTable(sid: string): Promise<Found> {
    const ticket = cache?.ticket();
    const {
      rows: [row],
    } = await pool.query(read, [sid, Math.ceil(Date.now() / 1000)]);
    if (!row) return null;
    const { sess: json, expire, ...user } = row as { sess: string; expire: Date; id: string | null } & Omit<CurrentUser, 'id'>;
    try {
      // Checked here, once: what is kept must parse for every request.
      JSON.parse(json);
    } catch {
      return 'corrupt';
    }
    const found = { json, employee: user.id === null ? null : ({ ...user, id: String(user.id) } as CurrentUser), expires: expire.getTime() };
    cache?.keep(sid, ticket, found);
    return found;
  }

  return class KontakteStore extends PgStore {
    override get(sid: string, done: (error: unknown, sess?: session.SessionData | null) => void): void {
      const cached = cache?.read(sid);
      if (cached) {
        this.hand(cached, done);
        return;
      }
      let pending = reading.get(sid);
      if (!pending) {
        const started = readFromTable(sid).finally(() => {
          if (reading.get(sid) === started) reading.delete(sid);
        });
        reading.set(sid, started);
        pending = started;
      }
      pending.then(
        (found) => {
          if (found === 'corrupt') return this.destroy(sid, (error) => done(error, null));
          if (!found) return done(null, null);
          this.hand(found, done);
        },
        (error: unknown) => done(error),
      );
    }

    /** Each request gets a session object of its own (express-session changes it), with the employee beside it. */
    private hand(found: CachedSession, done: (error: unknown, sess?: session.SessionData | null) => void): void {
      const data = JSON.parse(found.json) as session.SessionData;
      loaded.set(data, found.employee);
      queueMicrotask(() => done(null, data));
    }

    override set(sid: string, data: session.SessionData, done?: (error?: unknown) => void): void {
      cache?.forget(sid);
      reading.delete(sid);
      super.set(sid, data, done);
    }

    override destroy(sid: string, done?: (error?: unknown) => void): void {
      cache?.forget(sid);
      reading.delete(sid);
      super.destroy(sid, done);
    }

    override createSession(req: Request, data: session.SessionData): session.Session & Partial<session.SessionData> {
      const employee = loaded.get(data);
      if (employee !== undefined) (req as SessionRequest)[employeeOfSession] = employee;
      return super.createSession(req, data);
    }
  };
}

const sessionCaches = new WeakMap<Db, SessionCache>();

/** One cache per database handle, listening from first use until the handle is destroyed. */
function sessionCacheFor(db: Db, logger?: Logger): SessionCache {
  let cache = sessionCaches.get(db);
  if (!cache) {
    const created = new SessionCache(connectionStringOf(db), logger);
    sessionCaches.set(db, created);
    closeWithDb(db, () => created.stop());
    void created.start();
    cache = created;
  }
  return cache;
}

/** The handle's session cache, if a session middleware made one: tests wait on it after changing sessions in SQL. */
export function sessionCacheOf(db: Db): SessionCache | undefined {
  return sessionCaches.get(db);
}

export function sessionMiddleware(db: Db, config: Config, logger?: Logger): RequestHandler {
  const pool = pgPoolOf(db);
  const Store = sessionStore(pool, config.sessionCache ? sessionCacheFor(db, logger) : undefined);
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
    // The cookie is renewed whenever the session is saved, which activity does once a
    // minute (lastActiveAt), so it expires with the idle logout; not signed anew and
    // sent again on every response.
    rolling: false,
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
