import PgBoss from 'pg-boss';
import type { Logger } from 'pino';

/** What the web layer needs from the job queue: hand over a bulk job by id. */
export interface JobQueue {
  enqueueBulk(jobId: string): Promise<void>;
}

export const BULK_QUEUE = 'bulk-action';

/** How long a started job may stay silent before another worker takes it over. */
export const JOB_EXPIRY_S = 300;

/**
 * pg-boss keeps the queue in PostgreSQL (schema `pgboss`): jobs survive a
 * restart, and whichever app instance is free picks them up.
 */
export async function startQueue(
  connectionString: string,
  logger: Logger,
  work: (jobId: string, attempt: { lastAttempt: boolean }) => Promise<void>,
): Promise<JobQueue & { stop: () => Promise<void> }> {
  const boss = new PgBoss({ connectionString, schema: 'pgboss', application_name: 'kontakte-jobs', max: 4 });
  let stopping = false;
  // While shutting down, pg-boss's idle connections end with the database; that is no error worth logging.
  boss.on('error', (error) => {
    if (!stopping) logger.error({ err: error }, 'job queue error');
  });
  await boss.start();
  await boss.createQueue(BULK_QUEUE, { name: BULK_QUEUE, retryLimit: 5, retryDelay: 5, expireInSeconds: JOB_EXPIRY_S });
  await boss.work<{ jobId: string }>(BULK_QUEUE, { pollingIntervalSeconds: 1, includeMetadata: true }, async ([job]) => {
    // The last attempt says so: a job failing then is ended for good, not left waiting for a retry that never comes.
    await work(job.data.jobId, { lastAttempt: job.retryCount >= job.retryLimit });
  });
  return {
    async enqueueBulk(jobId) {
      // A worker that died mid-job (a crash, kill -9) held it as active until it expired: an hour, with the
      // job half applied. A job's chunks take milliseconds each and a rerun continues where it stopped
      // (runBulkJob), so five minutes are ample. Per job: the queue's own setting stays as first created.
      await boss.send(BULK_QUEUE, { jobId }, { expireInSeconds: JOB_EXPIRY_S });
    },
    async stop() {
      stopping = true;
      await boss.stop({ graceful: true, timeout: 10_000, wait: true });
    },
  };
}
