import type { Knex } from 'knex';
import type { Db } from '../db/knex';

type Conn = Db | Knex.Transaction;

export interface ApiToken {
  id: string;
  name: string;
  created_at: Date;
  created_by_name: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Tokens as the settings show them, with who made them; the hash never leaves the database. */
function tokensShown(db: Conn) {
  return db('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.created_by')
    .select('t.id', 't.name', 't.created_at', 'u.name as created_by_name', 't.last_used_at', 't.revoked_at');
}

/** Every token, newest first. */
export async function listTokens(db: Conn): Promise<ApiToken[]> {
  const rows = await tokensShown(db).orderBy('t.id', 'desc');
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

/** The new token's id, or undefined when its form (create_token) made one already. */
export async function insertToken(db: Conn, token: { name: string; token_hash: string; created_by: string; create_token: string }): Promise<string | undefined> {
  const [row] = await db('api_tokens').insert(token).onConflict(db.raw('(create_token) where create_token is not null')).ignore().returning('id');
  return row ? String(row.id) : undefined;
}

/** One token as the list shows it. */
export async function findToken(db: Conn, id: string): Promise<ApiToken | undefined> {
  const row = await tokensShown(db).where('t.id', id).first();
  return row ? { ...row, id: String(row.id) } : undefined;
}

/** Revokes a token once; revoking it again changes nothing. Undefined when there is no such token. */
export async function revokeToken(db: Conn, id: string): Promise<{ name: string } | undefined> {
  await db('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
  return db('api_tokens').select('name').where({ id }).first();
}

/**
 * The unrevoked token with this hash, marked as used now: the lookup and the
 * mark are one statement, so a revocation in between cannot be missed.
 */
export async function useToken(db: Conn, tokenHash: string): Promise<{ id: string; name: string } | undefined> {
  const [row] = await db('api_tokens')
    .where({ token_hash: tokenHash })
    .whereNull('revoked_at')
    .update({ last_used_at: db.fn.now() })
    .returning(['id', 'name']);
  return row && { id: String(row.id), name: row.name };
}

/**
 * Takes an `Idempotency-Key` for this request, or returns what it was taken
 * for before (committed: a request sending the same key at the same moment is
 * waited for). A key whose event is gone with its contact is free again.
 */
export async function claimKey(trx: Knex.Transaction, tokenId: string, key: string, requestHash: string): Promise<{ request_hash: string; event_id: string } | undefined> {
  for (;;) {
    const { rows } = await trx.raw('insert into api_message_keys (token_id, key, request_hash) values (?, ?, ?) on conflict do nothing returning key', [tokenId, key, requestHash]);
    if (rows.length) return undefined;
    const earlier = await trx('api_message_keys').select('request_hash', 'event_id').where({ token_id: tokenId, key }).first();
    if (earlier) return { request_hash: earlier.request_hash, event_id: String(earlier.event_id) };
  }
}
