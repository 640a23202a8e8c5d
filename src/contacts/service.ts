import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { can, isActiveStatus, transition, type Action, type Status } from './status';
import { editableFields, type ContactCreate, type ContactUpdate } from './schema';
import { changesSince, findContact, findNumberHolder, insertEvent, lastStatusActor, noteSentBefore, type Contact, type ContactEvent } from './queries';
import { displayName } from './format';
import { assignGeneratedNumber, withNumberTransaction } from '../numbers/service';
import type { AssignmentInput } from '../assignment/schema';
import { notifyResponsible } from '../notifications/queries';
import { assertAssignmentUnchanged, contactTarget, keptAssignees, describeAssignment, loadAssignments, sameAssignment, saveAssignment, validateAssignment } from '../assignment/queries';

const UNIQUE_VIOLATION = '23505';

/** A customer number that someone else holds: the message names the holder. */
export class NumberTaken extends Invalid {
  constructor(
    readonly number: string,
    readonly holder: { id: string; name: string },
  ) {
    super({ customer_number: 'contacts.numberTaken' }, 'errors.422', { number, name: holder.name });
  }
}

async function assertNumberFree(trx: Knex.Transaction, number: string | null, exceptId?: string): Promise<void> {
  const taken = await numberTaken(trx, number, exceptId);
  if (taken) throw taken;
}

/** A NumberTaken for `number` if another contact holds it: also for a form refused for other reasons, so all its messages come at once. */
export async function numberTaken(db: Db | Knex.Transaction, number: string | null | undefined, exceptId?: string): Promise<NumberTaken | undefined> {
  const wanted = number?.trim();
  if (!wanted) return undefined;
  const holder = await findNumberHolder(db, wanted, exceptId);
  return holder ? new NumberTaken(wanted, { id: String(holder.id), name: displayName(holder) }) : undefined;
}

/**
 * Two saves racing for one number: the database's unique index decides, the loser gets the same message,
 * unless `sentBefore` finds what it was about made meanwhile (the same create form sent twice at once).
 */
async function translateUniqueViolation<T>(
  db: Db,
  number: string | null,
  exceptId: string | undefined,
  work: () => Promise<T>,
  sentBefore?: () => Promise<T | undefined>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const e = error as { code?: string; constraint?: string };
    if (e.code === UNIQUE_VIOLATION && e.constraint === 'contacts_customer_number_unique' && number) {
      const made = await sentBefore?.();
      if (made) return made;
      const holder = await findNumberHolder(db, number, exceptId);
      throw new NumberTaken(number, holder ? { id: String(holder.id), name: displayName(holder) } : { id: '', name: '?' });
    }
    throw error;
  }
}

export function assertAllowed(action: Action, status: Status): void {
  const verdict = can(action, status);
  if (!verdict.ok) throw new Conflict(verdict.reason);
}

async function loadForUpdate(trx: Knex.Transaction, id: string): Promise<Contact> {
  const contact = await findContact(trx, id, { lock: true });
  if (!contact) throw new NotFound();
  return contact;
}

/**
 * Creates a contact and its "created" history event in one transaction. The
 * dialog's token makes a repeated submit (double click) return the first contact.
 */
