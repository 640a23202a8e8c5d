/**
 * Bulk actions and the group sidebar at 100,000 contacts (issue 6 budgets):
 * archiving 10,000 contacts selected as "all matching", history and
 * notifications included, in one transaction and as a background job; and the
 * sidebar's queries with 200 groups, 50 of them dynamic.
 *
 * `tsx bench/bulk.ts` starts an embedded PostgreSQL in a temp folder, or uses
 * BENCH_DATABASE_URL (a user that may create databases).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createDb, migrate, type Db } from '../src/db/knex';
import { startEmbedded } from '../src/db/embedded';
import { breakdown, bulkArchive, type Target } from '../src/contacts/bulk';
import { createBulkJob, runBulkJob } from '../src/contacts/bulk-jobs';
import { countDynamicGroups, listGroupsForSidebar } from '../src/groups/queries';
import { seedContacts } from './seed';

export interface BulkBenchResult {
  archiveOneTransactionMs: number;
  archived: number;
  historyRows: number;
  notifications: number;
  archiveBackgroundJobMs: number;
  sidebar: { groups: number; dynamic: number; listP50: number; listP99: number; countsP50: number; countsP99: number };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function recreate(adminUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`drop database if exists ${name} with (force)`);
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** 10,000 customers in Bielefeld-like cities: the "all matching" filter of the archive measurement. */
async function markTarget(db: Db): Promise<void> {
  await db.raw(`update contacts set city = 'Benchstadt' where id in (select id from contacts where status in ('prospect', 'customer') order by id limit 10000)`);
  await db.raw('analyze contacts');
}

async function seedGroups(db: Db, adminId: string): Promise<void> {
  await db.raw(
    `insert into groups (name, kind, created_by) select 'Statische Gruppe ' || g, 'static', ? from generate_series(1, 150) g`,
    [adminId],
  );
  await db.raw(`insert into group_members (group_id, contact_id)
    select g.id, c.id from groups g join contacts c on c.id % 150 = g.id % 150 where g.kind = 'static' and c.id % 7 = 0`);
  const filters = ['{"city":"köln"}', '{"status":["customer"],"country":"AT"}', '{"q":"müller"}', '{"has_email":"no"}', '{"postal_code":"80"}'];
  await db.raw(
    `insert into groups (name, kind, filter, created_by) select 'Dynamische Gruppe ' || g, 'dynamic', (?::jsonb[])[1 + g % 5], ? from generate_series(1, 50) g`,
    [filters, adminId],
  );
}

export async function benchBulk(adminUrl: string, contacts = 100_000): Promise<BulkBenchResult> {
  const url = await recreate(adminUrl, 'kontakte_bench_bulk');
  const db = createDb(url, { min: 0, max: 4 });
  try {
    await migrate(db);
    const seed = await seedContacts(db, contacts, { email: 'bulk@bench.example', password: 'bench-bulk-123' });
    await markTarget(db);
    await seedGroups(db, seed.adminId);
    const target: Target = { kind: 'filter', filter: { city: 'Benchstadt' }, viewerId: seed.adminId };

    // One transaction, as the request runs it below the background threshold.
    const eventsBefore = Number((await db('contact_events').count({ n: '*' }).first())!.n);
    const started = performance.now();
    const result = await db.transaction(async (trx) => bulkArchive(trx, target, seed.adminId, await breakdown(trx, target)));
    const archiveOneTransactionMs = performance.now() - started;
    const historyRows = Number((await db('contact_events').count({ n: '*' }).first())!.n) - eventsBefore;
    const notifications = Number((await db('notifications').count({ n: '*' }).first())!.n);

    // The same 10,000 as a background job (what the app does above 5,000): restore them first, then archive in chunks.
    await db.raw(`update contacts set status = previous_status, previous_status = null where city = 'Benchstadt'`);
    const jobStarted = performance.now();
    const jobId = await createBulkJob(db, 'archive', {}, target, seed.adminId);
    await runBulkJob(db, jobId);
    const archiveBackgroundJobMs = performance.now() - jobStarted;

    const list: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 50; i++) {
      let t = performance.now();
      await listGroupsForSidebar(db, seed.adminId);
      list.push(performance.now() - t);
      t = performance.now();
      await countDynamicGroups(db, seed.adminId);
      counts.push(performance.now() - t);
    }
    return {
      archiveOneTransactionMs,
      archived: result.affected,
      historyRows,
      notifications,
      archiveBackgroundJobMs,
      sidebar: { groups: 200, dynamic: 50, listP50: percentile(list, 50), listP99: percentile(list, 99), countsP50: percentile(counts, 50), countsP99: percentile(counts, 99) },
    };
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  (async () => {
    let adminUrl = process.env.BENCH_DATABASE_URL;
    let stop: (() => Promise<void>) | undefined;
    let dir: string | undefined;
    if (!adminUrl) {
      dir = mkdtempSync(path.join(os.tmpdir(), 'kontakte-bench-bulk-'));
      const pg = await startEmbedded({ dir });
      stop = pg.stop;
      adminUrl = pg.url('postgres');
    }
    try {
      const r = await benchBulk(adminUrl, Number(process.env.BENCH_CONTACTS ?? 100_000));
      const f = (ms: number) => `${ms.toFixed(0)} ms`;
      console.log(`archive 10,000 "all matching", one transaction: ${f(r.archiveOneTransactionMs)} (${r.archived} archived, ${r.historyRows} history rows, ${r.notifications} notifications) — budget ≤ 500 ms ${r.archiveOneTransactionMs <= 500 ? '✓' : '✗'}`);
      console.log(`archive 10,000 as a background job (chunks of 2,000): ${f(r.archiveBackgroundJobMs)}`);
      console.log(`sidebar, 200 groups (50 dynamic): list p50 ${r.sidebar.listP50.toFixed(1)} / p99 ${r.sidebar.listP99.toFixed(1)} ms; dynamic counts p50 ${r.sidebar.countsP50.toFixed(1)} / p99 ${r.sidebar.countsP99.toFixed(1)} ms`);
    } finally {
      await stop?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  })().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
