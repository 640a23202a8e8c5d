import type { Db } from '../db/knex';
import { toCount } from '../db/knex';
import { TooManyRequests } from '../web/errors';
import { verifyPassword, timingDummyHash } from '../users/passwords';
import { findLoginCandidate, findPasswordHash, type CurrentUser } from '../users/queries';

/**
 * Failures within FAILURE_WINDOW_MINUTES after which a login answers 429: for
 * one account from one address (guessing its password), from one address on
 * any accounts (trying one password on many; higher, as a whole office may sit
 * behind one address), and for one account from anywhere (guessing spread over
 * many addresses; higher still). An account is never locked for its owner by
 * failures from elsewhere below that.
 */
export const LIMITS = { accountFromAddress: 10, address: 30, account: 100 };
export const FAILURE_WINDOW_MINUTES = 15;

/**
 * Counts the failures and records this attempt as one, in one transaction
 * that holds a lock on the account and on the address: parallel attempts
 * otherwise all passed the count before any of them was recorded (40 at once
 * got 15 tries past a limit of 10). A successful login removes the record.
 *
 * The account is counted under the e-mail as PostgreSQL folds it, the way
 * the login looks it up (lower(email) = lower(?)): JavaScript's toLowerCase()
 * folds some letters otherwise ("İ" to "i̇", PostgreSQL to "i"), and every
 * such spelling of one address was counted afresh while logging into the
 * same account.
 */
type Limit = keyof typeof LIMITS;
const allLimits = Object.keys(LIMITS) as Limit[];

async function recordAttempt(db: Db, email: string, ip: string, limits: readonly Limit[] = allLimits): Promise<{ outcome: 'throttled' | 'recorded'; account: string }> {
  return db.transaction(async (trx) => {
    const account: string = (await trx.raw('select lower(trim(?::text)) as account', [email])).rows[0].account;
    // Both locks in one order, so two attempts never wait for each other crosswise.
    await trx.raw('select pg_advisory_xact_lock(k) from (select unnest(array[hashtext(?), hashtext(?)]) as k order by 1) as locks', [`login:${account}`, `login-ip:${ip}`]);
    const counted = await trx('login_failures')
      .select(
        trx.raw('count(*) filter (where email = ? and ip = ?) as "accountFromAddress"', [account, ip]),
        trx.raw('count(*) filter (where ip = ?) as address', [ip]),
        trx.raw('count(*) filter (where email = ?) as account', [account]),
      )
      .where((w) => w.where('email', account).orWhere('ip', ip))
      .andWhere('at', '>', trx.raw(`now() - make_interval(mins => ?)`, [FAILURE_WINDOW_MINUTES]))
      .first();
    const over = limits.some((limit) => toCount(counted?.[limit]) >= LIMITS[limit]);
    if (over) return { outcome: 'throttled', account };
    await trx('login_failures').insert({ email: account, ip });
    return { outcome: 'recorded', account };
  });
}

/** After the right password: the account's failures go, and with them everyone's older than a day. */
async function forgetFailures(db: Db, account: string): Promise<void> {
  await db('login_failures').where('email', account).delete();
  await db('login_failures').where('at', '<', db.raw(`now() - interval '1 day'`)).delete();
}

/**
 * Checks e-mail and password. Returns the employee, undefined for a wrong
 * combination (the message does not tell which of the two is wrong), or
 * 'deactivated' for the right password of a deactivated account: told "E-Mail
 * oder Passwort ist falsch", she typed it again and again, or called for a new
 * one. Only whoever knows the password learns it, and the failure still counts.
 */
export async function authenticate(db: Db, email: string, password: string, ip: string): Promise<CurrentUser | 'deactivated' | undefined> {
  const { outcome, account } = await recordAttempt(db, email, ip);
  if (outcome === 'throttled') throw new TooManyRequests('login.throttled');
  const candidate = await findLoginCandidate(db, email);
  const ok = await verifyPassword(candidate?.password_hash ?? (await timingDummyHash()), password);
  // A failure stays recorded.
  if (!candidate || !ok) return undefined;
  if (!candidate.active) return 'deactivated';
  await forgetFailures(db, account);
  return { id: String(candidate.id), name: candidate.name, email: candidate.email, role: candidate.role, language: candidate.language, browser_notifications: candidate.browser_notifications };
}

/**
 * Whether this is the logged-in employee's password, counted like a login on
 * her account from her address: the profile's "Aktuelles Passwort" let
 * whoever sits at an unlocked PC (or holds the cookie) guess it without
 * limit. Throws TooManyRequests where the login would from this address; the
 * account's limit from anywhere does not apply here, or others failing at the
 * login could keep its owner from changing her password, the remedy for just that.
 */
export async function checkOwnPassword(db: Db, user: Pick<CurrentUser, 'id' | 'email'>, password: string, ip: string): Promise<boolean> {
  const { outcome, account } = await recordAttempt(db, user.email, ip, ['accountFromAddress', 'address']);
  if (outcome === 'throttled') throw new TooManyRequests('profile.throttled');
  const passwordHash = await findPasswordHash(db, user.id);
  const ok = Boolean(passwordHash && (await verifyPassword(passwordHash, password)));
  if (ok) await forgetFailures(db, account);
  return ok;
}
