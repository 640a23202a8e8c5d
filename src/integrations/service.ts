import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/knex';
import { insertEvent } from '../contacts/queries';
import { NotFound } from '../web/errors';
import { claimKey, insertToken, revokeToken, useToken } from './queries';
import type { IncomingMessage } from './schema';

const PREFIX = 'kt_';

/** Only this is stored: a leaked table cannot be used to call the API. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Creates a token for an integration and returns it in plain text, the one and
 * only time: 32 random bytes, base64url, with a `kt_` prefix that secret
 * scanners and people can recognise. Undefined when the form with this
 * one-time id (`formToken`) made one already: its key was shown then.
 */
export async function createToken(db: Db, name: string, createdBy: string, formToken: string): Promise<{ id: string; token: string } | undefined> {
  const token = PREFIX + randomBytes(32).toString('base64url');
  const id = await insertToken(db, { name, token_hash: hashToken(token), created_by: createdBy, create_token: formToken });
  return id ? { id, token } : undefined;
}

export async function revoke(db: Db, id: string): Promise<{ name: string }> {
  const token = await revokeToken(db, id);
  if (!token) throw new NotFound();
  return token;
}

/**
 * The integration behind an `Authorization: Bearer …` header, or undefined.
 * Compared by looking up the SHA-256 hash: the secret itself is never compared
 * byte by byte, so there is no timing to measure.
 */
export async function authenticate(db: Db, header: string | undefined): Promise<{ id: string; name: string } | undefined> {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  if (!match || !match[1].startsWith(PREFIX) || match[1].length > 100) return undefined;
  return useToken(db, hashToken(match[1]));
}

/** What a message sent with an `Idempotency-Key` became: its event, or a refusal of the key. */
export type Received = { id: string; replayed: boolean } | { keyReused: true };

/**
 * Records an incoming message in the contact's history and notifies the
 * responsible employees, in one transaction. Every status accepts messages:
 * a customer writing about an archived or new (inbox) contact is news too.
 * With `key` (the request's `Idempotency-Key`), the same message sent again by
 * the same integration (a retry after a timeout) is recorded once: the retry
 * gets the first one's event. Two sent at the same moment wait for each other
 * at the key. The key sent with another message (or another contact) is
 * refused, and nothing is written.
 */
export async function receiveMessage(
  db: Db,
  contactId: string,
  message: IncomingMessage,
  integration: { id: string; name: string },
  key?: string,
): Promise<Received> {
  return db.transaction(async (trx) => {
    if (key) {
      // What was sent with the key, to tell a retry from another message under the same key.
      const requestHash = createHash('sha256')
        .update(JSON.stringify([contactId, message.text, message.source ?? null, message.sender ?? null]), 'utf8')
        .digest('hex');
      const earlier = await claimKey(trx, integration.id, key, requestHash);
      if (earlier && earlier.request_hash !== requestHash) return { keyReused: true as const };
      if (earlier) return { id: String(earlier.event_id), replayed: true };
    }
    // Held until commit, so the contact cannot be deleted under the new event.
    const contact = await trx('contacts').select('id').where({ id: contactId }).forShare().first();
    if (!contact) throw new NotFound();
    const payload = { text: message.text, source: message.source ?? integration.name, ...(message.sender && { sender: message.sender }) };
    const id = await insertEvent(trx, { contact_id: contactId, actor_id: null, kind: 'message', payload });
    if (key) await trx('api_message_keys').where({ token_id: integration.id, key }).update({ event_id: id });
    return { id, replayed: false };
  });
}
