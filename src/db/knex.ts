import { createHash } from 'node:crypto';
import path from 'node:path';
import knex, { Knex } from 'knex';
import type { ClientBase } from 'pg';

export type Db = Knex;

const root = path.resolve(__dirname, '..', '..');

export const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(root, 'migrations'),
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
};

export const seedConfig: Knex.SeederConfig = {
  directory: path.join(root, 'seeds'),
  loadExtensions: ['.ts'],
};

/**
 * Planner settings of the app's connections. The contacts fit in memory (or on
 * SSD): with PostgreSQL's default random_page_cost of 4, the planner prefers
 * walking all 80,000 active contacts in name order over fetching an employee's
 * 1,000 directly assigned ones by id (170 ms vs 2 ms). No JIT compilation: the
 * app's statements are short, and a server built with it (Debian's
 * PostgreSQL is) compiled the start page's count of an employee's contacts
 * per status anew for every view, 12 ms of a 40 ms page. Dates as text in
 * ISO form whatever the server's DateStyle: the list's cursors for the
 * creation sort carry a timestamp as PostgreSQL writes it (a server set to
 * German wrote "06.12.2026 14:53:09", which no cursor check accepts).
 */
export const connectionOptions = '-c random_page_cost=1.1 -c jit=off -c DateStyle=ISO,MDY';

/**
 * How the list reads' connections (listReads) plan their prepared statements.
 * - `kept`: PostgreSQL's own way (plan_cache_mode auto): after five calls a
 *   statement keeps one plan if that plan costs no more than planning each
 *   call. For the list by status and flags (every sort and page) it does, and
 *   planning the list's statement of some 2 KB was most of what PostgreSQL
 *   spent on a page: page 1 cost it 1.2 ms of CPU planned per call, 0.4 ms
 *   with its plan kept, and the app answered 40% more requests a second.
 * - `perCall` (force_custom_plan): every other filter. Their best plan depends
 *   on the value: one plan for any search word walks the whole list in name
 *   order for a common word ("müller": 150 instead of 5 ms), likewise for a
 *   city, a postal code, a group or a competence with few contacts.
 * Which is which: listPlanning (src/contacts/queries.ts).
 * Per call is not for the main pool: foreign-key checks are prepared plans
 * too, and planned anew for every row they made a bulk archive of 10,000 take
 * 688 instead of 464 ms.
 */
export type ListPlanning = 'kept' | 'perCall';

export const listReadOptions: Record<ListPlanning, string> = {
  kept: connectionOptions,
  perCall: `${connectionOptions} -c plan_cache_mode=force_custom_plan`,
};

/** Connections of each list reads' pool beside the main pool's 10 (opened when used): a list request holds one for one statement. */
export const LIST_READ_CONNECTIONS = 4;

const listReadPools = new WeakMap<Db, Record<ListPlanning, Db>>();

function connect(connectionString: string, pool: Knex.PoolConfig, options: string, applicationName: string): Db {
  return knex({
    client: 'pg',
    connection: {
      connectionString,
      connectionTimeoutMillis: 5000,
      application_name: applicationName,
      options,
    },
    pool: { ...pool, acquireTimeoutMillis: 10000 },
    migrations: migrationConfig,
    seeds: seedConfig,
    // Connection failures reach the caller as errors (and become 503s); knex need not print them too.
    log: {
      error: () => undefined,
      debug: () => undefined,
      warn: (message: string) => {
        if (!message.startsWith('Acquire connection error')) console.warn(message);
      },
    },
  });
}

const closers = new WeakMap<Db, (() => Promise<void>)[]>();

/**
 * Something of the handle's own (its list reads' pool, a listening connection)
 * that closes with it: last added, first closed, and all before the main pool.
 */
export function closeWithDb(db: Db, close: () => Promise<void>): void {
  closers.set(db, [close, ...(closers.get(db) ?? [])]);
}

/**
 * A pool that survives a database restart: broken connections are dropped and
 * replaced. Beside it, two small pools for the list's prepared reads
 * (listReads, one per ListPlanning), opened on first use and closed with it.
 */
