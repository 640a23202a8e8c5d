import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { shortStamp, translator } from '../i18n';
import { allocateAndWrite, withNumberTransaction } from '../numbers/service';
import { ListFilter } from '../contacts/schema';
import { statusesAllowing, type Status } from '../contacts/status';
import { notifyResponsible } from '../notifications/queries';
import type { AssignmentInput } from '../assignment/schema';
import { assertAssignmentUnchanged, keptAssignees, loadAssignments, sameAssignment, saveAssignment, validateAssignment } from '../assignment/queries';
import {
  countUnkeepableMembers,
  deleteExpiredGroups,
  deleteGroup as deleteGroupRow,
  deleteMembers,
  deleteTemporaryGroupsOf,
  findGroup,
  findGroupByToken,
  findGroupNumberHolder,
  groupTarget,
  insertGroup,
  insertMembers,
  recordMembers,
  updateGroup as updateGroupRow,
  writeGroupNumberIfFree,
  type ContactIds,
  type Group,
  type GroupKind,
} from './queries';
import type { GroupFields } from './schema';

type Conn = Db | Knex.Transaction;

const UNIQUE_VIOLATION = '23505';

/** Runs `work` in the caller's transaction, or in a new one when given the database. */
function inTransaction<T>(conn: Conn, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return (conn as Knex.Transaction).isTransaction ? work(conn as Knex.Transaction) : conn.transaction(work);
}

/** Name or number were changed by someone else since the page was loaded: `current` is what they are now. */
export class GroupChangedMeanwhile extends Conflict {
  constructor(readonly current: { name: string; group_number: string | null }) {
    // "Nummer –" read oddly: without a number, the message says so.
    if (current.group_number) super('groups.changedMeanwhile', { name: current.name, number: current.group_number });
    else super('groups.changedMeanwhileNoNumber', { name: current.name });
  }
}

/** A group number someone else holds (case-insensitively): the message names that group. */
export class GroupNumberTaken extends Invalid {
  constructor(
    readonly number: string,
    readonly holder: { id: string; name: string },
  ) {
    super({ group_number: 'groups.numberTaken' }, 'errors.422', { number, name: holder.name });
  }
}

async function assertNumberFree(trx: Conn, number: string | null, exceptId?: string): Promise<void> {
  if (!number) return;
  const holder = await findGroupNumberHolder(trx, number, exceptId);
  if (holder) throw new GroupNumberTaken(number, holder);
}

/** The group, if the actor may see it (someone else's temporary group is as unknown as a deleted one). */
async function lockGroup(trx: Knex.Transaction, id: string, actorId: string): Promise<Group> {
  const group = await findGroup(trx, id, actorId, { lock: true });
  if (!group) throw new NotFound('groups.gone');
  return group;
}

/** "Temporär 27.11. 14:05", Berlin time: a temporary group made without a name still tells when it was made. */
function temporaryName(now: Date): string {
  return translator('de')('groups.temporaryName', { date: shortStamp(now) });
}

interface NewGroup {
  name: string;
  group_number: string | null;
  generateNumber: boolean;
  kind: GroupKind;
  filter: ListFilter | null;
  ownerId: string | null;
  assignment: AssignmentInput;
  actorId: string;
  createToken: string | null;
}

export interface CreatedGroup {
  id: string;
  group_number: string | null;
  /** The form was saved before (double submit): this is the group it made. */
  duplicate: boolean;
}

/** "Nummer erzeugen": the next free number of the groups' default circle, taken late in the transaction that saves the group. */
async function generateNumber(trx: Knex.Transaction, id: string): Promise<string> {
  try {
    return await allocateAndWrite(trx, 'groups', (t, number) => writeGroupNumberIfFree(t, id, number));
  } catch (error) {
    if (error instanceof Conflict && error.messageKey === 'numbers.noDefaultGroups') throw new Invalid({ group_number: 'numbers.noDefaultGroups' });
    throw error;
  }
}

