import { z } from 'zod';
import { RecordId, requiredText } from '../web/validation';

export const targets = ['contacts', 'groups'] as const;
export type Target = (typeof targets)[number];

/** The same set as the database check (migrations/20261127120000_create_number_circles.ts). */
const affixPattern = /^(?:[A-Za-z0-9_./-](?:[A-Za-z0-9_./ -]*[A-Za-z0-9_./-])?)?$/;

const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);

const affix = z.preprocess(
  (v) => (v === undefined ? '' : trimmed(v)),
  z.string().max(10, 'numbers.affixTooLong').regex(affixPattern, 'numbers.affixInvalid'),
);

/** Unchecked checkboxes send nothing. */
const checkbox = z.preprocess((v) => v === 'on' || v === 'true' || v === '1' || v === true, z.boolean());

/** Values stay exact in JavaScript numbers (and far below bigint's limit). */
export const MAX_NEXT_VALUE = 999_999_999_999_999;

/** A whole number typed into a form field, within the bounds; the message when it is not. */
const wholeNumber = (min: number, max: number, message: 'numbers.digitsRange' | 'numbers.nextValueInvalid') =>
  z.preprocess(
    trimmed,
    z
      .string()
      .min(1, 'validation.required')
      .regex(/^[0-9]{1,16}$/, message)
      .transform(Number)
      .refine((n) => n >= min && n <= max, message),
  );

const CircleFields = z.object({
  name: requiredText(100),
  prefix: affix,
  suffix: affix,
  digits: wholeNumber(1, 12, 'numbers.digitsRange'),
  // Up to MAX_NEXT_VALUE when typed; beyond it only as the form showed it (CircleInput).
  next_value: wholeNumber(1, Number.MAX_SAFE_INTEGER, 'numbers.nextValueInvalid'),
  /**
   * The next value the edit form showed. When the admin left the field as it was,
   * the circle keeps the value it has reached meanwhile: numbers handed out while
   * the form was open are not given out again.
   */
  shown_next_value: z.preprocess(trimmed, z.string().regex(/^[0-9]{1,16}$/).transform(Number).optional()).catch(undefined),
  target: z.enum(targets, 'numbers.targetInvalid'),
  is_default: checkbox,
  active: checkbox,
});

/** A value one may type: beyond it, numbers would no longer be exact in JavaScript. */
const typeable = (v: { next_value: number }) => v.next_value <= MAX_NEXT_VALUE;

export const CircleInput = CircleFields.refine((v) => v.active || !v.is_default, {
  path: ['active'],
  message: 'numbers.defaultMustBeActive',
})
  // A circle that numbering has carried past the highest value one may type is still saved with it
  // left as shown (it then stays where it is): the admin could rename it, or take away "Standard", no more.
  .refine((v) => typeable(v) || v.next_value === v.shown_next_value, {
    path: ['next_value'],
    message: 'numbers.nextValueInvalid',
  });
export type CircleInput = z.infer<typeof CircleInput>;

/**
 * A new circle, with its form's token, so that the form sent twice makes one circle. It has no value
 * of its own to leave as shown: its next value is one that may be typed.
 */
export const CircleCreate = CircleInput.and(z.object({ create_token: z.uuid() })).refine(typeable, { path: ['next_value'], message: 'numbers.nextValueInvalid' });
export type CircleCreate = z.infer<typeof CircleCreate>;

/**
 * What the edit form showed of the circle's settings (hidden `seen_*` fields):
 * saved over a change another admin made meanwhile, a field left as shown
 * takes what is saved now, and one changed on both sides is refused
 * (updateCircleSettings). A form without them (from before) is saved as typed.
 */
export const CircleSeen = z
  .object({
    seen_name: z.string(),
    seen_prefix: z.string(),
    seen_suffix: z.string(),
    seen_digits: z.string().regex(/^[0-9]{1,2}$/).transform(Number),
    seen_target: z.enum(targets),
    seen_is_default: z.enum(['true', 'false']).transform((v) => v === 'true'),
    seen_active: z.enum(['true', 'false']).transform((v) => v === 'true'),
  })
  .transform((v) => ({ name: v.seen_name, prefix: v.seen_prefix, suffix: v.seen_suffix, digits: v.seen_digits, target: v.seen_target, is_default: v.seen_is_default, active: v.seen_active }));
export type CircleSeen = z.infer<typeof CircleSeen>;

/** The live preview in the form: only what formatting needs. */
export const PreviewInput = CircleFields.pick({ prefix: true, suffix: true, digits: true, next_value: true, target: true }).refine(typeable);
export type PreviewInput = z.infer<typeof PreviewInput>;

export const CircleId = RecordId;
export type CircleId = z.infer<typeof CircleId>;