export function createDb(connectionString: string, pool: Knex.PoolConfig = { min: 0, max: 10 }): Db {
  const db = connect(connectionString, pool, connectionOptions, 'kontakte');
  // Named apart in pg_stat_activity.
  const reads = {
    kept: connect(connectionString, { min: 0, max: LIST_READ_CONNECTIONS }, listReadOptions.kept, 'kontakte-list'),
    perCall: connect(connectionString, { min: 0, max: LIST_READ_CONNECTIONS }, listReadOptions.perCall, 'kontakte-list-per-call'),
  };
  listReadPools.set(db, reads);
  closeWithDb(db, async () => {
    await Promise.all([reads.kept.destroy(), reads.perCall.destroy()]);
  });
  const destroyMain = db.destroy.bind(db);
  Object.defineProperty(db, 'destroy', {
    configurable: true,
    value: async (...args: Parameters<Db['destroy']>) => {
      for (const close of closers.get(db) ?? []) await close();
      closers.delete(db);
      return destroyMain(...args);
    },
  });
  return db;
}

/** The connection string a handle was made with, for a connection of its own beside the pool. */
export function connectionStringOf(db: Db): string {
  return (db.client.config.connection as { connectionString: string }).connectionString;
}

export async function migrate(db: Db): Promise<void> {
  await db.migrate.latest(migrationConfig);
}

/** Row counts come back from pg as strings (bigint); this is the one place that converts them. */
export function toCount(value: unknown): number {
  return Number(value ?? 0);
}

/** How many prepared statements one connection keeps before it forgets them all and starts again. */
export const PREPARED_PER_CONNECTION = 40;

const statementNames = new Map<string, string>();

/** A statement's name is made from its text: connections are shared, and a name must always mean the same statement. */
export function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    // The texts are the app's own (the session store's, the list's filter combinations); bounded all the same.
    if (statementNames.size >= 2000) statementNames.clear();
    statementNames.set(text, (name = `kontakte_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`));
  }
  return name;
}

type PgConnection = ClientBase & { connection: { parsedStatements: Record<string, string> } };

async function forgetPrepared(connection: PgConnection): Promise<void> {
  await connection.query('deallocate all');
  connection.connection.parsedStatements = {};
}

/**
 * Runs a statement every request runs (reading the session, a page of the
 * list) as a prepared statement of its connection: PostgreSQL parses it once
 * per connection instead of each time, and its text is not sent again. On the
 * main pool the plan is kept too: only for statements whose best plan does not
 * depend on their parameters; others go through listReads. A connection keeps
 * at most PREPARED_PER_CONNECTION of them; a statement whose tables changed
 * under it (a migration while running) is prepared afresh.
 */
export async function preparedQuery<Row>(db: Db, text: string, values: readonly unknown[]): Promise<Row[]> {
  const name = statementName(text);
  const connection = (await db.client.acquireConnection()) as PgConnection;
  try {
    const prepared = connection.connection.parsedStatements;
    if (!(name in prepared) && Object.keys(prepared).length >= PREPARED_PER_CONNECTION) await forgetPrepared(connection);
    const run = async () => (await connection.query({ name, text, values: [...values] })).rows as Row[];
    try {
      return await run();
    } catch (error) {
      // "cached plan must not change result type": a column changed under a prepared statement.
      if ((error as { code?: string }).code !== '0A000') throw error;
      await forgetPrepared(connection);
      return await run();
    }
  } finally {
    await db.client.releaseConnection(connection);
  }
}

/**
 * A select of the list (a page with its total), prepared on the list reads'
 * pool that plans as `planning` says: PostgreSQL skips parsing a statement of
 * some 2 KB, 0.1 to 0.5 ms of its CPU a request at 100,000 contacts, and with
 * `kept` planning it too. Announced as knex's own queries are, to the main
 * handle's listeners, with the planning (the benchmark times it the same way).
 * Inside a transaction, or on a handle not made by createDb, knex runs it as usual.
 */
export async function listReads<Row>(db: Db, query: Knex.QueryBuilder, planning: ListPlanning = 'perCall'): Promise<Row[]> {
  const reads = listReadPools.get(db);
  if (!reads) return (await query) as Row[];
  return preparedSelect<Row>(db, query, { pool: reads[planning], planning });
}

/**
 * A knex select run by preparedQuery (on `pool`, the handle's own unless
 * given), announced to the handle's query listeners as knex's own queries are,
 * with `note` added to what they hear.
 */
export async function preparedSelect<Row>(db: Db, query: Knex.QueryBuilder, { pool = db, ...note }: { pool?: Db } & Record<string, unknown> = {}): Promise<Row[]> {
  const { sql, bindings } = query.toSQL().toNative();
  db.client.emit('query', { sql, bindings, method: 'select', ...note });
  return preparedQuery<Row>(pool, sql, bindings);
}
