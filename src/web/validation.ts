import { z } from 'zod';
import type { MessageKey, Translate } from '../i18n';
import type { Invalid } from './errors';

export type FieldErrors = Record<string, string>;

/**
 * A record's id as the app writes it (bigint serials): digits, no leading zero. "0x11", "1e1", " 17" or
 * "017" name nothing; read as numbers they named contact 17 or 10, and a note or a delete went there.
 */
export const recordId = (message?: string) => z.string().regex(/^[1-9][0-9]{0,17}$/, message);
export const RecordId = recordId();
export const isRecordId = (value: unknown): value is string => RecordId.safeParse(value).success;

export type Parsed<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/**
 * Turns zod issues into one German (or English) message per field. Schemas may
 * use a catalogue key as their message (`'validation.email'`); everything else
 * is derived from the issue code.
 */
export function fieldErrors(error: z.ZodError, t: Translate): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = issue.path.length ? String(issue.path[0]) : '_form';
    if (errors[field]) continue;
    errors[field] = issueMessage(issue, t);
  }
  return errors;
}

function issueMessage(issue: z.core.$ZodIssue, t: Translate): string {
  if (issue.message && /^[a-z][A-Za-z]*\.[A-Za-z0-9_.]+$/.test(issue.message)) return t(issue.message as MessageKey);
  switch (issue.code) {
    case 'too_big':
      return t('validation.tooLong', { max: Number(issue.maximum) });
    case 'too_small':
      return Number(issue.minimum) <= 1 ? t('validation.required') : t('validation.tooShort', { min: Number(issue.minimum) });
    case 'invalid_format':
      return issue.format === 'email' ? t('validation.email') : t('validation.invalid');
    case 'invalid_type':
      return issue.input === undefined ? t('validation.required') : t('validation.invalid');
    default:
      return t('validation.invalid');
  }
}

export function parse<S extends z.ZodType>(schema: S, input: unknown, t: Translate): Parsed<z.infer<S>> {
  // reportInput: zod 4 leaves the input out of issues otherwise, and "wrong type" would read as "missing".
  const result = schema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, data: result.data } : { ok: false, errors: fieldErrors(result.error, t) };
}

/** Form text: trimmed, and blank means "not given". */
export const text = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim() || undefined : v), z.string().max(max).optional());

export const requiredText = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().min(1, 'validation.required').max(max));

/** The field messages of a service's Invalid, translated (with the values it names, e.g. a taken number). */
export function serviceFieldErrors(error: Invalid, t: Translate): FieldErrors {
  return Object.fromEntries(Object.entries(error.fieldErrors).map(([field, key]) => [field, t(key, error.params)]));
}
