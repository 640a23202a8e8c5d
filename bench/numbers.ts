import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, migrate, type Db } from '../src/db/knex';
import { ensureDatabase, startEmbedded } from '../src/db/embedded';
import { assignGeneratedNumber, withNumberTransaction } from '../src/numbers/service';
import { findDefaultCircle } from '../src/numbers/queries';

export interface NumbersBenchOptions {
  connections?: number;
  durationMs?: number;
}

export interface NumbersBenchResult {
  /** Committed saves with a generated number, per second: the figure the budget (≥ 300/s) is about. */
  allocationsPerSecond: number;
  allocations: number;
  connections: number;
  durationMs: number;
  /** Latency of one save (insert contact + "Nummer erzeugen" + commit), waiting for the circle included. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  retries: number;
  failures: number;
  /** Every number handed out was distinct (checked in the database afterwards). */
  distinct: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

/**
 * `connections` clerks saving new contacts with "Nummer erzeugen" as fast as they
 * can for `durationMs`, through the real service (one transaction per save, the
 * circle locked until commit). Needs a database it may migrate; it leaves it as it
 * found it: its contacts are deleted, a circle it had to create is removed, and a
 * default circle it borrowed gets its next value back (unless numbers were skipped
 * or someone else allocated from it meanwhile: then that circle simply moved on).
 */
export async function benchNumbers(dbUrl: string, { connections = 50, durationMs = 3000 }: NumbersBenchOptions = {}): Promise<NumbersBenchResult> {
  const db = createDb(dbUrl, { min: 0, max: connections + 2 });
  const tag = `Benchmark ${randomBytes(4).toString('hex')}`;
  try {
    await migrate(db);
    const borrowed = await findDefaultCircle(db, 'contacts');
    const circleId =
      borrowed?.id ??
      String(
        (
          await db('number_circles')
            .insert({ name: tag, prefix: 'B-', digits: 7, next_value: 1, target: 'contacts', is_default: true })
            .returning('id')
        )[0].id,
      );
    try {
      return await run(db, tag, connections, durationMs);
    } finally {
      await cleanUp(db, tag, circleId, borrowed?.next_value);
    }
  } finally {
    await db.destroy();
  }
}

async function run(db: Db, tag: string, connections: number, durationMs: number): Promise<NumbersBenchResult> {
  const latencies: number[] = [];
  let retries = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationMs;

  const clerk = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await withNumberTransaction(
          db,
          async (trx) => {
            const [row] = await trx('contacts').insert({ company: tag }).returning('id');
            await assignGeneratedNumber(trx, String(row.id), null);
          },
          { onRetry: () => (retries += 1) },
        );
        latencies.push(performance.now() - t0);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, clerk));
  const elapsed = performance.now() - started;

  const row = await db('contacts')
    .where({ company: tag })
    .select(db.raw('count(*)::int as n'), db.raw('count(distinct lower(customer_number))::int as distinct'))
    .first();
  latencies.sort((a, b) => a - b);
  return {
    allocationsPerSecond: Math.round((latencies.length / elapsed) * 1000),
    allocations: latencies.length,
    connections,
    durationMs: Math.round(elapsed),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    retries,
    failures,
    distinct: row.n === latencies.length && row.distinct === row.n,
  };
}

async function cleanUp(db: Db, tag: string, circleId: string, borrowedFrom: number | undefined): Promise<void> {
  await db.transaction(async (trx) => {
    const { n } = (await trx('contacts').where({ company: tag }).count({ n: '*' }).first()) as { n: string };
    await trx('contacts').where({ company: tag }).delete();
    if (borrowedFrom === undefined) {
      await trx('number_circles').where({ id: circleId }).delete();
      return;
    }
    // Give the borrowed circle its numbers back only if nobody else allocated from it meanwhile.
    const circle = await trx('number_circles').select('next_value').where({ id: circleId }).forUpdate().first();
    if (circle && Number(circle.next_value) === borrowedFrom + Number(n)) {
      await trx('number_circles')
        .where({ id: circleId })
        .update({ next_value: borrowedFrom, issued_count: trx.raw('issued_count - ?', [Number(n)]) });
    }
  });
}

/**
 * `tsx bench/numbers.ts`: against BENCH_DATABASE_URL, or a throwaway embedded
 * PostgreSQL — durable like production (every commit flushed, and the circle stays
 * locked until then) unless BENCH_PG_FAST=1, as in bench/run.ts.
 */
async function main(): Promise<void> {
  let url = process.env.BENCH_DATABASE_URL;
  let stop: () => Promise<void> = async () => {};
  if (!url) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kontakte-bench-'));
    const embedded = await startEmbedded({ dir, fast: process.env.BENCH_PG_FAST === '1' });
    await ensureDatabase(embedded.url('postgres'), 'bench');
    url = embedded.url('bench');
    stop = async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    const result = await benchNumbers(url);
    console.log(
      `numbers: ${result.allocationsPerSecond} allocations/s with ${result.connections} connections ` +
        `(${result.allocations} in ${result.durationMs} ms; p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, p99 ${result.p99Ms} ms; ` +
        `retries ${result.retries}, failures ${result.failures}, distinct ${result.distinct})`,
    );
    if (!result.distinct || result.failures) process.exitCode = 1;
  } finally {
    await stop();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
