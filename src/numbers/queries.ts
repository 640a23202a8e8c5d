import type { Db } from '../db/knex';
import type { ValueQuery } from '../db/batch';
import type { NumberHolder } from './holders';
import type { Target } from './schema';

export interface Circle {
  id: string;
  name: string;
  prefix: string;
  suffix: string;
  digits: number;
  next_value: number;
  target: Target;
  is_default: boolean;
  active: boolean;
  issued_count: number;
}

export type CircleFields = Pick<Circle, 'name' | 'prefix' | 'suffix' | 'digits' | 'next_value' | 'target' | 'is_default' | 'active'>;

const columns = ['id', 'name', 'prefix', 'suffix', 'digits', 'next_value', 'target', 'is_default', 'active', 'issued_count'] as const;

type CircleRow = Omit<Circle, 'id' | 'next_value' | 'issued_count'> & { id: string | number; next_value: string; issued_count: string };

/** bigint columns arrive as strings; circle values stay below 2^53 (schema.ts MAX_NEXT_VALUE). */
function toCircle(row: CircleRow): Circle {
  return { ...row, id: String(row.id), next_value: Number(row.next_value), issued_count: Number(row.issued_count) };
}

export async function listCircles(db: Db): Promise<Circle[]> {
  const rows: CircleRow[] = await db('number_circles').select(columns).orderBy([{ column: 'target' }, { column: 'name' }, { column: 'id' }]);
  return rows.map(toCircle);
}

export async function findCircle(db: Db, id: string): Promise<Circle | undefined> {
  const row: CircleRow | undefined = await db('number_circles').select(columns).where({ id }).first();
  return row && toCircle(row);
}

/** Whether the target has a default circle ("Nummer erzeugen" can number), as one value: for batchRead. */
export function hasDefaultCircleQuery(db: Db, target: Target): ValueQuery<boolean> {
  return db.select(db.raw('exists (?)', [db('number_circles').select(db.raw('1')).where({ target, is_default: true })]));
}

/** The default circle of a target (always active: a database check makes sure). */
export async function findDefaultCircle(db: Db, target: Target): Promise<Circle | undefined> {
  const row: CircleRow | undefined = await db('number_circles').select(columns).where({ target, is_default: true }).first();
  return row && toCircle(row);
}

/**
 * Locks the target's default circle and counts one number issued, returning the
 * circle as it is now (its next value already one on). Blocks, up to the
 * transaction's lock_timeout, while another transaction allocates from or edits it.
 */
export async function advanceDefaultCircle(trx: Db, target: Target): Promise<Circle | undefined> {
  const [row]: CircleRow[] = await trx('number_circles')
    .where({ target, is_default: true })
    .update({ next_value: trx.raw('next_value + 1'), issued_count: trx.raw('issued_count + 1') })
    .returning(columns);
  return row && toCircle(row);
}

export async function lockCircle(trx: Db, id: string): Promise<Circle | undefined> {
  const row: CircleRow | undefined = await trx('number_circles').select(columns).where({ id }).forUpdate().first();
  return row && toCircle(row);
}

/**
 * Locks every circle of the target (and the one being edited), in id order, so
 * two admins switching defaults queue up instead of both keeping theirs.
 */
export async function lockForSettings(trx: Db, target: Target, id?: string): Promise<void> {
  const query = trx('number_circles').select('id').where({ target });
  if (id) query.orWhere({ id });
  await query.orderBy('id').forUpdate();
}

/** The new circle's id, or undefined when its form (create_token) made one already. */
export async function insertCircle(db: Db, fields: CircleFields & { create_token: string }): Promise<string | undefined> {
  const [row] = await db('number_circles').insert(fields).onConflict('create_token').ignore().returning('id');
  return row && String(row.id);
}

export async function findCircleByToken(db: Db, token: string): Promise<string | undefined> {
  const row = await db('number_circles').select('id').where({ create_token: token }).first();
  return row && String(row.id);
}