async function insert(trx: Knex.Transaction, group: NewGroup): Promise<CreatedGroup> {
  if (group.createToken) {
    const existing = await findGroupByToken(trx, group.createToken);
    if (existing) return { ...existing, duplicate: true };
  }
  if (group.generateNumber && group.group_number) throw new Invalid({ group_number: 'groups.numberOrGenerate' });
  await validateAssignment(trx, group.assignment);
  const id = await insertGroup(trx, {
    name: group.name,
    group_number: group.group_number,
    kind: group.kind,
    filter: group.filter,
    owner_id: group.ownerId,
    temporary: group.kind === 'temporary',
    assignment: group.assignment.kind,
    competence_id: group.assignment.competenceId ?? null,
    created_by: group.actorId,
    create_token: group.createToken,
  });
  if (!id) {
    // Refused by a unique index: the number is taken, or this form was saved already (double submit: its token first).
    const existing = group.createToken && (await findGroupByToken(trx, group.createToken));
    if (existing) return { ...existing, duplicate: true };
    const holder = group.group_number && (await findGroupNumberHolder(trx, group.group_number));
    if (holder) throw new GroupNumberTaken(group.group_number!, holder);
    throw new Error('the new group was refused by a unique index but nothing holds its number or token');
  }
  await saveAssignment(trx, groupTarget, [id], group.assignment);
  const number = group.generateNumber ? await generateNumber(trx, id) : group.group_number;
  return { id, group_number: number, duplicate: false };
}

/**
 * Runs the creation in the caller's transaction, or in one of its own. With
 * "Nummer erzeugen" and the database given, that is withNumberTransaction, which
 * runs it again when the number was taken meanwhile or the circle's lock timed
 * out; a caller passing its own transaction gets NumberTakenMeanwhile instead
 * and retries the whole of it (numbers' withNumberTransaction does).
 */
function creating(conn: Conn, group: NewGroup): Promise<CreatedGroup> {
  const work = (trx: Knex.Transaction) => insert(trx, group);
  if (group.generateNumber && !(conn as Knex.Transaction).isTransaction) return withNumberTransaction(conn as Db, work);
  return inTransaction(conn, work);
}

/**
 * Creates a static or a temporary group, in the caller's transaction (or its own).
 * A temporary group belongs to `ownerId` (default: the actor), is seen by nobody
 * else, and expires 24 h from now; without a name it is called "Temporär 27.11. 14:05".
 * Static groups need a name (Invalid `name`). `generateNumber` ("Nummer
 * erzeugen") takes the next free number of the groups' default circle instead
 * of `group_number` (see `creating` for the retry). A taken number raises
 * GroupNumberTaken; an assignment to unknown or inactive employees, Invalid.
 * `createToken` (the dialog's) makes a repeated submit return the first group.
 */
export async function createGroup(
  conn: Conn,
  input: {
    name?: string | null;
    group_number?: string | null;
    generateNumber?: boolean;
    kind: 'static' | 'temporary';
    assignment: AssignmentInput;
    ownerId?: string;
    actorId: string;
    createToken?: string;
  },
): Promise<CreatedGroup> {
  const temporary = input.kind === 'temporary';
  const name = input.name?.trim() || (temporary ? temporaryName(new Date()) : '');
  if (!name) throw new Invalid({ name: 'validation.required' });
  return creating(conn, {
    name,
    group_number: input.group_number?.trim() || null,
    generateNumber: Boolean(input.generateNumber),
    kind: input.kind,
    filter: null,
    ownerId: temporary ? (input.ownerId ?? input.actorId) : null,
    assignment: input.assignment,
    actorId: input.actorId,
    createToken: input.createToken ?? null,
  });
}

/**
 * Saves a list filter as a dynamic group: its members are whatever the filter
 * matches when asked. The filter is validated again with the list's own schema
 * (Invalid `filter` when it no longer passes) and stored as parsed. Name,
 * number and assignment as for createGroup.
 */
export async function createDynamicGroup(
  conn: Conn,
  input: {
    name: string;
    group_number?: string | null;
    generateNumber?: boolean;
    filter: ListFilter;
    assignment: AssignmentInput;
    actorId: string;
    createToken?: string;
  },
): Promise<CreatedGroup> {
  const filter = ListFilter.safeParse(input.filter);
  if (!filter.success) throw new Invalid({ filter: 'groups.invalidFilter' }, 'groups.invalidFilter');
  const name = input.name?.trim();
  if (!name) throw new Invalid({ name: 'validation.required' });
  return creating(conn, {
    name,
    group_number: input.group_number?.trim() || null,
    generateNumber: Boolean(input.generateNumber),
    kind: 'dynamic',
    filter: filter.data,
    ownerId: null,
    assignment: input.assignment,
    actorId: input.actorId,
    createToken: input.createToken ?? null,
  });
}

