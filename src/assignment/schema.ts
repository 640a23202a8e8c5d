import { z } from 'zod';
import { recordId } from '../web/validation';

export const assignmentKinds = ['all', 'users', 'competence'] as const;
export type AssignmentKind = (typeof assignmentKinds)[number];

const oneOrMany = (v: unknown) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v.filter((x) => x !== '') : [v]);

/**
 * The assignment as a form sends it: `assignment` (all | users | competence),
 * `assignee_ids` (one or more employees) and `competence_id`. Used by contacts
 * and groups alike.
 */
export const AssignmentInput = z
  .object({
    assignment: z.preprocess((v) => (v === '' || v === undefined ? 'all' : v), z.enum(assignmentKinds, 'assignment.invalid.kind')),
    assignee_ids: z.preprocess(oneOrMany, z.array(recordId('assignment.invalid.users'), 'assignment.invalid.users').max(100)),
    competence_id: z.preprocess((v) => (v === '' ? undefined : v), recordId('assignment.invalid.unknownCompetence').optional()),
    // The assignment the form showed (assignmentKey), on forms that change an existing one.
    seen_assignment: z.string().max(4000).optional(),
  })
  .transform((v): { kind: AssignmentKind; userIds: string[]; competenceId: string | undefined; seen?: string } => ({
    kind: v.assignment,
    userIds: v.assignment === 'users' ? [...new Set(v.assignee_ids)] : [],
    competenceId: v.assignment === 'competence' ? v.competence_id : undefined,
    seen: v.seen_assignment,
  }))
  .superRefine((v, ctx) => {
    if (v.kind === 'users' && !v.userIds.length) ctx.addIssue({ code: 'custom', path: ['assignee_ids'], message: 'assignment.invalid.noUsers' });
    if (v.kind === 'competence' && !v.competenceId) ctx.addIssue({ code: 'custom', path: ['competence_id'], message: 'assignment.invalid.noCompetence' });
  });
export type AssignmentInput = z.infer<typeof AssignmentInput>;

/** The assignment fields of a form, for schemas that include them (contacts, groups). */
export const assignmentFields = {
  assignment: z.unknown().optional(),
  assignee_ids: z.unknown().optional(),
  competence_id: z.unknown().optional(),
  seen_assignment: z.unknown().optional(),
};
