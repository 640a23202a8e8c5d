import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { numberHolders } from './holders';
import {
  advanceDefaultCircle,
  clearDefault,
  deleteCircle,
  findCircle,
  findCircleByToken,
  findDefaultCircle,
  highestUsedValue,
  insertCircle,
  listCircles,
  lockCircle,
  lockContactForNumber,
  lockForSettings,
  moveCircle,
  takenNumbers,
  updateCircle,
  writeContactNumberIfFree,
  type Circle,
} from './queries';
import type { CircleCreate, CircleInput, CircleSeen, PreviewInput, Target } from './schema';
import { mergeEdit } from '../web/merge';

type Format = Pick<Circle, 'prefix' | 'suffix' | 'digits'>;

/** "K-" + 42 padded to 5 digits + "" = "K-00042". Longer values are never cut: 123456 stays "K-123456". */
export function formatNumber(format: Format, value: number): string {
  return `${format.prefix}${String(value).padStart(format.digits, '0')}${format.suffix}`;
}

/** How long a transaction waits for a circle another one has locked before giving up (and being retried). */
export const LOCK_TIMEOUT = '5s';

async function setLockTimeout(trx: Knex.Transaction): Promise<void> {
  await trx.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
}

const retryableCodes = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
]);

export function isRetryable(error: unknown): boolean {
  return error instanceof NumberTakenMeanwhile || retryableCodes.has((error as { code?: string })?.code ?? '');
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** Told about every retry (tests count them, the bench reports them). */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `fn` in a transaction and runs it again, whole, when it failed for a
 * reason another try can fix: a serialization failure, a deadlock, a lock wait
 * beyond `lock_timeout`, a generated number taken meanwhile. Waits a little
 * (growing, with jitter) between tries so that the retried transactions do not
 * collide again in step. `fn` must therefore be safe to run more than once:
 * no side effects outside the database.
 */
export async function withNumberTransaction<T>(
  db: Db,
  fn: (trx: Knex.Transaction) => Promise<T>,
  { attempts = 5, onRetry }: RetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (error) {
      if (!isRetryable(error) || attempt >= attempts) throw error;
      onRetry?.(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
    }
  }
}

/**
 * The first number of the circle, from its next value on, that nobody holds.
 * Candidates are checked in growing windows, each with one statement: first the
 * next value alone (usually free; a single-value lookup the planner always answers
 * from the unique index), then 16, 256 and 4,096 at a time, so a long run of
 * hand-typed numbers costs a few queries, not one per number.
 */
async function firstFree(db: Db, circle: Format & Pick<Circle, 'next_value' | 'target'>): Promise<{ value: number; number: string }> {
  const holder = numberHolders[circle.target];
  let from = circle.next_value;
  for (let size = 1; ; size = Math.min(size * 16, 4096)) {
    const candidates = Array.from({ length: size }, (_, i) => formatNumber(circle, from + i));
    const taken = await takenNumbers(db, holder, candidates);
    const free = candidates.findIndex((candidate) => !taken.has(candidate.toLowerCase()));
    if (free >= 0) return { value: from + free, number: candidates[free] };
    from += size;
  }
}

const noDefaultMessage = { contacts: 'numbers.noDefaultContacts', groups: 'numbers.noDefaultGroups' } as const;

/**
 * Locks the target's default circle for the rest of the transaction and moves it
 * one on, in one statement (while the circle is locked, every round trip counts).
 * Returns the circle and the value it stood at. Whether that value's number is
 * taken must be asked in a later statement: only a statement that starts after
 * the lock was granted sees what the previous holder committed.
 */
async function takeNextValue(trx: Knex.Transaction, target: Target): Promise<{ circle: Circle; value: number }> {
  if (!trx.isTransaction) throw new Error('number allocation needs the transaction that saves the number');
  await setLockTimeout(trx);
  const circle = await advanceDefaultCircle(trx, target);
  if (!circle) throw new Conflict(noDefaultMessage[target]);
  return { circle, value: circle.next_value - 1 };
}

/** The first free number from `from` on, with the circle moved past it. */
async function skipTo(trx: Knex.Transaction, circle: Circle, from: number): Promise<string> {
  const free = await firstFree(trx, { ...circle, next_value: from });
  if (free.value + 1 !== circle.next_value) await moveCircle(trx, circle.id, free.value + 1);
  return free.number;
}

/**
 * The next free number of the target's default circle, taken inside the caller's
 * transaction: the circle stays locked until that transaction ends, and if it
 * rolls back, the number was never used up. The caller writes the number in the
 * same transaction; `allocateAndWrite` does both, with one round trip less.
 */
export async function allocateNumber(trx: Knex.Transaction, target: Target): Promise<string> {
  const { circle, value } = await takeNextValue(trx, target);
  return skipTo(trx, circle, value);
}

/**
 * A generated number that the unique index refused: someone saved it by hand
 * after it was checked (an uncommitted insert cannot be seen). The transaction
 * is lost; withNumberTransaction runs it again, and then the number is skipped.
 */
export class NumberTakenMeanwhile extends Error {
  constructor(readonly number: string) {
    super(`number ${number} was taken meanwhile`);
  }
}

/**
 * Stores the number on the record being saved, unless the number is taken
 * (compared case-insensitively); answers whether it stored it. Checking in the
 * writing statement saves a round trip while the circle is locked.
 */
export type WriteIfFree = (trx: Knex.Transaction, number: string) => Promise<boolean>;

/**
 * Allocates the next free number and stores it with `writeIfFree`, both in `trx`.
 * Run it through withNumberTransaction: a number typed by hand and saved between
 * the check and the write ends the transaction with NumberTakenMeanwhile, which
 * is retried there. (A savepoint would avoid the retry but costs two round trips
 * on every allocation while the circle is locked, and this race is rare.)
 */
export async function allocateAndWrite(trx: Knex.Transaction, target: Target, writeIfFree: WriteIfFree): Promise<string> {
  const holder = numberHolders[target];
  const { circle, value } = await takeNextValue(trx, target);
  let number = formatNumber(circle, value);
  try {
    if (await writeIfFree(trx, number)) return number;
    // Typed by hand earlier: the first free number after it.
    number = await skipTo(trx, circle, value + 1);
    if (await writeIfFree(trx, number)) return number;
  } catch (error) {
    if (!isUniqueViolation(error, holder.uniqueIndex)) throw error;
  }
  throw new NumberTakenMeanwhile(number);
}

function isUniqueViolation(error: unknown, index: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === index;
}

/**
 * "Nummer erzeugen" for an existing contact without a number: allocates, writes
 * contacts.customer_number (bumping `version`, so a stale form cannot blank it
 * again) and records a `number_assigned` history event, all in `trx`.
 * The caller checks the contact's capability (status) first, and runs this
 * through withNumberTransaction (see allocateAndWrite).
 */
export async function assignGeneratedNumber(trx: Knex.Transaction, contactId: string, actorId: string | null): Promise<string> {
  const contact = await lockContactForNumber(trx, contactId);
  if (!contact) throw new NotFound();
  if (contact.customer_number) throw new Conflict('numbers.alreadyNumbered', { number: contact.customer_number });
  return allocateAndWrite(trx, 'contacts', (t, number) => writeContactNumberIfFree(t, contactId, number, actorId));
}

/** The number "Nummer erzeugen" would give right now; nothing is locked or consumed. */
export async function predictNextNumber(db: Db, target: Target): Promise<string | undefined> {
  const circle = await findDefaultCircle(db, target);
  return circle && (await firstFree(db, circle)).number;
}

// Settings → Nummernkreise

export type CircleWithPreview = Circle & { preview: string };

/** Every circle with the number it would give next (circles are a handful: one lookup each). */
export async function listCirclesWithPreview(db: Db): Promise<CircleWithPreview[]> {
  const circles = await listCircles(db);
  const previews: CircleWithPreview[] = [];
  for (const circle of circles) previews.push({ ...circle, preview: (await firstFree(db, circle)).number });
  return previews;
}

/** The preview in the form: what a circle with these settings would give next. */
export async function previewNumber(db: Db, input: PreviewInput): Promise<string> {
  return (await firstFree(db, input)).number;
}

/** A next value below a number already in use: the message names the number and the lowest value allowed. */
export class NextValueBelowUsed extends Invalid {
  constructor(
    readonly number: string,
    readonly min: number,
  ) {
    super({ next_value: 'numbers.nextValueBelowUsed' }, 'errors.422', { number, min });
  }
}

function fieldsOf(input: CircleInput, nextValue: number) {
  const { name, prefix, suffix, digits, target, is_default, active } = input;
  return { name, prefix, suffix, digits, target, is_default, active, next_value: nextValue };
}

/**
 * A new default takes over from the old one in the same transaction (the database allows one per target).
 * The form's token makes one circle of a form sent twice: the second finds the first's circle, also when
 * both arrive at once (the unique index refuses the second insert, and its transaction, which may have
 * taken "Standard" from the first, is rolled back).
 */
export async function createCircle(db: Db, input: CircleCreate): Promise<string> {
  try {
    return await withNumberTransaction(db, async (trx) => {
      await setLockTimeout(trx);
      const made = await findCircleByToken(trx, input.create_token);
      if (made) return made;
      if (input.is_default) {
        await lockForSettings(trx, input.target);
        await clearDefault(trx, input.target);
      }
      const id = await insertCircle(trx, { ...fieldsOf(input, input.next_value), create_token: input.create_token });
      if (!id) throw new MadeMeanwhile();
      return id;
    });
  } catch (error) {
    const made = error instanceof MadeMeanwhile && (await findCircleByToken(db, input.create_token));
    if (made) return made;
    throw error;
  }
}

/** The same form's circle was inserted by a request that committed first. */
class MadeMeanwhile extends Error {}

/**
 * Saves an edit. The next value changes only when the admin changed it in the
 * form (`shown_next_value`), so numbers handed out while the form was open are
 * never given out again; moving it back below a number in use is refused.
 */
export async function updateCircleSettings(db: Db, id: string, typed: CircleInput, seen?: CircleSeen): Promise<void> {
  await withNumberTransaction(db, async (trx) => {
    await setLockTimeout(trx);
    await lockForSettings(trx, typed.target, id);
    const current = await findCircle(trx, id);
    if (!current) throw new NotFound();
    const input = seen ? mergedSettings(typed, seen, current) : typed;
    if (input.target !== typed.target) await lockForSettings(trx, input.target, id);
    const nextValue = input.next_value === input.shown_next_value ? current.next_value : input.next_value;
    if (nextValue < current.next_value) {
      const highest = await highestUsedValue(trx, numberHolders[input.target], input);
      if (highest !== undefined && highest >= nextValue) throw new NextValueBelowUsed(formatNumber(input, highest), highest + 1);
    }
    if (input.is_default) await clearDefault(trx, input.target, id);
    await updateCircle(trx, id, fieldsOf(input, nextValue));
  });
}

const settingFields = ['name', 'prefix', 'suffix', 'digits', 'target', 'is_default', 'active'] as const;

/** A circle's settings changed meanwhile, where the admin changed them too: the form shows what is saved now. */
export class CircleChanged extends Conflict {
  constructor(
    readonly current: Circle,
    readonly untouched: (typeof settingFields)[number][],
  ) {
    super('numbers.changedMeanwhile');
  }
}

/**
 * Another admin's change is kept where this form left the field as it showed
 * it (two admins: one renames, one changes the prefix; the rename took the
 * prefix back). Both changed one field differently, or what comes out would
 * be a default that is not active: refused, nothing written.
 */
function mergedSettings(typed: CircleInput, seen: CircleSeen, current: Circle): CircleInput {
  const pick = (from: CircleSeen | CircleInput | Circle) => Object.fromEntries(settingFields.map((f) => [f, from[f]])) as CircleSeen;
  const { merged, untouched, clashes } = mergeEdit(settingFields, { wanted: pick(typed), seen, current: pick(current) });
  if (clashes.length || (merged.is_default && !merged.active)) throw new CircleChanged(current, untouched);
  return { ...typed, ...merged };
}

export async function activateCircle(db: Db, id: string): Promise<Circle> {
  return withNumberTransaction(db, async (trx) => {
    await setLockTimeout(trx);
    const circle = await lockCircle(trx, id);
    if (!circle) throw new NotFound();
    await updateCircle(trx, id, { active: true });
    return circle;
  });
}

/** The default circle stays active: "Nummer erzeugen" must not lose its circle by a click in a list. */
export async function deactivateCircle(db: Db, id: string): Promise<Circle> {
  return withNumberTransaction(db, async (trx) => {
    await setLockTimeout(trx);
    const circle = await lockCircle(trx, id);
    if (!circle) throw new NotFound();
    if (circle.is_default) throw new Conflict('numbers.deactivateDefault', { name: circle.name });
    await updateCircle(trx, id, { active: false });
    return circle;
  });
}

/**
 * Only a circle that never issued a number can go; one that did is deactivated
 * instead. The default stays, like it stays active, until another takes over.
 */
export async function removeCircle(db: Db, id: string): Promise<Circle> {
  return withNumberTransaction(db, async (trx) => {
    await setLockTimeout(trx);
    const circle = await lockCircle(trx, id);
    if (!circle) throw new NotFound();
    if (circle.is_default) throw new Conflict('numbers.deleteDefault', { name: circle.name });
    if (circle.issued_count > 0) throw new Conflict('numbers.deleteRefused', { name: circle.name, count: circle.issued_count });
    await deleteCircle(trx, id);
    return circle;
  });
}
