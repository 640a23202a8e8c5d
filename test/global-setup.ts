import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded';
import { createDb, migrate } from '../src/db/knex';

declare global {
  var __kontakteEmbedded: EmbeddedServer | undefined;
}

/**
 * One PostgreSQL for the whole run: TEST_DATABASE_URL's server, or an embedded one
 * in a fresh temporary folder. A migrated template database is made once; every
 * test file then gets its own copy of it (test/db.ts).
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kontakte-test-'));
    globalThis.__kontakteEmbedded = await startEmbedded({ dir, fast: true });
    adminUrl = globalThis.__kontakteEmbedded.url('postgres');
  }
  const template = `kontakte_tpl_${process.pid}`;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`drop database if exists ${template}`);
  await client.query(`create database ${template}`);
  await client.end();

  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  const db = createDb(templateUrl.toString());
  await migrate(db);
  await db.destroy();

  process.env.KONTAKTE_TEST_ADMIN_URL = adminUrl;
  process.env.KONTAKTE_TEST_TEMPLATE = template;
}