/**
 * Adds contacts to a static or temporary group, set-based, in the caller's
 * transaction (or its own). `contacts` are ids or a query selecting `c.id`
 * from `contacts as c` (the "all matching" selection, never a list built in
 * the browser). Only statuses that may be grouped (capability table) are
 * added; the others come back counted by status in `skipped`. Contacts already
 * in the group are left alone and not counted. Each added contact gets a
 * `group_added` history event and its responsible employees a notification.
 * Raises NotFound for a group the actor cannot see, Conflict for a dynamic group.
 */
export async function addMembers(
  conn: Conn,
  groupId: string,
  contacts: ContactIds,
  actorId: string,
): Promise<{ added: number; skipped: { status: Status; count: number }[] }> {
  return inTransaction(conn, async (trx) => {
    const group = await lockGroup(trx, groupId, actorId);
    if (group.kind === 'dynamic') throw new Conflict('groups.dynamicMembers');
    if (Array.isArray(contacts) && !contacts.length) return { added: 0, skipped: [] };
    const { added, skipped, eventIds } = await insertMembers(trx, group, contacts, statusesAllowing('group'), actorId);
    await notifyResponsible(trx, eventIds);
    return { added, skipped };
  });
}

/**
 * Takes contacts out of a static or temporary group, whatever their status, in
 * the caller's transaction (or its own); `contacts` as for addMembers. Each
 * contact that was a member gets a `group_removed` history event (and its
 * responsible employees a notification). Raises NotFound / Conflict like addMembers.
 */
export async function removeMembers(conn: Conn, groupId: string, contacts: ContactIds, actorId: string): Promise<{ removed: number }> {
  return inTransaction(conn, async (trx) => {
    const group = await lockGroup(trx, groupId, actorId);
    if (group.kind === 'dynamic') throw new Conflict('groups.dynamicMembers');
    if (Array.isArray(contacts) && !contacts.length) return { removed: 0 };
    const { removed, eventIds } = await deleteMembers(trx, group, contacts, actorId);
    await notifyResponsible(trx, eventIds);
    return { removed };
  });
}

/** Two saves racing for one number: the unique index decides, the loser gets the same message as after the check. */
async function translateUniqueViolation<T>(db: Db, number: string | null, exceptId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const e = error as { code?: string; constraint?: string };
    if (e.code === UNIQUE_VIOLATION && e.constraint === 'groups_number_unique' && number) {
      throw new GroupNumberTaken(number, (await findGroupNumberHolder(db, number, exceptId)) ?? { id: '', name: '?' });
    }
    throw error;
  }
}

/**
 * Renames and renumbers a group; with `generateNumber` ("Nummer erzeugen", for a
 * group without a number) the number comes from the groups' default circle, in a
 * transaction retried when a number was taken meanwhile. Groups are shared: any
 * employee may, except with someone else's temporary group (NotFound).
 */
export async function updateGroup(
  db: Db,
  id: string,
  fields: GroupFields & { generateNumber?: boolean; seen?: { name: string; group_number: string | null } },
  actorId: string,
): Promise<{ group: Group; changed: boolean }> {
  const { generateNumber: generate = false, seen, ...values } = fields;
  if (generate && values.group_number) throw new Invalid({ group_number: 'groups.numberOrGenerate' });
  const work = async (trx: Knex.Transaction) => {
    const group = await lockGroup(trx, id, actorId);
    const current = { name: group.name, group_number: group.group_number ?? null };
    const changedMeanwhile = seen && (seen.name !== current.name || (seen.group_number ?? null) !== current.group_number);
    const sameAsNow = values.name === current.name && values.group_number === current.group_number;
    if (changedMeanwhile && !sameAsNow) throw new GroupChangedMeanwhile(current);
    if (generate && group.group_number) throw new Invalid({ group_number: 'groups.alreadyNumbered' });
    const changed = generate || group.name !== values.name || (group.group_number ?? null) !== values.group_number;
    if (!changed) return { group, changed };
    if (!generate && (group.group_number ?? '').toLowerCase() !== (values.group_number ?? '').toLowerCase()) await assertNumberFree(trx, values.group_number, id);
    await updateGroupRow(trx, id, values);
    const number = generate ? await generateNumber(trx, id) : values.group_number;
    return { group: { ...group, ...values, group_number: number }, changed };
  };
  return translateUniqueViolation(db, values.group_number, id, () => (generate ? withNumberTransaction(db, work) : db.transaction(work)));
}

