import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import type { Language } from '../i18n';
import { Invalid } from '../web/errors';
import { hashPassword, verifyPassword } from './passwords';
import { findPasswordHash, insertUser, deleteSessionsOf, updateUser } from './queries';

/**
 * Makes sure the admin named in ADMIN_EMAIL exists. An existing account is never
 * changed silently: its password and role stay as they are, and the log says so.
 */
export async function ensureAdmin(db: Db, admin: { email: string; password: string }, logger: Logger): Promise<void> {
  const existing = await db('users').select('id', 'role', 'active').whereRaw('lower(email) = lower(?)', [admin.email]).first();
  if (existing) {
    if (existing.role !== 'admin' || !existing.active) {
      logger.warn({ email: admin.email }, 'ADMIN_EMAIL names an existing employee who is not an active admin; left unchanged');
    }
    return;
  }
  const name = admin.email.split('@')[0];
  await insertUser(db, { name, email: admin.email, passwordHash: await hashPassword(admin.password), role: 'admin' });
  logger.info({ email: admin.email }, 'created the admin from ADMIN_EMAIL');
}

export async function changeLanguage(db: Db, userId: string, language: Language): Promise<void> {
  await updateUser(db, userId, { language });
}

/** Changes the own password; every other session of the employee ends. */
export async function changePassword(
  db: Db,
  userId: string,
  sid: string,
  input: { current_password: string; new_password: string },
): Promise<void> {
  const passwordHash = await findPasswordHash(db, userId);
  if (!passwordHash || !(await verifyPassword(passwordHash, input.current_password))) {
    throw new Invalid({ current_password: 'profile.wrongPassword' });
  }
  await updateUser(db, userId, { password_hash: await hashPassword(input.new_password) });
  await deleteSessionsOf(db, userId, sid);
}

