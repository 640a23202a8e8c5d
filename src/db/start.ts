import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { createDb, migrate, type Db } from './knex';
import { ensureDatabase, reachableDataDir, startEmbedded, type EmbeddedServer } from './embedded';
import { ensureAdmin } from '../users/service';

export interface Database {
  db: Db;
  url: string;
  embedded?: EmbeddedServer;
  demoSeeded: boolean;
  close: () => Promise<void>;
}

export const DEMO_LOGIN = { email: 'admin@kontakte.example', password: 'kontakte-demo' };

const projectRoot = path.resolve(__dirname, '..', '..');

/**
 * DATABASE_URL when given; otherwise an embedded PostgreSQL whose data lives in
 * `.data/postgres` of the project (or EMBEDDED_PG_DIR). Then migrations, the
 * admin from ADMIN_EMAIL, and demo data on an empty database.
 */
export async function startDatabase(config: Config, logger: Logger): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const dir = reachableDataDir(config.embeddedPgDir ?? path.join(projectRoot, '.data', 'postgres'), logger);
    embedded = await startEmbedded({ dir, logger });
    await ensureDatabase(embedded.url('postgres'), 'kontakte');
    url = embedded.url('kontakte');
  }
  const db = createDb(url);
  try {
    await migrate(db);
    const demoSeeded = config.demoData && !(await hasEmployees(db));
    if (config.admin) await ensureAdmin(db, config.admin, logger);
    if (demoSeeded) {
      logger.info('empty database: loading demo data');
      await db.seed.run();
    }
    return {
      db,
      url,
      embedded,
      demoSeeded,
      async close() {
        await db.destroy();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await db.destroy();
    await embedded?.stop();
    throw error;
  }
}

async function hasEmployees(db: Db): Promise<boolean> {
  return Boolean(await db('users').select('id').first());
}

/** The demo login is shown while its account exists and is active. */
export async function demoLoginAvailable(db: Db): Promise<boolean> {
  return Boolean(await db('users').select('id').where({ email: DEMO_LOGIN.email, active: true }).first());
}
