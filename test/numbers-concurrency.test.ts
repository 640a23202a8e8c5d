import knex, { type Knex } from 'knex';
import { useTestDatabase } from './db';
import { createUser } from './helpers';
import type { Db } from '../src/db/knex';
import { allocateNumber, assignGeneratedNumber, withNumberTransaction } from '../src/numbers/service';

/**
 * The proof that "Nummer erzeugen" never hands out a number twice and never burns
 * one, with many people saving at once: 50 workers on 50 connections, each saving
 * 20 contacts with a generated number (random pauses inside the transaction, every
 * tenth save failing on purpose after the number was allocated), while a colleague
 * types numbers by hand into the same range. Then the committed state must show a
 * gapless sequence of generated numbers around the hand-typed ones.
 * The same harness run against a naive `max + 1` allocator must catch it out.
 */
const t = useTestDatabase();

const WORKERS = 50;
const SAVES_PER_WORKER = 20;

type Allocate = (trx: Knex.Transaction, contactId: string, actorId: string) => Promise<string>;

interface Race {
  saves: number;
  /** Numbers the workers were told they got, for saves that committed. */
  generated: string[];
  /** Numbers typed by hand that were saved. */
  typed: string[];
  deliberateFailures: number;
  /** Saves that should have gone through but did not. */
  failures: { code?: string; message: string }[];
  retries: string[];
  deadlocks: number;
  ms: number;
}

class DeliberateFailure extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** 0–2 ms, often none: enough to interleave 50 transactions differently on every run. */
const pause = () => {
  const ms = Math.floor(Math.random() * 3);
  return ms ? sleep(ms) : Promise.resolve();
};

const valueOf = (number: string) => Number(number.slice(2));
const format = (value: number) => `K-${String(value).padStart(5, '0')}`;

async function deadlockCount(db: Db): Promise<number> {
  await db.raw('select pg_stat_clear_snapshot()');
  const { rows } = await db.raw('select deadlocks from pg_stat_database where datname = current_database()');
  return Number(rows[0].deadlocks);
}

/** Backends report their statistics when they end: wait until the race's connections are gone. */
async function waitForDisconnect(db: Db, applicationName: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { rows } = await db.raw('select count(*)::int as n from pg_stat_activity where application_name = ?', [applicationName]);
    if (rows[0].n === 0) return;
    await sleep(50);
  }
  throw new Error('race connections did not close');
}

/** The negative controls need fewer saves to be caught out: they keep the file within its time budget. */
async function race(allocate: Allocate, savesPerWorker = SAVES_PER_WORKER): Promise<Race> {
  const applicationName = 'kontakte-number-race';
  const pool = knex({
    client: 'pg',
    connection: { connectionString: t.url, application_name: applicationName },
    pool: { min: 0, max: WORKERS + 5, acquireTimeoutMillis: 30000 },
  });
  const actor = await createUser(t.db);
  const saves = WORKERS * savesPerWorker;
  const result: Race = { saves, generated: [], typed: [], deliberateFailures: 0, failures: [], retries: [], deadlocks: 0, ms: 0 };
  const deadlocksBefore = await deadlockCount(t.db);
  const started = Date.now();

  const worker = async (w: number) => {
    for (let i = 0; i < savesPerWorker; i++) {
      const failOnPurpose = (w * savesPerWorker + i) % 10 === 0;
      try {
        const number = await withNumberTransaction(
          pool,
          async (trx) => {
            const [row] = await trx('contacts').insert({ last_name: `Arbeiter ${w}`, company: `Speichern ${i}`, created_by: actor.id }).returning('id');
            await pause();
            const allocated = await allocate(trx, String(row.id), actor.id);
            await pause();
            if (failOnPurpose) throw new DeliberateFailure();
            return allocated;
          },
          { onRetry: (error) => result.retries.push(String((error as { code?: string }).code)) },
        );
        result.generated.push(number);
      } catch (error) {
        if (error instanceof DeliberateFailure) result.deliberateFailures += 1;
        else result.failures.push({ code: (error as { code?: string }).code, message: String((error as Error).message) });
      }
    }
  };

  let typing = true;
  const typist = async () => {
    while (typing) {
      const value = 1 + Math.floor(Math.random() * saves);
      const typed = Math.random() < 0.5 ? format(value) : format(value).toLowerCase();
      try {
        await pool('contacts').insert({ last_name: 'Handeingabe', customer_number: typed });
        result.typed.push(typed);
      } catch (error) {
        // Taken already: the same refusal a user gets. Anything else is a failure.
        if ((error as { code?: string }).code !== '23505') result.failures.push({ message: String((error as Error).message) });
      }
      await sleep(1 + Math.random() * 4);
    }
  };

  const typistDone = typist();
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  typing = false;
  await typistDone;
  result.ms = Date.now() - started;
  await pool.destroy();
  await waitForDisconnect(t.db, applicationName);
  result.deadlocks = (await deadlockCount(t.db)) - deadlocksBefore;
  return result;
}