export async function createContact(
  db: Db,
  input: ContactCreate,
  assignment: AssignmentInput,
  actorId: string,
): Promise<{ id: string; duplicate: boolean; number?: string }> {
  const { create_token, generate_number, ...typed } = input;
  const fields = generate_number ? { ...typed, customer_number: null } : typed;
  // With "Nummer erzeugen" the whole save retries on lock timeouts and races (withNumberTransaction);
  // the number is allocated last, so the circle stays locked as briefly as possible.
  const run = <T>(work: (trx: Knex.Transaction) => Promise<T>) => (generate_number ? withNumberTransaction(db, work) : db.transaction(work));
  // Sent twice at once with a typed number, the second insert can fail on the number's unique index (checked
  // before the token's, waiting for the first request's commit): the contact the first one made answers both.
  return translateUniqueViolation(
    db,
    fields.customer_number,
    undefined,
    () => run(async (trx): Promise<{ id: string; duplicate: boolean; number?: string }> => {
      // The same dialog sent again (F5, the back button, a double click after the first answer): its contact,
      // before any check that contact itself would now fail (its typed number is taken - by it).
      const sent = await sentBefore(trx, create_token);
      if (sent) return sent;
      const taken = await numberTaken(trx, fields.customer_number);
      if (taken) {
        // Sent twice at once, the first committed between the two looks: its contact holds the number.
        const sentMeanwhile = await sentBefore(trx, create_token);
        if (sentMeanwhile) return sentMeanwhile;
        throw taken;
      }
      await validateAssignment(trx, assignment);
      const [row] = await trx('contacts')
        .insert({ ...fields, create_token, assignment: assignment.kind, competence_id: assignment.competenceId ?? null, created_by: actorId, updated_by: actorId })
        .onConflict(trx.raw('(create_token) where create_token is not null'))
        .ignore()
        .returning('id');
      // Sent twice at once: the second insert waited for the first and found its token.
      if (!row) return (await sentBefore(trx, create_token))!;
      const id = String(row.id);
      await saveAssignment(trx, contactTarget, [id], assignment);
      await insertEvent(trx, { contact_id: id, actor_id: actorId, kind: 'created', payload: { status: fields.status } });
      const number = generate_number ? await assignGeneratedNumber(trx, id, actorId) : undefined;
      return { id, duplicate: false, number };
    }),
    () => sentBefore(db, create_token),
  );
}

/** The contact a create dialog with this token made already, as createContact answers a repeat. */
async function sentBefore(trx: Db | Knex.Transaction, createToken: string): Promise<{ id: string; duplicate: true; number?: string } | undefined> {
  const existing = await trx('contacts').select('id', 'customer_number').where({ create_token: createToken }).first();
  return existing && { id: String(existing.id), duplicate: true, number: existing.customer_number ?? undefined };
}

/**
 * "Nummer erzeugen" on the master data page: the next free number of the
 * default circle, recorded in the history and told to those responsible, as
 * every other change of a contact is. (Made with the contact, the number is
 * part of the one "created" notification.)
 */
export async function generateNumber(db: Db, id: string, actorId: string): Promise<string> {
  return withNumberTransaction(db, async (trx) => {
    const contact = await loadForUpdate(trx, id);
    assertAllowed('number', contact.status);
    const number = await assignGeneratedNumber(trx, id, actorId);
    const event = await trx('contact_events').max({ id: 'id' }).where({ contact_id: id, kind: 'number_assigned' }).first();
    await notifyResponsible(trx, [event!.id]);
    return number;
  });
}

export interface EditConflict {
  current: Contact;
  /** Fields changed meanwhile that the form changed too, to something else: the form keeps the user's value. */
  changes: { field: string; theirs: unknown; yours: unknown }[];
  /** Fields changed meanwhile that the form had left as they were: the form takes the saved value. */
  kept: { field: string; theirs: unknown }[];
  by: string[];
}

/** Thrown when the form was based on an old version: carries what changed meanwhile and by whom. */
export class StaleEdit extends Conflict {
  constructor(readonly conflict: EditConflict) {
    super('contacts.conflict.title');
  }
}