export async function updateCircle(db: Db, id: string, changes: Partial<CircleFields>): Promise<void> {
  await db('number_circles').where({ id }).update({ ...changes, updated_at: db.fn.now() });
}

export async function clearDefault(db: Db, target: Target, exceptId?: string): Promise<void> {
  const query = db('number_circles').where({ target, is_default: true });
  if (exceptId) query.whereNot({ id: exceptId });
  await query.update({ is_default: false, updated_at: db.fn.now() });
}

export async function deleteCircle(db: Db, id: string): Promise<void> {
  await db('number_circles').where({ id }).delete();
}

/** Moves the circle past a number handed out after skipping numbers in use. */
export async function moveCircle(trx: Db, id: string, nextValue: number): Promise<void> {
  await trx('number_circles').where({ id }).update({ next_value: nextValue });
}

/** Which of the candidates are in use, compared case-insensitively: one index lookup per candidate, one statement. */
export async function takenNumbers(db: Db, holder: NumberHolder, candidates: string[]): Promise<Set<string>> {
  const rows: { number: string }[] = await db(holder.table)
    .select(db.raw('lower(??) as number', [holder.column]))
    .whereRaw(`lower(??) in (${candidates.map(() => '?').join(', ')})`, [holder.column, ...candidates.map((c) => c.toLowerCase())]);
  return new Set(rows.map((r) => r.number));
}

/**
 * The highest value in use that the circle's format produces (prefix, at least
 * `digits` digits without superfluous leading zeros, suffix; any case), e.g. 42
 * for "k-00042" in a circle "K-" with 5 digits. Numbers typed by hand count too.
 * A scan of the holder's table: for settings changes, not for allocation.
 */
export async function highestUsedValue(
  db: Db,
  holder: NumberHolder,
  format: Pick<Circle, 'prefix' | 'suffix' | 'digits'>,
): Promise<number | undefined> {
  const { prefix, suffix, digits } = format;
  const row = await db
    .select(db.raw('max(middle::numeric)::text as highest'))
    .from(
      db(holder.table)
        .select(
          db.raw('substr(lower(??), char_length(?::text) + 1, char_length(??) - char_length(?::text) - char_length(?::text)) as middle', [
            holder.column,
            prefix,
            holder.column,
            prefix,
            suffix,
          ]),
        )
        .whereRaw('left(lower(??), char_length(?::text)) = lower(?::text)', [holder.column, prefix, prefix])
        .whereRaw('right(lower(??), char_length(?::text)) = lower(?::text)', [holder.column, suffix, suffix])
        .whereRaw('char_length(??) >= char_length(?::text) + char_length(?::text) + ?::int', [holder.column, prefix, suffix, digits])
        .as('used'),
    )
    .whereRaw(`middle ~ '^[0-9]+$'`)
    .whereRaw(`(char_length(middle) = ?::int or left(middle, 1) <> '0')`, [digits])
    .first();
  return row?.highest == null ? undefined : Number(row.highest);
}

export async function lockContactForNumber(trx: Db, id: string): Promise<{ id: string; customer_number: string | null } | undefined> {
  return trx('contacts').select('id', 'customer_number').where({ id }).forUpdate().first();
}

/**
 * Gives the contact the number and records the history event, in one statement
 * that first makes sure no contact holds the number in any case. False when one does.
 */
export async function writeContactNumberIfFree(trx: Db, id: string, number: string, actorId: string | null): Promise<boolean> {
  const { rows } = await trx.raw(
    `with assigned as (
       update contacts set customer_number = ?, version = version + 1, updated_by = ?, updated_at = now()
       where id = ? and not exists (select 1 from contacts where lower(customer_number) = lower(?))
       returning id, version
     ), event as (
       -- With the version it made: a form based on an older one shows the number in its conflict (describeConflict).
       insert into contact_events (contact_id, actor_id, kind, payload)
       select id, ?, 'number_assigned', ?::jsonb || jsonb_build_object('version', version) from assigned
     )
     select count(*)::int as written from assigned`,
    [number, actorId, id, number, actorId, JSON.stringify({ number })],
  );
  return rows[0].written === 1;
}
