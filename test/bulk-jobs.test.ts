import pino from 'pino';
import { createApp } from '../src/app';
import { startQueue } from '../src/jobs/queue';
import { createBulkJob, runBulkJob, BACKGROUND_THRESHOLD } from '../src/contacts/bulk-jobs';
import { SelectionChanged, selectionFingerprint, type BulkAction, type Target } from '../src/contacts/bulk';
import { useTestDatabase } from './db';
import { confirmedAll, createUser, loginAs, testConfig } from './helpers';

const t = useTestDatabase();
const logger = pino({ level: 'silent' });

/** Many contacts at once, set-based (with their "created" events). */
async function manyContacts(count: number, city: string): Promise<void> {
  await t.db.raw(
    `insert into contacts (last_name, city, status) select 'Massen' || g, ?, case when g % 10 = 0 then 'archived' else 'customer' end from generate_series(1, ?) g`,
    [city, count],
  );
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}

/** A job as the route makes it: for the set the dialog showed (its fingerprint taken just before). */
async function jobFor(action: BulkAction, params: Record<string, unknown>, target: Target, actorId: string): Promise<string> {
  return createBulkJob(t.db, action, params, target, actorId, await selectionFingerprint(t.db, target));
}

describe('big "all matching" selections', () => {
  it('run in the background through the PostgreSQL job queue, with progress, and report when done', async () => {
    const user = await createUser(t.db);
    const colleague = await createUser(t.db);
    await createUser(t.db, { active: false });
    await manyContacts(BACKGROUND_THRESHOLD + 500, 'Hamm');
    await t.db.raw(`insert into contacts (last_name, city) values ('Anders', 'Unna')`);
    const queue = await startQueue(t.url, logger, (jobId) => runBulkJob(t.db, jobId, logger));
    try {
      const app = createApp({ db: t.db, config: testConfig(), logger, jobs: queue });
      const { agent, csrf } = await loginAs(app, user.email);
      const res = await agent
        .post('/contacts/bulk')
        .set('HX-Request', 'true')
        .set('X-CSRF-Token', csrf)
        .type('form')
        .send({ action: 'archive', all: '1', city: 'hamm', status: ['customer', 'archived'], confirmed: await confirmedAll(agent, csrf, 'archive', { city: 'hamm', status: ['customer', 'archived'] }) });
      expect(res.status).toBe(202);
      expect(res.text).toMatch(/<dialog data-modal[\s\S]*hx-get="\/jobs\/\d+" hx-trigger="every 1s"/);
      expect(res.text).toContain('Die Aktion läuft im Hintergrund');
      const job = await waitFor(async () => t.db('bulk_jobs').where({ state: 'done' }).first());
      expect(job).toMatchObject({ total: BACKGROUND_THRESHOLD + 500, done: BACKGROUND_THRESHOLD + 500 });
      // A worker that dies holding it gives it up after five minutes, not an hour (src/jobs/queue.ts).
      const queued = await t.db.raw(`select extract(epoch from expire_in)::int as s from pgboss.job where name = 'bulk-action'`);
      expect(queued.rows).toEqual([{ s: 300 }]);
      expect(job.result).toMatchObject({ affected: 4950, skipped: { archived: 550 } });
      expect(await t.db('contacts').where({ city: 'Hamm', status: 'customer' })).toHaveLength(0);
      expect((await t.db('contacts').where({ city: 'Unna' }).first()).status).toBe('prospect');
      expect(Number((await t.db('contact_events').where({ kind: 'status' }).count({ n: '*' }).first())!.n)).toBe(4950);
      // One action, one notification per responsible employee, sent when the job is done (not one per chunk).
      const firstEvent = await t.db('contact_events').where({ kind: 'status' }).orderBy('id').first();
      const lastEvent = await t.db('contact_events').where({ kind: 'status' }).orderBy('id', 'desc').first();
      const told = await t.db('notifications').select('user_id', 'event_id', 'count', 'action_first_event_id', 'action_last_event_id');
      expect(told.map((n) => [String(n.user_id), String(n.event_id), n.count, String(n.action_first_event_id), String(n.action_last_event_id)])).toEqual([
        [colleague.id, String(firstEvent.id), 4950, String(firstEvent.id), String(lastEvent.id)],
      ]);
      const done = await agent.get(`/jobs/${job.id}`).set('HX-Request', 'true');
      expect(done.status).toBe(204);
      expect(done.headers['hx-refresh']).toBe('true');
      // The message waits for the page htmx reloads (a trigger on this answer went with the page it replaced).
      expect((await agent.get('/contacts')).text).toContain('4.950 Kontakte archiviert. 550 übersprungen: Status Archiv.');
    } finally {
      await queue.stop();
    }
  });

  it('apply every chunk exactly once, even when the job is run again, and skip contacts deleted meanwhile', async () => {
    const user = await createUser(t.db);
    await manyContacts(4500, 'Soest');
    const jobId = await jobFor('delete', {}, { kind: 'filter', filter: { city: 'soest', status: ['customer', 'archived'] }, viewerId: user.id }, user.id);
    await t.db('contacts').whereIn('id', t.db('contacts').select('id').where({ city: 'Soest' }).orderBy('id').limit(10)).delete();
    await runBulkJob(t.db, jobId);
    await runBulkJob(t.db, jobId);
    expect(await t.db('contacts').where({ city: 'Soest' })).toHaveLength(0);
    const job = await t.db('bulk_jobs').where({ id: jobId }).first();
    expect(job).toMatchObject({ state: 'done', total: 4500, done: 4500 });
    expect(job.result.affected).toBe(4490);
    const audit = await t.db('audit_log').where({ id: job.result.auditId }).first();
    expect(audit.count).toBe(4490);
    expect(audit.payload.contacts).toHaveLength(4490);
    expect(await t.db('audit_log')).toHaveLength(1);
  });

  it('queue nothing when the set is no longer the one confirmed', async () => {
    const user = await createUser(t.db);
    await manyContacts(20, 'Soest');
    const target: Target = { kind: 'filter', filter: { city: 'soest' }, viewerId: user.id };
    const confirmed = await selectionFingerprint(t.db, target);
    await t.db.raw(`insert into contacts (last_name, city) values ('Neu', 'Soest')`);
    await expect(createBulkJob(t.db, 'delete', {}, target, user.id, confirmed)).rejects.toBeInstanceOf(SelectionChanged);
    expect(await t.db('bulk_jobs')).toEqual([]);
    expect(await t.db('bulk_job_items')).toEqual([]);
    // The set confirmed anew is taken whole.
    const jobId = await jobFor('delete', {}, target, user.id);
    expect((await t.db('bulk_jobs').where({ id: jobId }).first()).total).toBe(19);
  });

  it('notify once, when done, about every contact it archived, even when it is run again', async () => {
    const user = await createUser(t.db);
    const colleague = await createUser(t.db);
    await manyContacts(2500, 'Soest');
    const jobId = await jobFor('archive', {}, { kind: 'filter', filter: { city: 'soest', status: ['customer', 'archived'] }, viewerId: user.id }, user.id);
    await runBulkJob(t.db, jobId);
    await runBulkJob(t.db, jobId);
    const told = await t.db('notifications').select('user_id', 'count');
    expect(told.map((n) => [String(n.user_id), n.count])).toEqual([[colleague.id, 2250]]);
    expect(await t.db('bulk_job_items').where({ job_id: jobId }).whereNotNull('event_id')).toHaveLength(2250);
  });

  it('refuse an assignment to an unknown employee before queueing, and stop for good when an employee is deactivated meanwhile', async () => {
    const user = await createUser(t.db);
    const max = await createUser(t.db, { name: 'Max Müller' });
    await manyContacts(BACKGROUND_THRESHOLD + 100, 'Hamm');
    const app = createApp({ db: t.db, config: testConfig(), logger, jobs: { enqueueBulk: async () => {} } });
    const { agent, csrf } = await loginAs(app, user.email);
    const unknown = await agent
      .post('/contacts/bulk')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'assign', all: '1', city: 'hamm', assignment: 'users', assignee_ids: '987654', confirmed: await confirmedAll(agent, csrf, 'assign', { city: 'hamm' }) });
    expect(unknown.status).toBe(422);
    expect(unknown.text).toContain('Ein gewählter Mitarbeiter existiert nicht (mehr).');
    expect(await t.db('bulk_jobs')).toHaveLength(0);

    const jobId = await jobFor('assign', { assignment: 'users', assignee_ids: [max.id] }, { kind: 'filter', filter: { city: 'hamm' }, viewerId: user.id }, user.id);
    await t.db('users').where({ id: max.id }).update({ active: false });
    // Not thrown: the queue would retry it five times, refused five times.
    await runBulkJob(t.db, jobId, logger);
    const job = await t.db('bulk_jobs').where({ id: jobId }).first();
    expect(job).toMatchObject({ state: 'failed', done: 0 });
    expect(job.result.refused).toBe('assignment.invalid.inactiveUser');
    expect(await t.db('contact_events').where({ kind: 'assigned' })).toHaveLength(0);
    const shown = await agent.get(`/jobs/${jobId}`).set('HX-Request', 'true');
    expect(shown.text).toContain('Die Aktion wurde abgebrochen: Ein gewählter Mitarbeiter ist deaktiviert.');
    expect(shown.text).toContain('0 von 4.590 Kontakten sind bearbeitet');
    expect(shown.text).not.toContain('hx-trigger');
  });

  it('assign in the background: tell those the contacts were taken from, once, when the job is done', async () => {
    const user = await createUser(t.db);
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const bystander = await createUser(t.db, { name: 'Jürgen Weiß' });
    await manyContacts(2500, 'Soest');
    await t.db.raw(`update contacts set assignment = 'users' where city = 'Soest'`);
    await t.db.raw(`insert into contact_assignees (contact_id, user_id) select id, ? from contacts where city = 'Soest'`, [max.id]);
    const jobId = await jobFor('assign', { assignment: 'users', assignee_ids: [sabine.id] }, { kind: 'filter', filter: { city: 'soest' }, viewerId: user.id }, user.id);
    await runBulkJob(t.db, jobId);
    await runBulkJob(t.db, jobId);
    const told = await t.db('notifications').select('user_id', 'count');
    expect(Object.fromEntries(told.map((n) => [String(n.user_id), n.count]))).toEqual({ [max.id]: 2250, [sabine.id]: 2250 });
    expect(told.some((n) => String(n.user_id) === bystander.id)).toBe(false);
  });

  it('end for good after the last attempt, telling those responsible about the part done', async () => {
    const user = await createUser(t.db);
    const colleague = await createUser(t.db);
    await manyContacts(2500, 'Soest');
    const jobId = await jobFor('archive', {}, { kind: 'filter', filter: { city: 'soest' }, viewerId: user.id }, user.id);
    // The second chunk fails whatever is tried: its first contact's event cannot be written.
    const [second] = await t.db('bulk_job_items').where({ job_id: jobId }).orderBy('contact_id').offset(2000).limit(1).pluck('contact_id');
    await t.db.raw(`create function kaputt() returns trigger language plpgsql as $$ begin
      if exists (select 1 from new_rows where contact_id = ${Number(second)}) then raise exception 'kaputt'; end if; return null; end $$`);
    await t.db.raw(`create trigger kaputt after insert on contact_events referencing new table as new_rows for each statement execute function kaputt()`);
    try {
      await expect(runBulkJob(t.db, jobId, logger)).rejects.toThrow('kaputt');
      expect(await t.db('bulk_jobs').where({ id: jobId }).first()).toMatchObject({ state: 'failed', done: 2000 });
      expect(await t.db('notifications')).toHaveLength(0);
      await expect(runBulkJob(t.db, jobId, logger, { lastAttempt: true })).rejects.toThrow('kaputt');
    } finally {
      await t.db.raw('drop trigger kaputt on contact_events; drop function kaputt()');
    }
    const job = await t.db('bulk_jobs').where({ id: jobId }).first();
    expect(job).toMatchObject({ state: 'failed', done: 2000 });
    expect(job.result.refused).toBe('bulk.failedFinally');
    const told = await t.db('notifications').select('user_id', 'count');
    expect(told.map((n) => [String(n.user_id), n.count])).toEqual([[colleague.id, 2000]]);
    const { agent } = await loginAs(createApp({ db: t.db, config: testConfig(), logger }), user.email);
    const shown = await agent.get(`/jobs/${jobId}`).set('HX-Request', 'true');
    expect(shown.text).toContain('Die Aktion wurde abgebrochen: Ein unerwarteter Fehler ist wiederholt aufgetreten. 2.000 von 2.250 Kontakten sind bearbeitet');
    expect(shown.text).not.toContain('hx-trigger');
  });

  it('that cannot be queued are marked failed, not left waiting as "queued", and change nothing', async () => {
    const user = await createUser(t.db);
    await manyContacts(BACKGROUND_THRESHOLD + 100, 'Hamm');
    const app = createApp({ db: t.db, config: testConfig(), logger, jobs: { enqueueBulk: async () => { throw new Error('connection terminated'); } } });
    const { agent, csrf } = await loginAs(app, user.email);
    const res = await agent
      .post('/contacts/bulk')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'archive', all: '1', city: 'hamm', status: ['customer', 'archived'], confirmed: await confirmedAll(agent, csrf, 'archive', { city: 'hamm', status: ['customer', 'archived'] }) });
    // Its connection gone: told as the database being away for a moment.
    expect(res.status).toBe(503);
    expect(res.text).toContain('Die Datenbank ist gerade nicht erreichbar');
    expect(await t.db('bulk_jobs').select('state')).toEqual([{ state: 'failed' }]);
    expect(await t.db('contacts').where({ status: 'archived' })).toHaveLength((BACKGROUND_THRESHOLD + 100) / 10);
  });

  it('show another employee nothing of my job', async () => {
    const me = await createUser(t.db);
    const other = await createUser(t.db);
    await manyContacts(3, 'Lippstadt');
    const jobId = await jobFor('archive', {}, { kind: 'filter', filter: { city: 'lippstadt' }, viewerId: me.id }, me.id);
    const { agent } = await loginAs(createApp({ db: t.db, config: testConfig(), logger }), other.email);
    expect((await agent.get(`/jobs/${jobId}`)).status).toBe(404);
  });
});
