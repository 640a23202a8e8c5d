import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { createApp } from './app';
import { startGroupExpiry } from './groups/service';
import { DEMO_LOGIN, demoLoginAvailable, startDatabase } from './db/start';
import { startQueue } from './jobs/queue';
import { runBulkJob } from './contacts/bulk-jobs';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Whether the app could listen where it is told to, asked before anything
 * starts (an embedded PostgreSQL, migrations): a port taken by another program
 * is the newcomer's most likely failure. What goes wrong in the moment between
 * this and the listen, the listen says (below). The error, or none.
 */
function probeListen(port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', resolve);
    probe.listen(port, host, () => probe.close(() => resolve(undefined)));
  });
}

function listenError(config: Config, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new Error(`Port ${config.port} auf ${config.host} ist schon belegt: beenden Sie das andere Programm dort oder wählen Sie einen anderen Port (PORT=…).`);
  if (code === 'EADDRNOTAVAIL') return new Error(`Die Adresse ${config.host} gibt es auf diesem Rechner nicht (HOST=…).`);
  return error instanceof Error ? error : new Error(String(error));
}

async function main(): Promise<void> {
  const started = Date.now();
  const config = readConfig();
  const logger = createLogger(config);
  const refused = await probeListen(config.port, config.host);
  if (refused) throw listenError(config, refused);
  const database = await startDatabase(config, logger);
  const jobs = await startQueue(database.url, logger, (jobId, attempt) => runBulkJob(database.db, jobId, logger, attempt));
  const app = createApp({ db: database.db, config, logger, jobs });
  const stopGroupExpiry = startGroupExpiry(database.db, logger);

  // Express 5 hands a failed listen (the port taken) to this callback: ignored, the app said
  // "Kontakte läuft auf …" and ran on without listening.
  let server: Server;
  try {
    server = await new Promise((resolve, reject) => {
      const s = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(s)));
    });
  } catch (error) {
    stopGroupExpiry();
    await jobs.stop();
    await database.close();
    throw listenError(config, error);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${port}${config.basePath}/`;
  logger.info({ url, ms: Date.now() - started, embedded: Boolean(database.embedded) }, 'Kontakte is running');
  console.log(`\n  Kontakte läuft auf ${url}`);
  if (await demoLoginAvailable(database.db)) {
    console.log(`  Demo-Anmeldung: ${DEMO_LOGIN.email} / ${DEMO_LOGIN.password}\n`);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing open requests');
    const force = setTimeout(() => {
      logger.warn('open requests did not finish within 10 s; closing anyway');
      server.closeAllConnections();
    }, 10_000);
    force.unref();
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    stopGroupExpiry();
    // Before the pool and the cluster, or pg-boss logs its connections being cut as errors.
    await jobs.stop();
    await database.close();
    logger.info('stopped');
    process.exit(process.exitCode ?? 0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A crash still stops the embedded PostgreSQL, or the next start would find its data folder locked.
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exitCode = 1;
    void shutdown('uncaughtException');
  });
}

main().catch((error) => {
  console.error('Kontakte konnte nicht starten:', error instanceof Error ? error.message : error);
  process.exit(1);
});
