import type { Knex } from 'knex';
import { preparedSelect, type Db } from './knex';

declare const valueType: unique symbol;

/** A query that yields one row of one column (a count, a JSON list); `T` is what that value arrives as. */
export type ValueQuery<T = unknown> = Knex.QueryBuilder & { readonly [valueType]?: T };

interface Pending {
  query: ValueQuery;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const batches = new WeakMap<object, Map<Db, Pending[]>>();

/**
 * Reads of one value each that one request starts in the same tick (a page's
 * frame: the bell's count, the group sidebar, the assignment options), sent
 * as one statement, `select (q0) as v0, (q1) as v1, …`, when the tick ends.
 * Each round trip costs the app as much CPU as rendering a page of the list
 * (writing to the socket wakes PostgreSQL, reading wakes the app): the
 * list's full page made four statements, three of them for its frame, and
 * spent a quarter of its time on those three. `scope` is what the reads
 * belong to (the response): reads of different requests are never mixed.
 * A failed statement fails every read in it.
 */
export function batchRead<T>(scope: object, db: Db, query: ValueQuery<T>): Promise<T> {
  let byDb = batches.get(scope);
  if (!byDb) batches.set(scope, (byDb = new Map()));
  let pending = byDb.get(db);
  if (!pending) {
    byDb.set(db, (pending = []));
    queueMicrotask(() => {
      byDb.delete(db);
      void run(db, pending!);
    });
  }
  return new Promise<T>((resolve, reject) => pending.push({ query, resolve: resolve as (value: unknown) => void, reject }));
}

/**
 * Prepared (preparedSelect): the frame of a kind of page is the same statement
 * for every request, and PostgreSQL parsed and planned the list page's frame
 * (bell, group sidebar, assignment options) anew each time, more of its CPU
 * than the page of the list itself took. Its reads are of small tables, of
 * one employee's rows, or (the start page) a count over all contacts: their
 * best plan does not depend on whose, and PostgreSQL's default plan cache
 * keeps planning per call wherever one plan would cost more.
 */
async function run(db: Db, reads: Pending[]): Promise<void> {
  try {
    const [row] = await preparedSelect<Record<string, unknown>>(db, db.select(Object.fromEntries(reads.map((read, i) => [`v${i}`, read.query]))));
    reads.forEach((read, i) => read.resolve(row[`v${i}`]));
  } catch (error) {
    for (const read of reads) read.reject(error);
  }
}

/** A one-value query on its own, for callers outside a request's batch. */
export async function readValue<T>(db: Db | Knex.Transaction, query: ValueQuery<T>): Promise<T> {
  return (await db.select({ v: query }).first()).v;
}
