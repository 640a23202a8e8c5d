import { z } from 'zod';
import { RecordId, requiredText, text } from '../web/validation';

export const GroupId = RecordId;

/** Blank means "no number"; numbers are compared case-insensitively by the database. */
const groupNumber = z.preprocess((v) => (typeof v === 'string' ? v.trim() || null : (v ?? null)), z.string().max(40).nullable());

/** The longest name a group may have (the group page refuses more). */
export const GROUP_NAME_MAX = 100;

/** Name and group number, as the dialog and the group page send them. */
export const GroupFields = z.object({
  name: requiredText(GROUP_NAME_MAX),
  group_number: groupNumber,
});
export type GroupFields = z.infer<typeof GroupFields>;

/** The bulk action "Temporäre Gruppe": a name if one is typed (else the time it was made names it). */
export const TemporaryGroupFields = z.object({ name: text(GROUP_NAME_MAX) });

/** "Nummer erzeugen" ticked: the number comes from the groups' default number circle. */
const generateNumber = z.preprocess((v) => v === '1' || v === 'on', z.boolean());

/** Name and number, or a number to be generated: the bulk action "Neue Gruppe". */
export const GroupFieldsWithNumbering = GroupFields.extend({ generate_number: generateNumber });

/**
 * The group page's form: name and number, or a number to be generated for a
 * group that has none; `seen_*` are the values the page showed, so a save over
 * someone else's change meanwhile is noticed instead of overwriting it.
 */
export const GroupUpdate = GroupFields.extend({
  generate_number: generateNumber,
  seen_name: z.string().max(100).optional(),
  seen_group_number: z.string().max(40).optional(),
});
export type GroupUpdate = z.infer<typeof GroupUpdate>;

/**
 * The "Neue Gruppe" dialog: a static group, or a dynamic one whose filter comes
 * along as the list's own parameters (validated separately by ListFilter).
 */
export const GroupCreate = GroupFields.extend({
  kind: z.preprocess((v) => (v === '' || v === undefined ? 'static' : v), z.enum(['static', 'dynamic'], 'validation.invalid')),
  generate_number: generateNumber,
  create_token: z.uuid(),
});
export type GroupCreate = z.infer<typeof GroupCreate>;

/** `GET /groups/new?kind=dynamic&…filter`: which dialog to show. */
export const NewGroupKind = z.enum(['static', 'dynamic']).catch('static');
