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
 * 1,000 directly assigned ones by id (170 ms vs 2 ms).
 * Not `plan_cache_mode = force_custom_plan`, although the list's page query
 * would gain from being prepared with it (0.1 to 0.5 ms of PostgreSQL's CPU a
 * request; with the default, a plan made once for any filter read every contact
 * for "ohne E-Mail", 12 times slower): foreign-key checks are prepared plans too,
 * and planned anew for every row they took 4 times as long in a bulk archive.
 */
export const connectionOptions = '-c random_page_cost=1.1';

/** A pool that survives a database restart: broken connections are dropped and replaced. */
export function createDb(connectionString: string, pool: Knex.PoolConfig = { min: 0, max: 10 }): Db {
  return knex({
    client: 'pg',
    connection: {
      connectionString,
      connectionTimeoutMillis: 5000,
      application_name: 'kontakte',
      options: connectionOptions,
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
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    // The texts are the app's own (the session store's few); bounded all the same.
    if (statementNames.size >= 1000) statementNames.clear();
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
 * Runs a statement every request runs (reading the session) as a prepared
 * statement of its connection: PostgreSQL parses and plans it once per
 * connection instead of each time, and its text is not sent again. Only for
 * statements whose best plan does not depend on their parameters (see
 * connectionOptions). A connection keeps at most PREPARED_PER_CONNECTION of
 * them; a statement whose tables changed under it (a migration while running)
 * is prepared afresh.
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