/** Everything that is wrong with the committed state after a race; empty when all is well. */
async function problemsAfter(result: Race): Promise<string[]> {
  const problems: string[] = [];
  if (result.failures.length) {
    const codes = [...new Set(result.failures.map((f) => f.code ?? f.message))].join(', ');
    problems.push(`${result.failures.length} saves failed (${codes})`);
  }
  const stored: { customer_number: string }[] = await t.db('contacts').select('customer_number').where('last_name', 'like', 'Arbeiter %');
  const storedNumbers = stored.map((r) => r.customer_number);
  if (storedNumbers.some((n) => n === null)) problems.push('a committed contact has no number');
  const distinct = new Set(storedNumbers.map((n) => n?.toLowerCase()));
  if (distinct.size !== storedNumbers.length) problems.push(`${storedNumbers.length - distinct.size} duplicate numbers among generated ones`);
  if (storedNumbers.length !== result.saves - result.deliberateFailures) {
    problems.push(`${storedNumbers.length} contacts committed, expected ${result.saves - result.deliberateFailures}`);
  }
  if ([...result.generated].sort().join() !== [...storedNumbers].sort().join()) problems.push('the numbers returned differ from those stored');

  const generated = new Set(storedNumbers.filter(Boolean).map(valueOf));
  const typed = new Set(result.typed.map(valueOf));
  const max = Math.max(0, ...generated);
  const gaps: number[] = [];
  for (let v = 1; v <= max; v++) {
    if (generated.has(v) && typed.has(v)) problems.push(`${format(v)} generated and typed by hand`);
    if (!generated.has(v) && !typed.has(v)) gaps.push(v);
  }
  if (gaps.length) problems.push(`${gaps.length} numbers burnt, e.g. ${gaps.slice(0, 5).map(format).join(', ')}`);

  const circle = await t.db('number_circles').select('next_value').where({ is_default: true, target: 'contacts' }).first();
  if (Number(circle.next_value) !== max + 1) problems.push(`circle's next value is ${circle.next_value}, expected ${max + 1}`);
  if (result.deadlocks) problems.push(`${result.deadlocks} deadlocks`);
  if (result.retries.includes('40P01')) problems.push('deadlocks retried');
  return problems;
}

beforeEach(async () => {
  await t.db('number_circles').insert({ name: 'Kundennummern', prefix: 'K-', digits: 5, next_value: 1, target: 'contacts', is_default: true });
});

const realAllocator: Allocate = (trx, contactId, actorId) => assignGeneratedNumber(trx, contactId, actorId);

/** What the naive code does: read the highest number, add one, write it (test-only, never use). */
const naiveAllocator: Allocate = async (trx, contactId) => {
  const { rows } = await trx.raw(
    `select coalesce(max(substring(customer_number from 3)::int), 0) + 1 as next from contacts where customer_number ~ '^K-[0-9]{5}$'`,
  );
  await pause();
  const number = format(rows[0].next);
  await trx('contacts').where({ id: contactId }).update({ customer_number: number });
  return number;
};

/** Also wrong: allocating in a transaction of its own, so a failed save cannot give its number back (test-only). */
const separateTransactionAllocator: Allocate = async (trx, contactId) => {
  const number = await withNumberTransaction(t.db, (own) => allocateNumber(own, 'contacts'));
  await trx('contacts').where({ id: contactId }).update({ customer_number: number });
  return number;
};

describe('number allocation under concurrency', () => {
  it.each([1, 2, 3])(
    'round %i: 50 workers × 20 saves with failures and hand-typed numbers leave distinct, gapless numbers and no deadlock',
    async () => {
      const result = await race(realAllocator);
      expect(await problemsAfter(result)).toEqual([]);
      expect(result.deliberateFailures).toBe(result.saves / 10);
      expect(result.typed.length).toBeGreaterThan(0);
      console.log(
        `number race: ${result.saves} saves in ${result.ms} ms (${Math.round(((result.saves - result.deliberateFailures) / result.ms) * 1000)}/s committed), ` +
          `${result.typed.length} typed by hand, retries: ${result.retries.length}`,
      );
    },
    60_000,
  );

  it('the same harness catches a naive max + 1 allocator handing out duplicates', async () => {
    const result = await race(naiveAllocator, 5);
    const problems = await problemsAfter(result);
    expect(result.failures.filter((f) => f.code === '23505').length).toBeGreaterThan(0);
    expect(problems.some((p) => /saves failed \(.*23505/.test(p))).toBe(true);
  }, 60_000);

  it('the same harness catches an allocator that burns the numbers of failed saves', async () => {
    const problems = await problemsAfter(await race(separateTransactionAllocator, 5));
    expect(problems.some((p) => /numbers burnt/.test(p))).toBe(true);
  }, 60_000);
});
