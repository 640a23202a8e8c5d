import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import { HttpError, Invalid, NotFound } from '../web/errors';
import type { MessageKey } from '../i18n';
import { AssignmentInput } from '../assignment/schema';
import { bulkArchive, bulkAssign, bulkDelete, confirmedTarget, targetIds, type BulkAction, type BulkResult, type Target } from './bulk';
import { notifyResponsible } from '../notifications/queries';
import type { Status } from './status';

/** "All matching" selections above this size run in the background. */
export const BACKGROUND_THRESHOLD = 5000;
const CHUNK = 2000;

export interface BulkJob {
  id: string;
  action: BulkAction;
  state: 'queued' | 'running' | 'done' | 'failed';
  total: number;
  done: number;
  /** `refused`: why the job stopped for good (an employee deactivated meanwhile, say); what was done stays done. */
  result: { affected?: number; unchanged?: number; skipped?: Partial<Record<Status, number>>; auditId?: string; refused?: MessageKey };
}

/**
 * Fixes the selected ids and records the job, in one transaction; the queue
 * then only carries its id. "All matching" only as the set confirmed
 * (confirmedTarget), else SelectionChanged and no job.
 */
export async function createBulkJob(db: Db, action: BulkAction, params: Record<string, unknown>, target: Target, actorId: string, confirmed: string | undefined): Promise<string> {
  return db.transaction(async (trx) => {
    const [job] = await trx('bulk_jobs').insert({ actor_id: actorId, action, params: JSON.stringify(params), total: 0 }).returning('id');
    const fixed = await confirmedTarget(trx, target, confirmed);
    const { rowCount } = await trx.raw(`insert into bulk_job_items (job_id, contact_id) select ?, id from (?) as t`, [job.id, targetIds(trx, fixed)]);
    await trx('bulk_jobs').where({ id: job.id }).update({ total: rowCount });
    return String(job.id);
  });
}

/** A job the queue did not take (PostgreSQL gone for a moment): failed, nothing done, not left "queued" for ever. */
export async function markNotQueued(db: Db, jobId: string): Promise<void> {
  await db('bulk_jobs').where({ id: jobId }).update({ state: 'failed', error: 'could not be queued' });
}

/** Applies one chunk; the notifications wait for the end of the job (see runBulkJob). */
async function applyChunk(
  trx: Knex.Transaction,
  job: { action: BulkAction; params: Record<string, unknown>; actor_id: string; result: BulkJob['result'] },
  ids: string[],
): Promise<BulkResult & { auditId?: string; eventIds?: string[] }> {
  const target: Target = { kind: 'ids', ids };
  switch (job.action) {
    case 'archive':
      return bulkArchive(trx, target, job.actor_id, { notify: false });
    case 'assign':
      return bulkAssign(trx, target, AssignmentInput.parse(job.params), job.actor_id, { notify: false });
    case 'delete':
      return bulkDelete(trx, target, job.actor_id, job.result.auditId);
    default:
      throw new Error(`bulk action ${job.action} does not run in the background`);
  }
}

/**
 * Works off a job chunk by chunk. Each chunk is applied and ticked off in the
 * same transaction, so running it again after a crash continues where it
 * stopped and never applies a chunk twice. Each item keeps the history event
 * written for its contact; the last transaction notifies about all of them at
 * once, so a job is one action to the employees told about it, as if it had
 * run in one transaction.
 */
