import { z } from 'zod';
import { RecordId, requiredText } from '../web/validation';

export { RecordId };

/** An admin names a new integration; the name is the default source of its messages, hence 60 characters. */
export const ApiTokenInput = z.object({ name: requiredText(60), create_token: z.uuid() });
export type ApiTokenInput = z.infer<typeof ApiTokenInput>;

const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v === null ? undefined : v);
/** An optional field: null, blank or only spaces count as not sent (many JSON writers send null for "none"). */
const optionalText = (v: unknown) => (typeof v === 'string' ? v.trim() || undefined : v === null ? undefined : v);

/** A string field: "missing" and "not a string" get different messages. */
const string = () =>
  z.string({ error: (issue) => (issue.code !== 'invalid_type' ? undefined : issue.input === undefined ? 'validation.required' : 'validation.invalid') });

/**
 * A message another module reports for a contact (`POST /api/contacts/:id/messages`).
 * `source` names the channel (default: the token's name), `sender` who wrote it.
 */
export const IncomingMessage = z.object({
  text: z.preprocess(trimmed, string().min(1, 'validation.required').max(4000)),
  source: z.preprocess(optionalText, string().max(60).optional()),
  sender: z.preprocess(optionalText, string().max(200).optional()),
});
export type IncomingMessage = z.infer<typeof IncomingMessage>;

/** The `Idempotency-Key` header: 1–255 visible ASCII characters (a UUID, say), or not sent. */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7E]{1,255}$/).optional();