/** Re-assigns a group; false when nothing changed. */
export async function changeGroupAssignment(db: Db, id: string, assignment: AssignmentInput, actorId: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    // The competence before the group, as reassigning a competence locks them (no deadlock between the two).
    // As for a contact (changeAssignment): changed meanwhile is told first, and again under the lock.
    const seenNow = (await loadAssignments(trx, groupTarget, [id])).get(id);
    assertAssignmentUnchanged(assignment, seenNow);
    await validateAssignment(trx, assignment, keptAssignees(seenNow));
    // Nobody else sees a temporary group: its page offers no assignment, and a form sent anyway is refused.
    if ((await lockGroup(trx, id, actorId)).kind === 'temporary') throw new Conflict('groups.temporaryAssignment');
    const before = (await loadAssignments(trx, groupTarget, [id])).get(id);
    assertAssignmentUnchanged(assignment, before);
    await saveAssignment(trx, groupTarget, [id], assignment);
    const after = (await loadAssignments(trx, groupTarget, [id])).get(id);
    if (sameAssignment(before, after)) return false;
    await updateGroupRow(trx, id, {});
    return true;
  });
}

/**
 * Deletes a group; its contacts stay, only the memberships go. Those of a
 * group everyone sees are ended as "Aus Gruppe entfernen" ends them, in each
 * member's history (and told to those responsible): a deleted group left no
 * trace, and a history's last word on it was "zur Gruppe hinzugefügt".
 */
export async function deleteGroup(db: Db, id: string, actorId: string): Promise<Group> {
  return db.transaction(async (trx) => {
    const group = await lockGroup(trx, id, actorId);
    if (group.kind === 'static') {
      const { eventIds } = await deleteMembers(trx, group, trx('group_members').select('contact_id').where({ group_id: id }), actorId);
      await notifyResponsible(trx, eventIds);
    }
    await deleteGroupRow(trx, id);
    return group;
  });
}

/** "In dauerhafte Gruppe umwandeln": the owner's temporary group becomes a static group everyone sees, with no expiry. */
export async function keepGroup(db: Db, id: string, actorId: string): Promise<Group> {
  return db.transaction(async (trx) => {
    const group = await lockGroup(trx, id, actorId);
    if (group.kind !== 'temporary') throw new Conflict('groups.notTemporary');
    // Only prospects and customers are grouped (capability table): a summary's group may hold the archived contacts it showed.
    const ungroupable = await countUnkeepableMembers(trx, id);
    if (ungroupable) throw new Conflict('groups.keepUngroupable', { count: ungroupable });
    await updateGroupRow(trx, id, { kind: 'static', owner_id: null, expires_at: null });
    // Its members were not recorded while it was temporary: now they join a group everyone sees.
    await notifyResponsible(trx, await recordMembers(trx, group, actorId));
    return group;
  });
}

/**
 * At logout: the employee's temporary groups go with their last session. Logged in
 * elsewhere too (another PC), they stay for it; the purge takes them once no session is left.
 */
export async function dropTemporaryGroups(db: Conn, userId: string, endingSid: string): Promise<number> {
  return deleteTemporaryGroupsOf(db, userId, endingSid);
}

/**
 * Temporary groups older than 24 h (queries ignore them already; this frees
 * their rows), and those of employees no longer logged in: a logout by the
 * idle or 12-hour timeout takes them as the logout button does, within the
 * purge interval.
 */
export async function purgeExpiredGroups(db: Conn): Promise<number> {
  return deleteExpiredGroups(db);
}

export const PURGE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Purges expired temporary groups now and every 10 minutes, without a cron:
 * every app instance does it, which is harmless (a delete of what is expired).
 * The timer does not keep the process alive; the returned function stops it.
 */
export function startGroupExpiry(db: Db, logger: Logger): () => void {
  const purge = () =>
    purgeExpiredGroups(db).then(
      (count) => count && logger.info({ count }, 'expired temporary groups removed'),
      (error) => logger.warn({ err: error }, 'removing expired temporary groups failed; trying again later'),
    );
  void purge();
  const timer = setInterval(purge, PURGE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