function normalise(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/**
 * Saves master data if the form's version is still current; never a silent
 * overwrite. Records old → new for each changed field in the history.
 */
export async function updateContact(db: Db, id: string, input: ContactUpdate, actorId: string): Promise<{ changed: string[]; alreadySaved?: boolean }> {
  const { version, ...fields } = input;
  const result = await translateUniqueViolation(db, fields.customer_number, id, () =>
    db.transaction(async (trx): Promise<{ changed: string[]; alreadySaved?: boolean } | { stale: Contact }> => {
      const current = await loadForUpdate(trx, id);
      assertAllowed('edit', current.status);
      const changes: Record<string, [unknown, unknown]> = {};
      for (const field of editableFields) {
        const before = (current as unknown as Record<string, unknown>)[field];
        const after = fields[field as keyof typeof fields];
        if (normalise(before) !== normalise(after)) changes[field] = [before ?? null, after ?? null];
      }
      const changed = Object.keys(changes);
      // An old version whose form holds exactly what is saved (a double click on "Speichern": the first
      // click saved it) loses nothing: no conflict to show, the values are saved.
      if (current.version !== version) return changed.length ? { stale: current } : { changed, alreadySaved: true };
      if (!changed.length) return { changed };
      if ('customer_number' in changes) {
        assertAllowed('number', current.status);
        await assertNumberFree(trx, fields.customer_number, id);
      }
      await trx('contacts')
        .where({ id })
        .update({ ...Object.fromEntries(changed.map((f) => [f, fields[f as keyof typeof fields]])), version: version + 1, updated_by: actorId, updated_at: trx.fn.now() });
      await insertEvent(trx, { contact_id: id, actor_id: actorId, kind: 'updated', payload: { changes, version: version + 1 } });
      return { changed };
    }),
  );
  if ('stale' in result) throw new StaleEdit(await describeConflict(db, result.stale, input));
  return result;
}

/**
 * What changed since the form's version, field by field. A field the form
 * still holds as it was then (its value before the first change meanwhile)
 * was not touched by the user: it takes the saved value, so saving again
 * cannot blank a number "Nummer erzeugen" gave meanwhile. A field changed on
 * both sides to different values is shown with both, the user's kept.
 */
async function describeConflict(db: Db, current: Contact, input: ContactUpdate): Promise<EditConflict> {
  const events: ContactEvent[] = await changesSince(db, current.id, input.version);
  const before = new Map<string, unknown>();
  for (const event of events) {
    const changes = event.kind === 'number_assigned' ? { customer_number: [null, event.payload.number] } : ((event.payload.changes as Record<string, [unknown, unknown]>) ?? {});
    for (const [field, [from]] of Object.entries(changes)) if (!before.has(field)) before.set(field, from);
  }
  const saved = current as unknown as Record<string, unknown>;
  const typed = (field: string) => input[field as keyof ContactUpdate];
  const fields = editableFields.filter((field) => before.has(field) && normalise(saved[field]) !== normalise(typed(field)));
  const untouched = (field: string) => normalise(typed(field)) === normalise(before.get(field));
  const changes = fields.filter((field) => !untouched(field)).map((field) => ({ field, theirs: saved[field], yours: typed(field) }));
  const kept = fields.filter(untouched).map((field) => ({ field, theirs: saved[field] }));
  const by = [...new Set(events.map((e) => e.actor_name ?? ''))].filter(Boolean);
  return { current, changes, kept, by };
}

/** The status was changed by someone else since the dialog was opened: `actor` is who (null: unknown). */
export class StatusChangedMeanwhile extends Conflict {
  constructor(
    readonly contact: Contact,
    readonly actor: string | null,
  ) {
    super('status.changedMeanwhile');
  }
}

/**
 * Changes the status after the confirmation dialog (transition table);
 * archiving remembers the active status for restoring. With `seen` (the status the dialog
 * showed), a status changed meanwhile is refused rather than overwritten: a
 * dialog opened on a prospect no longer restores a contact a colleague has
 * archived since.
 */
export async function changeStatus(db: Db, id: string, to: Status, actorId: string, seen?: Status): Promise<{ from: Status; to: Status; contact: Contact }> {
  return db.transaction(async (trx) => {
    const contact = await loadForUpdate(trx, id);
    if (seen && contact.status !== seen) {
      throw new StatusChangedMeanwhile(contact, await lastStatusActor(trx, id));
    }
    const verdict = transition(contact.status, to);
    if (!verdict.ok) throw new Conflict(verdict.reason);
    await trx('contacts')
      .where({ id })
      .update({
        status: to,
        previous_status: to === 'archived' && isActiveStatus(contact.status) ? contact.status : to === 'archived' ? contact.previous_status : null,
        updated_by: actorId,
        updated_at: trx.fn.now(),
      });
    await insertEvent(trx, { contact_id: id, actor_id: actorId, kind: 'status', payload: { from: contact.status, to } });
    return { from: contact.status, to, contact };
  });
}

/**
 * Re-assigns a contact (prospects and customers only). The history keeps the
 * names as they were; nothing is written when nothing changes.
 */
export async function changeAssignment(db: Db, id: string, assignment: AssignmentInput, actorId: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    // A form on an assignment changed meanwhile is told so before its choice is checked (a deactivated
    // employee the other change removed is then no error of its own). The chosen competence and
    // employees next, then the contact: the order reassigning a competence (and bulk "Zuweisen") locks
    // in, so the two wait for each other instead of deadlocking. Under the lock, the check again.
    const seenNow = (await loadAssignments(trx, contactTarget, [id])).get(id);
    assertAssignmentUnchanged(assignment, seenNow);
    await validateAssignment(trx, assignment, keptAssignees(seenNow));
    const contact = await loadForUpdate(trx, id);
    assertAllowed('assign', contact.status);
    const before = (await loadAssignments(trx, contactTarget, [id])).get(id);
    assertAssignmentUnchanged(assignment, before);
    await saveAssignment(trx, contactTarget, [id], assignment);
    const after = (await loadAssignments(trx, contactTarget, [id])).get(id);
    if (sameAssignment(before, after)) return false;
    await trx('contacts').where({ id }).update({ updated_by: actorId, updated_at: trx.fn.now() });
    // Told to those responsible after the change and before it (the event's "from").
    await insertEvent(trx, { contact_id: id, actor_id: actorId, kind: 'assigned', payload: { from: describeAssignment(before), to: describeAssignment(after) } });
    return true;
  });
}

