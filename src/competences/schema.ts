import { z } from 'zod';
import { requiredText } from '../web/validation';

/** Ids are bigint serials; anything else in the URL names no competence. */
export const CompetenceId = z.string().regex(/^[1-9][0-9]{0,17}$/);
export type CompetenceId = z.infer<typeof CompetenceId>;

const id = z.string().regex(/^[1-9][0-9]{0,17}$/, 'competences.invalidMember');
const oneOrMany = (v: unknown) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v.filter((x) => x !== '') : [v]);

/** A competence (team) as the form sends it: a name and the checked employees (`member_ids`). */
export const CompetenceInput = z
  .object({
    name: requiredText(100),
    member_ids: z.preprocess(oneOrMany, z.array(id, 'competences.invalidMember').max(500)),
  })
  .transform((v) => ({ name: v.name, memberIds: [...new Set(v.member_ids)] }));
export type CompetenceInput = z.infer<typeof CompetenceInput>;

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
