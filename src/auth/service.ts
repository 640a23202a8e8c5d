import type { Db } from '../db/knex';
import { toCount } from '../db/knex';
import { TooManyRequests } from '../web/errors';
import { verifyPassword, timingDummyHash } from '../users/passwords';
import { findLoginCandidate, type CurrentUser } from '../users/queries';

/** After this many failures within the window, per account and per address, logins answer 429. */
export const MAX_FAILURES = 10;
export const FAILURE_WINDOW_MINUTES = 15;

async function isThrottled(db: Db, email: string, ip: string): Promise<boolean> {
  const since = db.raw(`now() - make_interval(mins => ?)`, [FAILURE_WINDOW_MINUTES]);
  const [byAccount, byIp] = await Promise.all([
    db('login_failures').count({ n: '*' }).where('email', email.toLowerCase()).andWhere('at', '>', since).first(),
    db('login_failures').count({ n: '*' }).where('ip', ip).andWhere('at', '>', since).first(),
  ]);
  return toCount(byAccount?.n) >= MAX_FAILURES || toCount(byIp?.n) >= MAX_FAILURES;
}

/**
 * Checks e-mail and password. Returns the employee, or undefined for a wrong
 * combination (also for deactivated accounts: the message does not tell which).
 */
export async function authenticate(db: Db, email: string, password: string, ip: string): Promise<CurrentUser | undefined> {
  if (await isThrottled(db, email, ip)) throw new TooManyRequests('login.throttled');
  const candidate = await findLoginCandidate(db, email);
  const ok = await verifyPassword(candidate?.password_hash ?? (await timingDummyHash()), password);
  if (!candidate || !candidate.active || !ok) {
    await db('login_failures').insert({ email: email.toLowerCase(), ip });
    return undefined;
  }
  await db('login_failures').where('email', email.toLowerCase()).delete();
  await db('login_failures').where('at', '<', db.raw(`now() - interval '1 day'`)).delete();
  return { id: String(candidate.id), name: candidate.name, email: candidate.email, role: candidate.role, language: candidate.language, browser_notifications: candidate.browser_notifications };
}
