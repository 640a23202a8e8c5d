import { z } from 'zod';
import { RecordId, recordId, requiredText } from '../web/validation';

/** Ids are bigint serials; anything else in the URL names no competence. */
export const CompetenceId = RecordId;
export type CompetenceId = z.infer<typeof CompetenceId>;

const id = recordId('competences.invalidMember');
const oneOrMany = (v: unknown) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v.filter((x) => x !== '') : [v]);

/** A competence (team) as the form sends it: a name and the checked employees (`member_ids`). */
export const CompetenceInput = z
  .object({
    name: requiredText(100),
    member_ids: z.preprocess(oneOrMany, z.array(id, 'competences.invalidMember').max(500)),
    /** "Trotzdem ohne Mitglieder speichern": asked when the last members go while contacts or groups are assigned. */
    without_members: z.literal('1').optional().catch(undefined),
  })
  .transform((v) => ({ name: v.name, memberIds: [...new Set(v.member_ids)], withoutMembers: v.without_members === '1' }));
export type CompetenceInput = z.infer<typeof CompetenceInput>;

/**
 * What the edit form showed (`seen_name`, `seen_member_ids`: the members' ids,
 * comma-separated): a save then changes only what the admin changed, and two
 * admins changing the same thing is noticed (updateCompetence).
 */
export const CompetenceSeen = z
  .object({
    seen_name: z.string().max(100).optional(),
    seen_member_ids: z.string().regex(/^([1-9][0-9]{0,17}(,[1-9][0-9]{0,17})*)?$/).max(10_000).optional(),
  })
  .transform((v) => (v.seen_name === undefined || v.seen_member_ids === undefined ? undefined : { name: v.seen_name, memberIds: v.seen_member_ids ? v.seen_member_ids.split(',') : [] }));
export type CompetenceSeen = z.infer<typeof CompetenceSeen>;

/**
 * Where the contacts of a competence about to be deleted go: `to` is "all"
 * (Alle Mitarbeiter) or another competence's id.
 */
export const Reassignment = z
  .object({
    to: z.string('competences.chooseTarget').regex(/^(all|[1-9][0-9]{0,17})$/, 'competences.chooseTarget'),
  })
  .transform((v) => (v.to === 'all' ? { kind: 'all' as const } : { kind: 'competence' as const, competenceId: v.to }));
export type Reassignment = z.infer<typeof Reassignment>;
