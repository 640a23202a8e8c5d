import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs } from './helpers';
import { createContact } from './factories';
import { ListFilter } from '../src/contacts/schema';
import { applyFilter } from '../src/contacts/queries';
import { addMembers, createDynamicGroup, createGroup, purgeExpiredGroups, removeMembers } from '../src/groups/service';
import type { AssignmentInput } from '../src/assignment/schema';

const t = useTestDatabase();

const toAll: AssignmentInput = { kind: 'all', userIds: [], competenceId: undefined };

async function group(fields: Record<string, unknown>): Promise<string> {
  const [row] = await t.db('groups').insert({ name: 'Gruppe', kind: 'static', ...fields }).returning('id');
  return String(row.id);
}

async function members(groupId: string, contactIds: string[]): Promise<void> {
  await t.db('group_members').insert(contactIds.map((contact_id) => ({ group_id: groupId, contact_id })));
}

async function memberIds(groupId: string): Promise<string[]> {
  return (await t.db('group_members').where({ group_id: groupId }).orderBy('contact_id')).map((m) => String(m.contact_id));
}

async function login(name = 'Sabine Schröder') {
  const user = await createUser(t.db, { name });
  return { user, ...(await loginAs(buildApp(t.db), user.email)) };
}

describe('temporary groups', () => {
  it('belong to their maker, expire in 24 hours and are named by the time when made without a name', async () => {
    const me = await createUser(t.db);
    const { id } = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: me.id });
    const row = await t.db('groups').select('*', t.db.raw(`extract(epoch from expires_at - now()) as seconds`)).where({ id }).first();
    expect(row).toMatchObject({ kind: 'temporary', owner_id: me.id, created_by: me.id });
    expect(row.name).toMatch(/^Temporär \d\d\.\d\d\. \d\d:\d\d$/);
    expect(Number(row.seconds)).toBeGreaterThan(24 * 3600 - 60);
    expect(Number(row.seconds)).toBeLessThanOrEqual(24 * 3600);
  });

  it("disappear when their owner logs out, others' stay", async () => {
    const { user, agent, csrf } = await login();
    const other = await createUser(t.db);
    const mine = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: user.id });
    await members(mine.id, [await createContact(t.db)]);
    const theirs = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: other.id });
    const kept = await createGroup(t.db, { name: 'Dauerhaft', kind: 'static', assignment: toAll, actorId: user.id });
    const res = await agent.post('/logout').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect((await t.db('groups').orderBy('id')).map((g) => String(g.id))).toEqual([theirs.id, kept.id]);
    expect(await t.db('group_members')).toEqual([]);
  });

  it('are purged 24 hours after they were made, and are invisible from then on', async () => {
    const { user, agent } = await login();
    const old = await group({ name: 'Gestern', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() - interval '1 second'`) });
    const fresh = await group({ name: 'Heute', kind: 'temporary', owner_id: user.id, expires_at: t.db.raw(`now() + interval '23 hours'`) });
    const permanent = await group({ name: 'Dauerhaft' });
    expect((await agent.get(`/contacts?group=${old}`)).status).toBe(404);
    expect((await agent.get(`/groups/${old}`)).status).toBe(404);
    expect(await purgeExpiredGroups(t.db)).toBe(1);
    expect((await t.db('groups').orderBy('id')).map((g) => String(g.id))).toEqual([fresh, permanent]);
  });
});

describe('adding and removing members (the bulk actions use these)', () => {
  it('adds prospects and customers, reports inbox and archived contacts as skipped by status, and leaves existing members alone', async () => {
    const me = await createUser(t.db);
    const prospect = await createContact(t.db, { status: 'prospect' });
    const customer = await createContact(t.db, { status: 'customer' });
    const already = await createContact(t.db, { status: 'customer' });
    const inbox = [await createContact(t.db, { status: 'inbox' }), await createContact(t.db, { status: 'inbox' })];
    const archived = await createContact(t.db, { status: 'archived' });
    const { id } = await createGroup(t.db, { name: 'Messe', kind: 'static', assignment: toAll, actorId: me.id });
    await members(id, [already]);
    const result = await addMembers(t.db, id, [prospect, customer, already, ...inbox, archived, '999999'], me.id);
    expect(result).toEqual({ added: 2, skipped: [{ status: 'archived', count: 1 }, { status: 'inbox', count: 2 }] });
    expect(await memberIds(id)).toEqual([prospect, customer, already].sort((a, b) => Number(a) - Number(b)));
  });

  it('writes a history event per added contact and notifies the responsible employees, set-based', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const colleague = await createUser(t.db);
    const contacts = [await createContact(t.db), await createContact(t.db), await createContact(t.db)];
    const { id } = await createGroup(t.db, { name: 'Messe „Nord“', kind: 'static', assignment: toAll, actorId: me.id });
    const statements: string[] = [];
    const listen = (q: { sql: string }) => statements.push(q.sql);
    t.db.on('query', listen);
    await addMembers(t.db, id, contacts, me.id);
    t.db.off('query', listen);
    expect(statements.filter((sql) => /insert into/i.test(sql))).toHaveLength(2);
    const events = await t.db('contact_events').where({ kind: 'group_added' }).orderBy('contact_id');
    expect(events.map((e) => [String(e.contact_id), String(e.actor_id), e.payload])).toEqual(contacts.map((c) => [c, me.id, { group: 'Messe „Nord“', group_id: Number(id) }]));
    const notifications = await t.db('notifications').orderBy('contact_id');
    expect(notifications.map((n) => [String(n.user_id), String(n.contact_id)])).toEqual(contacts.map((c) => [colleague.id, c]));

    const { agent } = await loginAs(buildApp(t.db), colleague.email);
    const history = await agent.get(`/contacts/${contacts[0]}`);
    expect(history.text).toContain('hat den Kontakt zur Gruppe „Messe „Nord““ hinzugefügt');
  });

  it('takes "all matching" as a query and adds exactly what it selects, however odd the filter', async () => {
    const me = await createUser(t.db);
    const hit = await createContact(t.db, { company: 'Rabatt 100% GmbH' });
    await createContact(t.db, { company: 'Rabatt 1000 AG' });
    await createContact(t.db, { company: "O'Brien & Söhne" });
    const { id } = await createGroup(t.db, { name: 'Rabatt', kind: 'static', assignment: toAll, actorId: me.id });
    const filter = ListFilter.parse({ q: '100%' });
    const all = applyFilter(t.db, t.db('contacts as c').select('c.id'), filter, me.id);
    expect(await addMembers(t.db, id, all, me.id)).toEqual({ added: 1, skipped: [] });
    expect(await memberIds(id)).toEqual([hit]);
    const quote = applyFilter(t.db, t.db('contacts as c').select('c.id'), ListFilter.parse({ q: "o'brien" }), me.id);
    expect((await addMembers(t.db, id, quote, me.id)).added).toBe(1);
    expect(await memberIds(id)).toHaveLength(2);
  });

  it('runs in the caller’s transaction, so a later failure leaves nothing behind', async () => {
    const me = await createUser(t.db);
    const contact = await createContact(t.db);
    await expect(
      t.db.transaction(async (trx) => {
        const { id } = await createGroup(trx, { name: 'Halb', kind: 'static', assignment: toAll, actorId: me.id });
        await addMembers(trx, id, [contact], me.id);
        throw new Error('later step failed');
      }),
    ).rejects.toThrow('later step failed');
    expect(await t.db('groups')).toEqual([]);
    expect(await t.db('contact_events').where({ kind: 'group_added' })).toEqual([]);
  });

  it('refuses to change the members of a dynamic group', async () => {
    const me = await createUser(t.db);
    const { id } = await createDynamicGroup(t.db, { name: 'Köln', filter: { city: 'Köln' }, assignment: toAll, actorId: me.id });
    const contact = await createContact(t.db);
    await expect(addMembers(t.db, id, [contact], me.id)).rejects.toMatchObject({ status: 409, messageKey: 'groups.dynamicMembers' });
    await expect(removeMembers(t.db, id, [contact], me.id)).rejects.toMatchObject({ status: 409 });
    expect(await t.db('group_members')).toEqual([]);
  });

  it("treats another employee's temporary group as missing", async () => {
    const me = await createUser(t.db);
    const other = await createUser(t.db);
    const { id } = await createGroup(t.db, { kind: 'temporary', assignment: toAll, actorId: other.id });
    await expect(addMembers(t.db, id, [await createContact(t.db)], me.id)).rejects.toMatchObject({ status: 404, messageKey: 'groups.gone' });
  });

  it('removes members with a group_removed event each, ignoring contacts that were not members', async () => {
    const me = await createUser(t.db);
    const colleague = await createUser(t.db);
    const [a, b, outsider] = [await createContact(t.db), await createContact(t.db, { status: 'archived' }), await createContact(t.db)];
    const { id } = await createGroup(t.db, { name: 'Messe', kind: 'static', assignment: toAll, actorId: me.id });
    await members(id, [a, b]);
    expect(await removeMembers(t.db, id, [b, outsider], me.id)).toEqual({ removed: 1 });
    expect(await memberIds(id)).toEqual([a]);
    const events = await t.db('contact_events').where({ kind: 'group_removed' });
    expect(events.map((e) => [String(e.contact_id), e.payload])).toEqual([[b, { group: 'Messe', group_id: Number(id) }]]);
    expect((await t.db('notifications')).map((n) => [String(n.user_id), String(n.contact_id)])).toEqual([[colleague.id, b]]);
    const all = t.db('contacts as c').select('c.id');
    expect(await removeMembers(t.db, id, all, me.id)).toEqual({ removed: 1 });
    expect(await memberIds(id)).toEqual([]);
  });
});

