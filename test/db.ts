import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDb, type Db } from '../src/db/knex';

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: process.env.KONTAKTE_TEST_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function databaseUrl(name: string): string {
  const url = new URL(process.env.KONTAKTE_TEST_ADMIN_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A database of its own for one test file, copied from the migrated template. */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const name = `kontakte_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name} template ${process.env.KONTAKTE_TEST_TEMPLATE}`));
  return { name, url: databaseUrl(name) };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists ${name} with (force)`));
}

/**
 * Gives the file its own database and empties every table before each test,
 * so tests never see each other's rows.
 */
export function useTestDatabase(): { readonly db: Db; readonly url: string } {
  let db: Db | undefined;
  let name = '';
  let url = '';
  beforeAll(async () => {
    ({ name, url } = await createTestDatabase());
    db = createDb(url);
  });
  beforeEach(async () => {
    const { rows } = await db!.raw(
      `select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_migrations%'`,
    );
    if (rows.length) {
      await db!.raw(`truncate ${rows.map((r: { tablename: string }) => `"${r.tablename}"`).join(', ')} restart identity cascade`);
    }
  });
  afterAll(async () => {
    await db?.destroy();
    if (name) await dropTestDatabase(name);
  });
  return {
    get db() {
      return db!;
    },
    get url() {
      return url;
    },
  };
}
