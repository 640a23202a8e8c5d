import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import type { Language } from '../i18n';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { checkOwnPassword } from '../auth/service';
import { hashPassword } from './passwords';
import {
  findEmployee,
  insertUser,
  isEmailTaken,
  deleteSessionsOf,
  lockWithActiveAdmins,
  updateUser,
  type CurrentUser,
  type Employee,
} from './queries';
import type { EmployeeChange, EmployeeInput, EmployeeSeen } from './schema';
import { mergeEdit } from '../web/merge';

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

export async function changeBrowserNotifications(db: Db, userId: string, enabled: boolean): Promise<void> {
  await updateUser(db, userId, { browser_notifications: enabled });
}

/** Changes the own password; every other session of the employee ends. The current one is checked as checkOwnPassword does. */
export async function changePassword(
  db: Db,
  user: Pick<CurrentUser, 'id' | 'email'>,
  session: { id: string; ip: string },
  input: { current_password: string; new_password: string },
): Promise<void> {
  if (!(await checkOwnPassword(db, user, input.current_password, session.ip))) throw new Invalid({ current_password: 'profile.wrongPassword' });
  await updateUser(db, user.id, { password_hash: await hashPassword(input.new_password) });
  await deleteSessionsOf(db, user.id, session.id);
}

const emailTaken = () => new Invalid({ email: 'employees.emailTaken' });

/** The unique index on lower(email) catches what the check before it cannot see: a concurrent save. */
function isDuplicateEmail(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'users_email_unique';
}

export async function createEmployee(db: Db, input: EmployeeInput): Promise<string> {
  if (await isEmailTaken(db, input.email)) throw emailTaken();
  const passwordHash = await hashPassword(input.password);
  try {
    const { name, email, role, language } = input;
    return await insertUser(db, { name, email, role, language, passwordHash });
  } catch (error) {
    if (isDuplicateEmail(error)) throw emailTaken();
    throw error;
  }
}

/**
 * Another admin saved the same employee while this form was open, changing a
 * field this form changes too. `untouched`: the fields the form had left
 * alone, which the form shows again with what is saved now.
 */
export class EmployeeChanged extends Conflict {
  constructor(
    readonly current: EmployeeSeen,
    readonly untouched: (keyof EmployeeSeen)[],
  ) {
    super('employees.changedMeanwhile');
  }
}

/**
 * Saves an admin's edit. The last active admin keeps the role; a new password
 * ends the employee's other sessions (all but `sid`, the editing admin's own).
 * With what the form showed (`seen`), a field the admin left as it was keeps
 * what is saved now: changing the name in one tab no longer undoes the role
 * another tab gave meanwhile. A field both changed, to different values, is
 * refused (EmployeeChanged), nothing written (mergeEdit).
 */
export async function updateEmployee(db: Db, id: string, input: EmployeeChange, sid: string, seen?: EmployeeSeen): Promise<void> {
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  try {
    await db.transaction(async (trx) => {
      const { target, otherAdmins } = await lockForChange(trx, id);
      let wanted: EmployeeSeen = { name: input.name, email: input.email, role: input.role, language: input.language };
      if (seen) {
        const current: EmployeeSeen = { name: target.name, email: target.email, role: target.role, language: target.language };
        const { merged, untouched, clashes } = mergeEdit(['name', 'email', 'role', 'language'], { wanted, seen, current });
        if (clashes.length) throw new EmployeeChanged(current, untouched);
        wanted = merged;
      }
      if (target.role === 'admin' && target.active && wanted.role !== 'admin' && otherAdmins === 0) {
        throw new Conflict('employees.lastAdminRole');
      }
      if (await isEmailTaken(trx, wanted.email, id)) throw emailTaken();
      const { name, email, role, language } = wanted;
      await updateUser(trx, id, { name, email, role, language, ...(passwordHash && { password_hash: passwordHash }) });
      if (passwordHash) await deleteSessionsOf(trx, id, sid);
    });
  } catch (error) {
    if (isDuplicateEmail(error)) throw emailTaken();
    throw error;
  }
}

/**
 * Why an employee may not be deactivated (by `actorId`), or undefined: never the last active admin, never
 * oneself. The deactivation dialog asks before offering it, the deactivation under its locks.
 */
export function deactivationRefusal(target: Pick<Employee, 'role' | 'active'> & { id: string | number }, otherAdmins: boolean, actorId: string): 'employees.lastAdmin' | 'employees.notSelf' | undefined {
  if (target.role === 'admin' && target.active && !otherAdmins) return 'employees.lastAdmin';
  if (String(target.id) === actorId) return 'employees.notSelf';
  return undefined;
}

/** Deactivates an employee and ends their sessions at once; never the last active admin, never oneself. */
export async function deactivateEmployee(db: Db, id: string, actorId: string): Promise<Pick<Employee, 'name'>> {
  return db.transaction(async (trx) => {
    const { target, otherAdmins } = await lockForChange(trx, id);
    const refusal = deactivationRefusal(target, otherAdmins > 0, actorId);
    if (refusal) throw new Conflict(refusal);
    await updateUser(trx, id, { active: false });
    await deleteSessionsOf(trx, id);
    return { name: target.name };
  });
}

export async function reactivateEmployee(db: Db, id: string): Promise<Employee> {
  const employee = await findEmployee(db, id);
  if (!employee) throw new NotFound();
  await updateUser(db, id, { active: true });
  return { ...employee, active: true };
}

/** Locks the employee (404 if missing) and the active admins; counts the admins besides the employee. */
async function lockForChange(trx: Db, id: string) {
  const rows = await lockWithActiveAdmins(trx, id);
  const target = rows.find((row) => String(row.id) === id);
  if (!target) throw new NotFound();
  const otherAdmins = rows.filter((row) => row !== target && row.role === 'admin' && row.active).length;
  return { target, otherAdmins };
}
