import path from 'node:path';
import knex, { Knex } from 'knex';

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
