import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { notifyResponsible } from '../notifications/queries';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { mergeEdit } from '../web/merge';
import {
  deleteCompetence,
  findCompetence,
  insertCompetence,
  isNameTaken,
  lockCompetences,
  membersOf,
  moveFilters,
  moveContacts,
  moveGroups,
  renameCompetence,
  setMembers,
  usageOf,
  type Competence,
  type Usage,
} from './queries';
import type { CompetenceInput, CompetenceSeen, Reassignment } from './schema';

const nameTaken = () => new Invalid({ name: 'competences.nameTaken' });

/** The unique index on lower(name) catches what the check before it cannot see: a concurrent save. */
function isDuplicateName(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'competences_name_unique';
}

/**
 * Members must exist and be active; a deactivated employee may stay in a
 * competence they already belong to, but cannot be added. Locks the chosen
 * employees so a deactivation cannot slip in between.
 */
async function checkMembers(trx: Knex.Transaction, userIds: string[], competenceId?: string): Promise<void> {
  if (!userIds.length) return;
  const found = await trx('users').select('id', 'active').whereIn('id', userIds).forShare();
  if (found.length !== userIds.length) throw new Invalid({ member_ids: 'competences.unknownMember' });
  const inactive = found.filter((u) => !u.active).map((u) => String(u.id));
  if (!inactive.length) return;
  const current = competenceId ? (await membersOf(trx, [competenceId])).get(competenceId) ?? [] : [];
  if (inactive.some((id) => !current.some((m) => m.id === id))) throw new Invalid({ member_ids: 'competences.inactiveMember' });
}

export async function createCompetence(db: Db, input: CompetenceInput): Promise<string> {
  try {
    return await db.transaction(async (trx) => {
      if (await isNameTaken(trx, input.name)) throw nameTaken();
      await checkMembers(trx, input.memberIds);
      const id = await insertCompetence(trx, input.name);
      await setMembers(trx, id, input.memberIds);
      return id;
    });
  } catch (error) {
    if (isDuplicateName(error)) throw nameTaken();
    throw error;
  }
}

type Edited = { name: string; memberIds: string[] };

/**
 * Another admin saved the same competence while this form was open, changing
 * what this form changes too. `untouched`: the fields the form had left alone,
 * which the form shows again with what is saved now.
 */
export class CompetenceChanged extends Conflict {
  constructor(
    readonly current: Edited,
    readonly untouched: (keyof Edited)[],
  ) {
    super('competences.changedMeanwhile');
  }
}

const sameIds = (a: string[], b: string[]) => [...a].sort().join(',') === [...b].sort().join(',');

/**
 * Renames a competence and sets its members; 404 when it was deleted
 * meanwhile. With what the form showed (`seen`), a field the admin left as it
 * was keeps what is saved now: renaming in one tab no longer empties the
 * members another tab added meanwhile. A field both changed, to different
 * values, is refused (CompetenceChanged), nothing written (mergeEdit).
 */
export async function updateCompetence(db: Db, id: string, input: CompetenceInput, seen?: CompetenceSeen): Promise<void> {
  try {
    await db.transaction(async (trx) => {
      const [locked] = await lockCompetences(trx, [id]);
      if (!locked) throw new NotFound();
      let { name, memberIds } = input;
      if (seen) {
        const current = { name: locked.name, memberIds: ((await membersOf(trx, [id])).get(id) ?? []).map((m) => m.id) };
        const same = (field: keyof Edited, a: unknown, b: unknown) => (field === 'memberIds' ? sameIds(a as string[], b as string[]) : a === b);
        const { merged, untouched, clashes } = mergeEdit(['name', 'memberIds'], { wanted: { name, memberIds }, seen, current }, same);
        if (clashes.length) throw new CompetenceChanged(current, untouched);
        ({ name, memberIds } = merged);
      }
      if (await isNameTaken(trx, name, id)) throw nameTaken();
      await checkMembers(trx, memberIds, id);
      if (!memberIds.length && !input.withoutMembers) {
        // Its last members going: nobody would be responsible for what is assigned to it, and nobody told of it.
        const usage = await usageOf(trx, id);
        const hadMembers = ((await membersOf(trx, [id])).get(id) ?? []).length > 0;
        if (hadMembers && usage.contacts + usage.groups > 0) throw new LeftWithoutMembers(usage);
      }
      await renameCompetence(trx, id, name);
      await setMembers(trx, id, memberIds);
    });
  } catch (error) {
    if (isDuplicateName(error)) throw nameTaken();
    throw error;
  }
}

/** The last members of a competence that contacts or groups are assigned to would go: the admin is asked first. */
export class LeftWithoutMembers extends Error {
  constructor(readonly usage: Usage) {
    super('the competence would be left without members while in use');
  }
}

/** A competence and what keeps it from being deleted, for the confirmation. */
export async function deletionCheck(db: Db, id: string): Promise<Competence & { usage: Usage }> {
  const competence = await findCompetence(db, id);
  if (!competence) throw new NotFound();
  return { ...competence, usage: await usageOf(db, id) };
}

/**
 * Deletes a competence that nothing is assigned to any more. Refused (409)
 * while contacts or groups are; the confirmation then offers to reassign them.
 */
export async function removeCompetence(db: Db, id: string): Promise<Competence> {
  try {
    return await db.transaction(async (trx) => {
      const [competence] = await lockCompetences(trx, [id]);
      if (!competence) throw new NotFound();
      const usage = await usageOf(trx, id);
      if (usage.contacts + usage.groups + (usage.filters?.length ?? 0) > 0) throw new Conflict();
      await deleteCompetence(trx, id);
      return competence;
    });
  } catch (error) {
    // The foreign key (no cascade) is the last line: something was assigned after the count.
    if ((error as { code?: string })?.code === '23503') throw new Conflict();
    throw error;
  }
}

/**
 * Moves everything assigned to a competence (contacts whatever their status:
 * an archived contact keeps a competence from being deleted as much as an
 * active one; and groups) to all employees or to another competence, in one
 * transaction: one update per table, one history event per contact, the
 * notifications for the newly responsible.
 */
export async function reassign(
  db: Db,
  id: string,
  target: Reassignment,
  actorId: string,
): Promise<{ competence: Competence; moved: { contacts: number; groups: number; filters: number }; to: string | undefined }> {
  return db.transaction(async (trx) => {
    const targetId = target.kind === 'competence' ? target.competenceId : undefined;
    if (targetId === id) throw new Invalid({ to: 'competences.sameTarget' });
    const locked = await lockCompetences(trx, targetId ? [id, targetId] : [id]);
    const competence = locked.find((k) => k.id === id);
    if (!competence) throw new NotFound();
    const destination = targetId ? locked.find((k) => k.id === targetId) : undefined;
    if (targetId && !destination) throw new Invalid({ to: 'competences.unknownTarget' });

    const to = { kind: target.kind, competenceId: targetId };
    const eventIds = await moveContacts(trx, id, to, actorId, {
      from: { kind: 'competence', names: [competence.name], id },
      to: { kind: target.kind, names: destination ? [destination.name] : [], ...(targetId ? { id: targetId } : {}) },
    });
    // Its members learn where their contacts went; the newly responsible, that they have them.
    await notifyResponsible(trx, eventIds, { reassigned: true });
    const groups = await moveGroups(trx, id, to);
    // To another competence, the dynamic groups filtering by this one follow; to all employees there is
    // nothing to filter by instead, and they keep the competence from being deleted (usageOf).
    const filters = targetId ? await moveFilters(trx, id, targetId) : 0;
    return { competence, moved: { contacts: eventIds.length, groups, filters }, to: destination?.name };
  });
}
