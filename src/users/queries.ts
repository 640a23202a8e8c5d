import type { Db } from '../db/knex';
import type { Language } from '../i18n';

export type Role = 'admin' | 'member';

export interface CurrentUser {
  id: string;
  name: string;
  email: string;
  role: Role;
  language: Language;
  /** Whether new notifications also appear as the browser's own (the profile's switch). */
  browser_notifications: boolean;
}

export const currentUserColumns = ['id', 'name', 'email', 'role', 'language', 'browser_notifications'] as const;

export async function findActiveUser(db: Db, id: string): Promise<CurrentUser | undefined> {
  return db('users').select(currentUserColumns).where({ id, active: true }).first();
}

export async function findActiveUserByEmail(db: Db, email: string): Promise<CurrentUser | undefined> {
  return db('users')
    .select(currentUserColumns)
    .whereRaw('lower(email) = lower(?)', [email.trim()])
    .andWhere({ active: true })
    .first();
}

export async function findLoginCandidate(
  db: Db,
  email: string,
): Promise<(CurrentUser & { password_hash: string; active: boolean }) | undefined> {
  return db('users')
    .select([...currentUserColumns, 'password_hash', 'active'])
    .whereRaw('lower(email) = lower(?)', [email.trim()])
    .first();
}

export async function findPasswordHash(db: Db, id: string): Promise<string | undefined> {
  const row = await db('users').select('password_hash').where({ id }).first();
  return row?.password_hash;
}

export interface NewUser {
  name: string;
  email: string;
  passwordHash: string;
  role: Role;
  language?: Language;
}

export async function insertUser(db: Db, user: NewUser): Promise<string> {
  const [row] = await db('users')
    .insert({
      name: user.name,
      email: user.email.trim(),
      password_hash: user.passwordHash,
      role: user.role,
      language: user.language ?? 'de',
    })
    .returning('id');
  return String(row.id);
}

export async function updateUser(
  db: Db,
  id: string,
  changes: Partial<{ name: string; email: string; role: Role; language: Language; password_hash: string; active: boolean; browser_notifications: boolean }>,
): Promise<void> {
  await db('users').where({ id }).update({ ...changes, updated_at: db.fn.now() });
}

export interface Employee extends CurrentUser {
  active: boolean;
}

const employeeColumns = [...currentUserColumns, 'active'] as const;

/** Every employee, deactivated ones included, by name. */
export async function listEmployees(db: Db): Promise<Employee[]> {
  return db('users').select(employeeColumns).orderByRaw('lower(name), id');
}

export async function findEmployee(db: Db, id: string): Promise<Employee | undefined> {
  return db('users').select(employeeColumns).where({ id }).first();
}

/** Whether another employee already has the address, in any case. */
export async function isEmailTaken(db: Db, email: string, exceptId?: string): Promise<boolean> {
  const query = db('users').select('id').whereRaw('lower(email) = lower(?)', [email.trim()]);
  if (exceptId) query.whereNot({ id: exceptId });
  return Boolean(await query.first());
}

/**
 * Locks the employee and every active admin until the transaction ends, so two
 * admins removing each other at the same moment cannot leave none behind. One
 * statement in id order: concurrent callers take the locks in the same order.
 */
export async function lockWithActiveAdmins(db: Db, id: string): Promise<Pick<Employee, 'id' | 'name' | 'email' | 'role' | 'language' | 'active'>[]> {
  return db('users')
    .select('id', 'name', 'email', 'role', 'language', 'active')
    .where({ id })
    .orWhere({ role: 'admin', active: true })
    .orderBy('id')
    .forUpdate();
}

/** Ends every open session of an employee (deactivation, password change elsewhere). */
export async function deleteSessionsOf(db: Db, userId: string, exceptSid?: string): Promise<void> {
  const query = db('session').whereRaw(`sess ->> 'userId' = ?`, [userId]);
  if (exceptSid) query.whereNot({ sid: exceptSid });
  await query.delete();
}

/** Whether an active administrator other than this employee exists. */
export async function hasOtherActiveAdmin(db: Db, id: string): Promise<boolean> {
  return Boolean(await db('users').select('id').where({ role: 'admin', active: true }).whereNot({ id }).first());
}

/** What would be left without an active responsible employee if this one were deactivated (see soleResponsibility). */
export interface SoleResponsibility {
  /** Prospects and customers assigned by name to this employee and no other active one. */
  contacts: number;
  /** Prospects and customers assigned by name to this employee, with others or not: what the list shows for them. */
  direct: number;
  /** Groups likewise. */
  groups: number;
  /** Competences with contacts or groups whose only active member is this employee. */
  competences: string[];
}

/**
 * Deactivated employees are not notified: contacts only they were responsible
 * for would alert nobody. The deactivation dialog names them, so that an admin
 * reassigns them first.
 */
export async function soleResponsibility(db: Db, id: string): Promise<SoleResponsibility> {
  const alone = (table: string, assignees: string, key: string, where = '') => `
    (select count(*) from ${table} t where t.assignment = 'users' ${where}
       and exists (select 1 from ${assignees} a where a.${key} = t.id and a.user_id = :id)
       and not exists (select 1 from ${assignees} a join users u on u.id = a.user_id where a.${key} = t.id and u.active and u.id <> :id))`;
  const { rows } = await db.raw(
    `select ${alone('contacts', 'contact_assignees', 'contact_id', "and t.status in ('prospect', 'customer')")}::int as contacts,
            (select count(*) from contact_assignees a join contacts c on c.id = a.contact_id
              where a.user_id = :id and c.status in ('prospect', 'customer'))::int as direct,
            ${alone('groups', 'group_assignees', 'group_id')}::int as groups,
            (select coalesce(json_agg(k.name order by k.name), '[]') from competences k
              where exists (select 1 from competence_members m where m.competence_id = k.id and m.user_id = :id)
                and not exists (select 1 from competence_members m join users u on u.id = m.user_id where m.competence_id = k.id and u.active and u.id <> :id)
                and (exists (select 1 from contacts c where c.assignment = 'competence' and c.competence_id = k.id and c.status in ('prospect', 'customer'))
                     or exists (select 1 from groups g where g.assignment = 'competence' and g.competence_id = k.id))) as competences`,
    { id },
  );
  return rows[0];
}
