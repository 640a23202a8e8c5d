import type { Db } from '../src/db/knex';
import { hashPassword } from '../src/users/passwords';
import { fakeContact, random, type FakeContact } from '../seeds/data/german-contacts';

/** The columns filled from fakeContact(), with the PostgreSQL array type unnest() reads them as. */
const columns: [keyof FakeContact, string][] = [
  ['salutation', 'text'],
  ['first_name', 'text'],
  ['last_name', 'text'],
  ['company', 'text'],
  ['email', 'text'],
  ['phone', 'text'],
  ['mobile', 'text'],
  ['website', 'text'],
  ['street', 'text'],
  ['postal_code', 'text'],
  ['city', 'text'],
  ['country', 'text'],
  ['birthday', 'date'],
  ['customer_number', 'text'],
  ['status', 'text'],
  ['previous_status', 'text'],
  ['created_at', 'timestamptz'],
];

/** 49 employees besides the admin: issue 4 asks for the responsibility filter at 100,000 contacts and 50 employees. */
const firstNames = ['Max', 'Sabine', 'Jürgen', 'Özlem', 'Anna', 'Lukas', 'Petra', 'Thomas', 'Fatma', 'Jan', 'Ingrid', 'Sven', 'Mia', 'Karl', 'Lea', 'Uwe', 'Nina'];
const lastNames = ['Müller', 'Schröder', 'Weiß', 'Yılmaz', 'Becker', 'Hoffmann', 'Koch', 'Wagner', 'Schäfer', 'Klein', 'Wolf', 'Neumann', 'Braun', 'Krüger', 'Hartmann'];
const employees = Array.from({ length: 49 }, (_, i) => {
  const name = `${firstNames[i % firstNames.length]} ${lastNames[(i * 7) % lastNames.length]}`;
  return [name, `mitarbeiter${i + 1}@bench.example`];
});

const competenceNames = ['Vertrieb Nord', 'Vertrieb Süd', 'Vertrieb West', 'Vertrieb Ost', 'Key Accounts', 'Service', 'Export', 'Messen'];

export interface SeedResult {
  adminId: string;
  contacts: number;
  events: number;
  /** Contacts per assignment kind (all / users / competence), when the schema has assignments. */
  assignments?: Record<string, number>;
  byStatus: Record<string, number>;
  withNumber: number;
  ms: { users: number; contacts: number; events: number; assignments: number; vacuum: number; total: number };
}

/** The employee a contact assigned by name gets, in turn by its id, from `u.users` (an array of user ids). */
const nameAssignee = (id: string) => `u.users[1 + (${id} / 20) % cardinality(u.users)]`;

/** Contacts per assignment kind (all / competence / users). */
async function countAssignments(db: Db): Promise<Record<string, number>> {
  const rows = (await db('contacts').select('assignment').count({ n: '*' }).groupBy('assignment').orderBy('assignment')) as { assignment: string; n: string }[];
  return Object.fromEntries(rows.map((r) => [r.assignment, Number(r.n)]));
}

/**
 * Fills a freshly migrated database with an admin (who logs in), 49 employees
 * and `count` deterministic German contacts (seeds/data/german-contacts.ts),
 * each with its "created" history row, and (if the schema has them) assignments.
 * Set-based throughout: nothing is inserted row by row.
 * Contacts go in as one `insert … select from unnest($1::text[], …)` per batch:
 * one array parameter per column instead of one parameter per value, so a batch
 * is not bounded by PostgreSQL's 65,535 parameters and costs one round trip.
 */