/**
 * A note in the history. The same form sent again (a double click, Back and
 * send: its token and its text) writes nothing more: the contact's row lock
 * orders the two, and the second finds the first. Sent again with other words,
 * it is a note of its own.
 */
export async function addNote(db: Db, id: string, text: string, actorId: string, token?: string): Promise<void> {
  await db.transaction(async (trx) => {
    const contact = await loadForUpdate(trx, id);
    assertAllowed('note', contact.status);
    if (token && (await noteSentBefore(trx, id, token, text))) return;
    await insertEvent(trx, { contact_id: id, actor_id: actorId, kind: 'note', payload: token ? { text, token } : { text } });
  });
}

/** The picture a page showed, as its forms carry it (`picture_seen`): its time in milliseconds, or "none". */
export function pictureVersion(contact: Pick<Contact, 'picture_updated_at'>): string {
  return contact.picture_updated_at ? String(new Date(contact.picture_updated_at).getTime()) : 'none';
}

/**
 * Sets or removes the profile picture. With what the page showed (`seen`,
 * pictureVersion), a picture changed meanwhile is not overwritten or removed
 * unseen: "Bild entfernen" on a page loaded before a colleague's upload took
 * the colleague's picture away.
 */
export async function setPicture(db: Db, id: string, picture: { data: Buffer; contentType: string } | null, actorId: string, seen?: string): Promise<void> {
  await db.transaction(async (trx) => {
    const contact = await loadForUpdate(trx, id);
    assertAllowed('edit', contact.status);
    // Removed already (a second tab, a double click): nothing to refuse, nothing to record (below).
    const gone = !picture && !contact.picture_updated_at;
    if (seen !== undefined && !gone && seen !== pictureVersion(contact)) throw new Conflict('contacts.picture.changedMeanwhile');
    if (picture) {
      await trx('contact_pictures')
        .insert({ contact_id: id, data: picture.data, content_type: picture.contentType, updated_at: trx.fn.now() })
        .onConflict('contact_id')
        .merge();
    } else {
      // Removed twice (two tabs, a double click): the second changes nothing, and records nothing.
      const removed = await trx('contact_pictures').where({ contact_id: id }).delete();
      if (!removed) return;
    }
    await trx('contacts').where({ id }).update({ picture_updated_at: picture ? trx.fn.now() : null, updated_at: trx.fn.now() });
    await insertEvent(trx, { contact_id: id, actor_id: actorId, kind: picture ? 'picture_set' : 'picture_removed' });
  });
}

export async function findPicture(db: Db, id: string): Promise<{ data: Buffer; content_type: string; updated_at: Date } | undefined> {
  return db('contact_pictures').select('data', 'content_type', 'updated_at').where({ contact_id: id }).first();
}

