import type { Server } from 'node:http';
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

async function main(): Promise<void> {
  const started = Date.now();
  const config = readConfig();
  const logger = createLogger(config);
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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`Port ${config.port} auf ${config.host} ist schon belegt: beenden Sie das andere Programm dort oder wählen Sie einen anderen Port (PORT=…).`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`Die Adresse ${config.host} gibt es auf diesem Rechner nicht (HOST=…).`);
    throw error;
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