export async function seedContacts(db: Db, count: number, admin: { email: string; password: string }, batchSize = 10_000): Promise<SeedResult> {
  const started = performance.now();
  const [{ id: adminId }] = await db('users')
    .insert({ name: 'Bench Admin', email: admin.email, password_hash: await hashPassword(admin.password), role: 'admin' })
    .returning('id');
  const passwordHash = await hashPassword(`bench-${Math.random()}`);
  const userIds: string[] = [String(adminId)];
  const staff = await db('users')
    .insert(employees.map(([name, email]) => ({ name, email, password_hash: passwordHash, role: 'member' })))
    .returning('id');
  userIds.push(...staff.map((row: { id: string }) => String(row.id)));
  const usersDone = performance.now();

  // Assignments (where the schema has them): half for all employees, 35 % to
  // employees by name, 15 % to one of eight competences (the admin is in the first).
  const hasAssignments =
    (await db.schema.hasColumn('contacts', 'assignment')) && (await db.schema.hasTable('contact_assignees')) && (await db.schema.hasTable('competence_members'));
  const competences: string[] = [];
  if (hasAssignments) {
    const teams = await db('competences').insert(competenceNames.map((name) => ({ name }))).returning('id');
    competences.push(...teams.map((row: { id: string }) => String(row.id)));
    await db('competence_members').insert(userIds.map((user, i) => ({ competence_id: competences[i % competences.length], user_id: user })));
  }
  const assignmentOf = (i: number) => (i % 20 < 10 ? 'all' : i % 20 < 17 ? 'users' : 'competence');

  const rand = random(20261127);
  const now = Date.now();
  const extra: [string, string][] = [['creator', 'bigint'], ...(hasAssignments ? ([['assignment', 'text'], ['competence_id', 'bigint']] as [string, string][]) : [])];
  const all = [...columns, ...extra];
  const sql = `
    insert into contacts (${[...columns.map(([c]) => c), 'created_by', 'updated_by', 'updated_at', ...(hasAssignments ? ['assignment', 'competence_id'] : [])].join(', ')})
    select ${[...columns.map(([c]) => `u.${c}`), 'u.creator', 'u.creator', 'u.created_at', ...(hasAssignments ? ['u.assignment', 'u.competence_id'] : [])].join(', ')}
    from unnest(${all.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) as u(${all.map(([c]) => c).join(', ')})`;
  // Straight through pg: knex would expand each array parameter into a list of parameters.
  const connection = (await db.client.acquireConnection()) as { query: (text: string, values: unknown[]) => Promise<unknown> };
  try {
    for (let start = 0; start < count; start += batchSize) {
      const arrays: unknown[][] = all.map(() => []);
      for (let i = start; i < Math.min(count, start + batchSize); i++) {
        const contact = fakeContact(i, rand, now);
        columns.forEach(([c], k) => arrays[k].push(contact[c]));
        arrays[columns.length].push(userIds[i % userIds.length]);
        if (hasAssignments) {
          arrays[columns.length + 1].push(assignmentOf(i));
          arrays[columns.length + 2].push(assignmentOf(i) === 'competence' ? competences[i % competences.length] : null);
        }
      }
      await connection.query(sql, arrays);
    }
  } finally {
    await db.client.releaseConnection(connection);
  }
  const contactsDone = performance.now();

  const events = await db.raw(`
    insert into contact_events (contact_id, actor_id, kind, payload, created_at)
    select id, created_by, 'created', jsonb_build_object('status', status), created_at from contacts`);
  const eventsDone = performance.now();

  let assignments: Record<string, number> | undefined;
  if (hasAssignments) {
    // One employee each, a second one for every third.
    const users = `{${userIds.join(',')}}`;
    await db.raw(
      `insert into contact_assignees (contact_id, user_id)
       select c.id, ${nameAssignee('c.id')} from contacts c, (select ?::bigint[] as users) u where c.assignment = 'users'
       union
       select c.id, u.users[1 + (c.id / 7) % cardinality(u.users)] from contacts c, (select ?::bigint[] as users) u where c.assignment = 'users' and c.id % 3 = 0`,
      [users, users],
    );
    assignments = await countAssignments(db);
  }
  const assignmentsDone = performance.now();

  await db.raw('vacuum analyze');
  const vacuumDone = performance.now();

  const byStatus = Object.fromEntries(
    ((await db('contacts').select('status').count({ n: '*' }).groupBy('status')) as { status: string; n: string }[]).map((r) => [r.status, Number(r.n)]),
  );
  const [{ n: withNumber }] = (await db('contacts').whereNotNull('customer_number').count({ n: '*' })) as { n: string }[];
  return {
    adminId: String(adminId),
    contacts: count,
    events: events.rowCount ?? 0,
    assignments,
    byStatus,
    withNumber: Number(withNumber),
    ms: {
      users: Math.round(usersDone - started),
      contacts: Math.round(contactsDone - usersDone),
      events: Math.round(eventsDone - contactsDone),
      assignments: Math.round(assignmentsDone - eventsDone),
      vacuum: Math.round(vacuumDone - assignmentsDone),
      total: Math.round(vacuumDone - started),
    },
  };
}

/**
 * Issue 4's second case, on a seeded database: a company that assigns most of
 * its contacts. Contacts for all are assigned by name instead (one employee
 * each, in turn, as seedContacts does) until `share` of all contacts are left
 * for all, and a new employee in no competence gets about ten contacts of
 * their own (spread over the alphabet, taken from those assigned by name: the
 * employees there keep theirs too). Vacuumed and analysed, as the seed is.
 */
export async function assignMostContacts(db: Db, share: number): Promise<{ newcomerId: string; newcomerContacts: number; line: string }> {
  const [{ n: all }] = (await db('contacts').where('assignment', 'all').count({ n: '*' })) as { n: string }[];
  const [{ n: total }] = (await db('contacts').count({ n: '*' })) as { n: string }[];
  // Every k-th contact for all stays so: `share` of all contacts.
  const keepEvery = Math.max(1, Math.round(Number(all) / (share * Number(total))));
  const users = `{${((await db('users').select('id').orderBy('id')) as { id: string }[]).map((row) => row.id).join(',')}}`;
  const newcomerId = await db.transaction(async (trx) => {
    await trx.raw(
      `with ranked as (select id, row_number() over (order by id) as n from contacts where assignment = 'all'),
       moved as (update contacts c set assignment = 'users' from ranked r where c.id = r.id and r.n % ? <> 0 returning c.id)
       insert into contact_assignees (contact_id, user_id)
       select m.id, ${nameAssignee('m.id')} from moved m, (select ?::bigint[] as users) u`,
      [keepEvery, users],
    );
    const [{ id }] = await trx('users')
      .insert({ name: 'Nora Neu', email: 'neu@bench.example', password_hash: trx('users').select('password_hash').orderBy('id').limit(1), role: 'member' })
      .returning('id');
    await trx.raw(`insert into contact_assignees (contact_id, user_id) select id, ? from contacts where assignment = 'users' and id % 7919 = 1 order by id limit 13`, [id]);
    return String(id);
  });
  await db.raw('vacuum analyze contacts, contact_assignees, users');
  const kinds = await countAssignments(db);
  const [{ n: newcomerContacts }] = (await db('contact_assignees').where('user_id', newcomerId).count({ n: '*' })) as { n: string }[];
  return {
    newcomerId,
    newcomerContacts: Number(newcomerContacts),
    line: `assignment ${Object.entries(kinds).map(([kind, n]) => `${kind} ${n}`).join(', ')}; ${newcomerContacts} contacts by name for a new employee in no competence`,
  };
}
