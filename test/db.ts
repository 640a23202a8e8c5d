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
 * How a test file's database is emptied before each test. TRUNCATE gives every
 * table and index a new file (about 50 ms for the whole schema, before each of
 * some 350 tests); deleting the few rows a test leaves and restarting the
 * sequences takes a fifth of that. Deleting in any order needs the foreign keys
 * switched off for the statement (session_replication_role, a superuser's
 * setting): where the test server's user may not, TRUNCATE it is.
 */
async function resetStatements(db: Db): Promise<{ fast: string; truncate: string }> {
  const { rows: tables } = await db.raw(
    `select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_migrations%' order by tablename`,
  );
  const { rows: sequences } = await db.raw(`select sequencename from pg_sequences where schemaname = 'public' order by sequencename`);
  const names = tables.map((r: { tablename: string }) => `"${r.tablename}"`);
  return {
    fast: [
      'set session_replication_role = replica',
      ...names.map((name: string) => `delete from ${name}`),
      ...sequences.map((r: { sequencename: string }) => `alter sequence "${r.sequencename}" restart`),
      'reset session_replication_role',
    ].join(';\n'),
    truncate: names.length ? `truncate ${names.join(', ')} restart identity cascade` : 'select 1',
  };
}

/**
 * Gives the file its own database and empties every table before each test,
 * so tests never see each other's rows.
 */
export function useTestDatabase(): { readonly db: Db; readonly url: string } {
  let db: Db | undefined;
  let name = '';
  let url = '';
  let reset: { fast?: string; truncate: string } | undefined;
  beforeAll(async () => {
    ({ name, url } = await createTestDatabase());
    db = createDb(url);
  });
  beforeEach(async () => {
    // Built on first use: a file may add tables of its own in beforeAll.
    reset ??= await resetStatements(db!);
    if (reset.fast) {
      try {
        // One statement string: one connection, so the setting is on for exactly these deletes.
        await db!.raw(reset.fast);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '42501') throw error;
        reset.fast = undefined;
      }
    }
    await db!.raw(reset.truncate);
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