export async function runBulkJob(db: Db, jobId: string, logger?: Logger, { lastAttempt = false }: { lastAttempt?: boolean } = {}): Promise<void> {
  await db('bulk_jobs').where({ id: jobId }).whereIn('state', ['queued', 'failed']).update({ state: 'running', error: null });
  try {
    while (true) {
      const finished = await db.transaction(async (trx) => {
        const job = await trx('bulk_jobs').select('action', 'params', 'actor_id', 'result', 'state').where({ id: jobId }).forUpdate().first();
        // Run again when it is done already (a retry after the last commit): nothing to apply, nobody to tell twice.
        if (!job || job.state === 'done') return true;
        const pending = await trx('bulk_job_items').select('contact_id').where({ job_id: jobId, done: false }).orderBy('contact_id').limit(CHUNK);
        if (!pending.length) {
          const events = await trx('bulk_job_items').where({ job_id: jobId }).whereNotNull('event_id').pluck('event_id');
          await notifyResponsible(trx, events, { reassigned: job.action === 'assign' });
          await trx('bulk_jobs').where({ id: jobId }).update({ state: 'done', finished_at: trx.fn.now() });
          return true;
        }
        const ids = pending.map((p) => String(p.contact_id));
        const outcome = await applyChunk(trx, { ...job, actor_id: String(job.actor_id) }, ids);
        const skipped = { ...(job.result.skipped ?? {}) };
        for (const s of outcome.skipped) skipped[s.status] = (skipped[s.status] ?? 0) + s.count;
        const result = {
          ...job.result,
          affected: (job.result.affected ?? 0) + outcome.affected,
          unchanged: (job.result.unchanged ?? 0) + (outcome.unchanged ?? 0),
          skipped,
          auditId: outcome.auditId ?? job.result.auditId,
        };
        await trx.raw(
          `with written as (select id, contact_id from contact_events where id = any(?::bigint[]))
           update bulk_job_items i set done = true, event_id = w.id
             from unnest(?::bigint[]) as t(contact_id) left join written w using (contact_id)
            where i.job_id = ? and i.contact_id = t.contact_id`,
          [outcome.eventIds ?? [], ids, jobId],
        );
        await trx('bulk_jobs').where({ id: jobId }).update({ done: trx.raw('done + ?', [ids.length]), result: JSON.stringify(result) });
        return false;
      });
      if (finished) return;
    }
  } catch (error) {
    // A refusal (an employee or group gone meanwhile) would be refused the same way by every retry; after
    // the queue's last attempt nothing comes any more. Either way the job ends here, saying why, and those
    // responsible hear of what it did until then.
    const refusal = error instanceof HttpError;
    if (refusal || lastAttempt) {
      const refused: MessageKey = error instanceof Invalid ? (Object.values(error.fieldErrors)[0] ?? error.messageKey) : refusal ? error.messageKey : 'bulk.failedFinally';
      if (refusal) logger?.warn({ jobId, refused }, 'bulk job refused; not retried');
      else logger?.error({ err: error, jobId }, 'bulk job failed for the last time');
      await endJob(db, jobId, refused, String((error as Error).message ?? error));
      if (refusal) return;
      throw error;
    }
    logger?.error({ err: error, jobId }, 'bulk job failed; the queue will retry it');
    await db('bulk_jobs').where({ id: jobId }).update({ state: 'failed', error: String((error as Error).message ?? error) });
    throw error;
  }
}

/** Ends a job that will not finish: the chunks done stay done, and their events are told as a finished job's are. */
async function endJob(db: Db, jobId: string, refused: MessageKey, error: string): Promise<void> {
  await db.transaction(async (trx) => {
    const events = await trx('bulk_job_items').where({ job_id: jobId }).whereNotNull('event_id').pluck('event_id');
    const { action } = await trx('bulk_jobs').select('action').where({ id: jobId }).first();
    await notifyResponsible(trx, events, { reassigned: action === 'assign' });
    await trx('bulk_jobs')
      .where({ id: jobId })
      .update({ state: 'failed', error, result: trx.raw(`result || jsonb_build_object('refused', ?::text)`, [refused]), finished_at: trx.fn.now() });
  });
}

export async function findBulkJob(db: Db, id: string, actorId: string): Promise<BulkJob> {
  const row = await db('bulk_jobs').select('id', 'action', 'state', 'total', 'done', 'result').where({ id, actor_id: actorId }).first();
  if (!row) throw new NotFound();
  return { ...row, id: String(row.id) };
}
