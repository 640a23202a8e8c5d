import { useTestDatabase } from './db';
import { buildApp, confirmedAll, createUser, loginAs } from './helpers';
import { createContact } from './factories';
import { insertEvent } from '../src/contacts/queries';
import { notifyResponsible, SUMMARY_ABOVE } from '../src/notifications/queries';
import { notificationPath, summaryGroupName, summaryText } from '../src/notifications/summary';
import { translator } from '../src/i18n';
import { createBulkJob, runBulkJob } from '../src/contacts/bulk-jobs';
import { bulkArchive } from '../src/contacts/bulk';
import { changeStatus } from '../src/contacts/service';
import { addMembers, createGroup } from '../src/groups/service';
import { reassign, removeCompetence } from '../src/competences/service';
import pino from 'pino';

const t = useTestDatabase();

async function competence(name: string, memberIds: string[]): Promise<string> {
  const [row] = await t.db('competences').insert({ name }).returning('id');
  if (memberIds.length) await t.db('competence_members').insert(memberIds.map((user_id) => ({ competence_id: row.id, user_id })));
  return String(row.id);
}

async function notified(contactId: string): Promise<string[]> {
  const rows = await t.db('notifications').select('user_id').where({ contact_id: contactId }).orderBy('user_id');
  return rows.map((r) => String(r.user_id));
}

describe('notification fan-out', () => {
  it('reaches every active employee except the actor when the contact is assigned to all', async () => {
    const actor = await createUser(t.db);
    const other = await createUser(t.db);
    const third = await createUser(t.db);
    await createUser(t.db, { active: false });
    const contact = await createContact(t.db, { last_name: 'Alle' });
    await t.db('notifications').delete();
    await insertEvent(t.db, { contact_id: contact, actor_id: actor.id, kind: 'note', payload: { text: 'Hallo' } });
    expect(await notified(contact)).toEqual([other.id, third.id].sort());
  });

  it('reaches only directly assigned employees', async () => {
    const actor = await createUser(t.db);
    const assigned = await createUser(t.db);
    await createUser(t.db);
    const contact = await createContact(t.db, { last_name: 'Direkt' });
    await t.db('contacts').where({ id: contact }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert([{ contact_id: contact, user_id: assigned.id }, { contact_id: contact, user_id: actor.id }]);
    await insertEvent(t.db, { contact_id: contact, actor_id: actor.id, kind: 'note', payload: { text: 'Hallo' } });
    expect(await notified(contact)).toEqual([assigned.id]);
  });

  it('reaches the active members of the assigned competence', async () => {
    const member = await createUser(t.db);
    const inactive = await createUser(t.db);
    await createUser(t.db);
    const team = await competence('Vertrieb Süd', [member.id, inactive.id]);
    await t.db('users').where({ id: inactive.id }).update({ active: false });
    const contact = await createContact(t.db, { last_name: 'Team' });
    await t.db('contacts').where({ id: contact }).update({ assignment: 'competence', competence_id: team });
    await insertEvent(t.db, { contact_id: contact, actor_id: null, kind: 'message', payload: { text: 'Neue Chatnachricht', source: 'Chat' } });
    expect(await notified(contact)).toEqual([member.id]);
  });
});

describe('notifications about big actions', () => {
  /** `count` contacts in Köln assigned to all, and `direct` more assigned to `assignee` alone. */
  async function contactsInKoeln(count: number, direct = 0, assignee?: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count + direct; i++) ids.push(await createContact(t.db, { last_name: `Köln${String(i).padStart(2, '0')}`, city: 'Köln' }));
    for (const id of ids.slice(count)) {
      await t.db('contacts').where({ id }).update({ assignment: 'users' });
      await t.db('contact_assignees').insert({ contact_id: id, user_id: assignee });
    }
    return ids;
  }

  it('tell each responsible employee once how many of their contacts were archived; the actor and deactivated employees hear nothing', async () => {
    const actor = await createUser(t.db, { name: 'Max Müller' });
    const colleague = await createUser(t.db, { name: 'Sabine Schröder' });
    const assignee = await createUser(t.db, { name: 'Jürgen Weiß' });
    const deactivated = await createUser(t.db, { active: false });
    const teamMember = await createUser(t.db, { name: 'Özlem Yılmaz' });
    const ids = await contactsInKoeln(SUMMARY_ABOVE + 2, 3, assignee.id);
    // Two more for a team the actor, a deactivated employee and Özlem belong to; one of them also names the actor.
    const team = await competence('Vertrieb Süd', [actor.id, deactivated.id, teamMember.id]);
    for (const name of ['KölnTeam1', 'KölnTeam2']) {
      const id = await createContact(t.db, { last_name: name, city: 'Köln' });
      await t.db('contacts').where({ id }).update({ assignment: 'competence', competence_id: team });
      ids.push(id);
    }
    await t.db('contact_assignees').insert({ contact_id: ids[ids.length - 1], user_id: actor.id });
    await t.db('notifications').delete();
    const app = buildApp(t.db);
    const { agent, csrf } = await loginAs(app, actor.email);
    const res = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'archive', all: '1', city: 'köln', confirmed: await confirmedAll(agent, csrf, 'archive', { city: 'köln' }) });
    expect(res.status).toBe(303);

    const firstEvent = await t.db('contact_events').where({ kind: 'status', contact_id: ids[0] }).first();
    const rows = await t.db('notifications').select('user_id', 'contact_id', 'event_id', 'count').orderBy('user_id');
    expect(rows.map((r) => ({ ...r, user_id: String(r.user_id), contact_id: String(r.contact_id), event_id: String(r.event_id) }))).toEqual([
      { user_id: colleague.id, contact_id: ids[0], event_id: String(firstEvent.id), count: SUMMARY_ABOVE + 2 },
      { user_id: assignee.id, contact_id: ids[0], event_id: String(firstEvent.id), count: SUMMARY_ABOVE + 5 },
      { user_id: teamMember.id, contact_id: ids[0], event_id: String(firstEvent.id), count: SUMMARY_ABOVE + 4 },
    ]);
    expect(rows.some((r) => [actor.id, deactivated.id].includes(String(r.user_id)))).toBe(false);
    expect(await t.db('contact_events').where({ kind: 'status' })).toHaveLength(SUMMARY_ABOVE + 7);

    const { agent: theirs, csrf: theirCsrf } = await loginAs(app, assignee.email);
    const poll = await theirs.get('/notifications/poll?after=0').set('HX-Request', 'true');
    expect(poll.text).toMatch(/data-popup data-title="15 Kontakte" data-icon=""/);
    expect(poll.text).toMatch(/<strong>Max Müller<\/strong> hat 15 Kontakte archiviert <time/);
    expect(poll.text).not.toContain('Köln00');
    const list = await theirs.get('/notifications');
    expect(list.text).toMatch(/class="notification unread"[\s\S]*15 Kontakte[\s\S]*Max Müller<\/strong> hat 15 Kontakte archiviert[\s\S]*Anzeigen/);
    const notification = await t.db('notifications').where({ user_id: assignee.id }).first();
    const open = await theirs.post(`/notifications/${notification.id}/open`).type('form').send({ _csrf: theirCsrf });
    // Exactly the 15 it counted, as Jürgen's temporary group named by what was done, by whom and when: not the team's two.
    const group = await t.db('groups').first();
    expect(group).toMatchObject({ kind: 'temporary', owner_id: assignee.id, name: expect.stringMatching(/^Archiviert von Max Müller, \d\d\.\d\d\. \d\d:\d\d$/) });
    expect(open.headers.location).toBe(`/contacts?group=${group.id}`);
    const members = await t.db('group_members').where({ group_id: group.id }).orderBy('contact_id').pluck('contact_id');
    expect(members.map(String)).toEqual(ids.slice(0, 15));
    expect(await t.db('notifications').where({ id: notification.id }).first()).toMatchObject({ group_id: group.id, read_at: expect.any(Date) });
    // Memberships of a temporary group are no history: nobody is told of them.
    expect(await t.db('contact_events').where({ kind: 'group_added' })).toHaveLength(0);
    const archivedOfMine = await theirs.get(open.headers.location);
    expect(archivedOfMine.text).toMatch(/15 Kontakte\s*<span class="result-group">in der Gruppe „Archiviert von Max Müller, \d\d\.\d\d\. \d\d:\d\d“<\/span>/);
    expect(archivedOfMine.text).not.toContain('heute sind es');
    // Searched within it, the count is no longer the group's, and says so.
    const searched = await theirs.get(`${open.headers.location}&q=K%C3%B6ln1`);
    expect(searched.text).toMatch(/5 Kontakte\s*<span class="result-group">in der Gruppe „Archiviert von Max Müller, [^“]*“, gefiltert<\/span>/);
    for (const name of ['Köln00', 'Köln14']) expect(archivedOfMine.text).toContain(name);
    expect(archivedOfMine.text).not.toContain('KölnTeam');
    // Opened again, the same group; once it is gone (24 hours, a logout), a new one of the same contacts.
    const again = await theirs.post(`/notifications/${notification.id}/open`).type('form').send({ _csrf: theirCsrf });
    expect(again.headers.location).toBe(open.headers.location);
    await t.db('groups').delete();
    const afterExpiry = await theirs.post(`/notifications/${notification.id}/open`).type('form').send({ _csrf: theirCsrf });
    const renewed = await t.db('groups').first();
    expect(afterExpiry.headers.location).toBe(`/contacts?group=${renewed.id}`);
    expect(await t.db('group_members').where({ group_id: renewed.id }).count({ n: '*' }).first()).toEqual({ n: '15' });
    // Sabine's is the twelve for all.
    const sabines = await loginAs(app, colleague.email);
    const hers = await t.db('notifications').where({ user_id: colleague.id }).first();
    const herOpen = await sabines.agent.post(`/notifications/${hers.id}/open`).type('form').send({ _csrf: sabines.csrf });
    const herList = await sabines.agent.get(herOpen.headers.location);
    expect(herList.text).toContain('12 Kontakte');
    expect(herList.text).not.toContain('Köln14');
    // Jürgen cannot open hers, nor see her group.
    const notHis = await theirs.post(`/notifications/${hers.id}/open`).type('form').send({ _csrf: theirCsrf });
    expect(notHis.headers.location).toBe('/notifications');
    expect((await theirs.get(herOpen.headers.location)).status).toBe(404);
  });

  it('say so when a summary\'s contacts are gone or fewer, and lead an older summary (no range of events) to the list it used to', async () => {
    const actor = await createUser(t.db, { name: 'Max Müller' });
    const colleague = await createUser(t.db, { name: 'Sabine Schröder' });
    await contactsInKoeln(SUMMARY_ABOVE + 1);
    await t.db('notifications').delete();
    const app = buildApp(t.db);
    const { agent, csrf } = await loginAs(app, actor.email);
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'archive', all: '1', city: 'köln', confirmed: await confirmedAll(agent, csrf, 'archive', { city: 'köln' }) });
    const notification = await t.db('notifications').where({ user_id: colleague.id }).first();
    expect(notification.count).toBe(SUMMARY_ABOVE + 1);
    const hers = await loginAs(app, colleague.email);
    await t.db('notifications').where({ id: notification.id }).update({ action_last_event_id: null });
    const older = await hers.agent.post(`/notifications/${notification.id}/open`).type('form').send({ _csrf: hers.csrf });
    expect(older.headers.location).toBe('/contacts?status=archived&assigned=me');
    await t.db('notifications').where({ id: notification.id }).update({ action_last_event_id: t.db('contact_events').max('id') });
    // Deleted but the first (the notification goes with its first contact): the one left.
    const [, ...others] = await t.db('contacts').orderBy('id').pluck('id');
    await t.db('contacts').whereIn('id', others).delete();
    const one = await hers.agent.post(`/notifications/${notification.id}/open`).type('form').send({ _csrf: hers.csrf });
    expect(one.headers.location).toMatch(/^\/contacts\?group=\d+$/);
    const oneLeft = (await hers.agent.get(one.headers.location)).text;
    expect(oneLeft).toContain('1 Kontakt');
    expect(oneLeft).toContain(`Die Benachrichtigung zählte ${SUMMARY_ABOVE + 1} Kontakte, die Sie betrafen; heute sind es 1`);
    // No longer hers: assigned to somebody else since.
    await t.db('groups').delete();
    const [first] = await t.db('contacts').pluck('id');
    await t.db('contacts').where({ id: first }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert({ contact_id: first, user_id: actor.id });
    const gone = await hers.agent.post(`/notifications/${notification.id}/open`).type('form').send({ _csrf: hers.csrf });
    expect(gone.headers.location).toBe('/contacts?status=archived&assigned=me');
    expect(await t.db('groups')).toHaveLength(0);
    expect((await hers.agent.get(gone.headers.location)).text).toContain('Die Kontakte dieser Benachrichtigung gibt es nicht mehr');
  });

  it(`stay one per contact for actions on up to ${SUMMARY_ABOVE} contacts`, async () => {
    const actor = await createUser(t.db);
    const colleague = await createUser(t.db);
    const ids = await contactsInKoeln(SUMMARY_ABOVE);
    await t.db('notifications').delete();
    const { agent, csrf } = await loginAs(buildApp(t.db), actor.email);
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'archive', ids });
    const rows = await t.db('notifications').select('user_id', 'contact_id', 'count').orderBy('contact_id');
    expect(rows.map((r) => [String(r.user_id), String(r.contact_id), r.count])).toEqual(ids.map((id) => [colleague.id, id, 1]));
  });
});

describe('a deactivated employee', () => {
  it('is marked "(deaktiviert)" where they acted: the contact header and the notifications', async () => {
    const me = await createUser(t.db, { name: 'Anna Admin' });
    const gone = await createUser(t.db, { name: 'Jürgen Weiß' });
    const [contact] = await t.db('contacts').insert({ last_name: 'Mayer', status: 'customer', created_by: gone.id }).returning('id');
    const [event] = await t.db('contact_events').insert({ contact_id: contact.id, actor_id: gone.id, kind: 'note', payload: { text: 'Rückruf' } }).returning('id');
    await t.db('notifications').insert({ user_id: me.id, contact_id: contact.id, event_id: event.id });
    await t.db('users').where({ id: gone.id }).update({ active: false });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    expect((await agent.get(`/contacts/${contact.id}`)).text).toMatch(/von Jürgen Weiß \(deaktiviert\)/);
    expect((await agent.get('/notifications')).text).toContain('Jürgen Weiß (deaktiviert)</strong>');
  });
});

describe('a summary notification of a reassignment', () => {
  it('leads to the contacts it is about: the new competence, or those assigned to me by name', () => {
    const summary = (to: unknown) => ({ contact_id: '1', count: 80, kind: 'assigned', payload: { from: { kind: 'competence', names: ['Kundenservice'] }, to } });
    expect(notificationPath(summary({ kind: 'competence', names: ['Vertrieb Süd'], id: '7' }))).toBe('/contacts?competence=7');
    expect(notificationPath(summary({ kind: 'users', names: ['Max Müller'] }))).toBe('/contacts?assigned=me&assigned_direct=1');
    expect(notificationPath(summary({ kind: 'all', names: [] }))).toBe('/contacts?assigned=me');
    // Written before competences carried their id: as before.
    expect(notificationPath(summary({ kind: 'competence', names: ['Vertrieb Süd'] }))).toBe('/contacts?assigned=me');
    expect(notificationPath({ ...summary({ kind: 'competence', id: '7' }), count: 1 })).toBe('/contacts/1');
    // Told as the one they were taken from: where they went (the first new employee's), not the reader's own.
    const toMax = summary({ kind: 'users', names: ['Max Müller', 'Sabine Schröder'], ids: ['4', '5'] });
    expect(notificationPath(toMax, '9')).toBe('/contacts?assigned=4&assigned_direct=1');
    expect(notificationPath(toMax, '5')).toBe('/contacts?assigned=me&assigned_direct=1');
  });

  it('says to whom', () => {
    const t = translator('de');
    const summary = (to: unknown) => ({ contact_id: '1', count: 1200, kind: 'assigned', payload: { from: { kind: 'all', names: [] }, to } });
    expect(summaryText(t, summary({ kind: 'users', names: ['Jürgen Weiß', 'Max Müller'], ids: ['3', '2'] }))).toBe('hat 1.200 Kontakte neu zugewiesen: Jürgen Weiß, Max Müller');
    expect(summaryText(t, summary({ kind: 'competence', names: ['Vertrieb Süd'], id: '7' }))).toBe('hat 1.200 Kontakte neu zugewiesen: Vertrieb Süd');
    expect(summaryText(t, summary({ kind: 'all', names: [] }))).toBe('hat 1.200 Kontakte neu zugewiesen: Alle Mitarbeiter');
    expect(summaryText(t, summary(undefined))).toBe('hat 1.200 Kontakte neu zugewiesen');
  });
});

describe('a summary opened as its contacts', () => {
  const toAll = { kind: 'all' as const, userIds: [], competenceId: undefined };

  async function open(email: string, notificationId: string) {
    const session = await loginAs(buildApp(t.db), email);
    const res = await session.agent.post(`/notifications/${notificationId}/open`).type('form').send({ _csrf: session.csrf });
    return { ...session, location: res.headers.location as string, groupId: /group=(\d+)/.exec(res.headers.location)?.[1] };
  }

  const members = async (groupId: string) => (await t.db('group_members').where({ group_id: groupId }).orderBy('contact_id').pluck('contact_id')).map(String);

  it('holds a background job\'s contacts, not what the same employee did meanwhile, of the same kind or not', async () => {
    const actor = await createUser(t.db, { name: 'Anna Admin' });
    const reader = await createUser(t.db, { name: 'Max Müller' });
    await t.db.raw(`insert into contacts (last_name, city, status) select 'Job' || g, 'Hamm', 'customer' from generate_series(1, 2100) g`);
    const jobIds = (await t.db('contacts').where({ city: 'Hamm' }).orderBy('id').pluck('id')).map(String);
    const others: string[] = [];
    for (let i = 0; i < 12; i++) others.push(await createContact(t.db, { last_name: `Anders${i}`, status: 'prospect' }));
    const jobId = await createBulkJob(t.db, 'archive', {}, { kind: 'ids', ids: jobIds }, actor.id, undefined);
    // The job's second chunk held back (a row of it locked), so that it spans two transactions with the employee's own in between.
    const blocker = await t.db.transaction();
    await blocker('contacts').where({ id: jobIds[jobIds.length - 1] }).forUpdate().first();
    const running = runBulkJob(t.db, jobId, pino({ level: 'silent' }));
    for (let waited = 0; (await t.db('bulk_jobs').where({ id: jobId }).first()).done < 2000; waited += 50) {
      if (waited > 20_000) throw new Error('the job did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await t.db.transaction((trx) => bulkArchive(trx, { kind: 'ids', ids: others.slice(0, 11) }, actor.id));
    await changeStatus(t.db, others[11], 'customer', actor.id);
    await blocker.rollback();
    await running;
    const [jobSummary, ownSummary] = await t.db('notifications').where({ user_id: reader.id }).where('count', '>', 1).orderBy('count', 'desc');
    expect([jobSummary.count, ownSummary.count]).toEqual([2100, 11]);
    const ofJob = await open(reader.email, jobSummary.id);
    expect(await members(ofJob.groupId!)).toEqual(jobIds);
    const ofOwn = await open(reader.email, ownSummary.id);
    expect(await members(ofOwn.groupId!)).toEqual(others.slice(0, 11));
  });

  it('is kept only while it is the employee\'s temporary group: made permanent, it is everybody\'s, and opening again makes a new one', async () => {
    const actor = await createUser(t.db, { name: 'Anna Admin' });
    const reader = await createUser(t.db, { name: 'Max Müller' });
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push(await createContact(t.db, { last_name: `Kunde${i}`, status: 'customer' }));
    const stranger = await createContact(t.db, { last_name: 'Fremder', status: 'customer' });
    const messe = await createGroup(t.db, { name: 'Messe', kind: 'static', assignment: toAll, actorId: actor.id });
    await addMembers(t.db, messe.id, ids, actor.id);
    const mine = await t.db('notifications').where({ user_id: reader.id }).first();
    const first = await open(reader.email, mine.id);
    expect((await t.db('groups').where({ id: first.groupId }).first()).name).toMatch(/^Zur Gruppe „Messe“ hinzugefügt von Anna Admin, /);
    const kept = await first.agent.post(`/groups/${first.groupId}/keep`).type('form').send({ _csrf: first.csrf });
    expect(kept.status).toBe(303);
    await addMembers(t.db, first.groupId!, [stranger], actor.id);
    const again = await first.agent.post(`/notifications/${mine.id}/open`).type('form').send({ _csrf: first.csrf });
    const groupId = /group=(\d+)/.exec(again.headers.location)![1];
    expect(groupId).not.toBe(first.groupId);
    expect(await members(groupId)).toEqual(ids);
    expect((await first.agent.get(again.headers.location)).text).not.toContain('Fremder');
  });

  it('with archived contacts cannot be made permanent (only prospects and customers are grouped), and says how to; other groups keep theirs', async () => {
    const actor = await createUser(t.db, { name: 'Anna Admin' });
    const reader = await createUser(t.db, { name: 'Max Müller' });
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push(await createContact(t.db, { last_name: `Kunde${i}`, status: 'customer' }));
    await t.db.transaction((trx) => bulkArchive(trx, { kind: 'ids', ids }, actor.id));
    const mine = await t.db('notifications').where({ user_id: reader.id }).first();
    const opened = await open(reader.email, mine.id);
    const toldBefore = await t.db('notifications').count({ n: '*' }).first();
    const page = await opened.agent.get(`/groups/${opened.groupId}`);
    expect(page.text).toContain('Diese Gruppe zeigt 11 Kontakte im Eingang oder im Archiv; in eine dauerhafte Gruppe kommen nur Interessenten und Kunden.');
    expect(page.text).not.toContain(`/groups/${opened.groupId}/keep`);
    // Sent anyway (a page open from before): the group page again, saying so; nothing changed.
    const kept = await opened.agent.post(`/groups/${opened.groupId}/keep`).type('form').send({ _csrf: opened.csrf });
    expect(kept.status).toBe(303);
    expect(kept.headers.location).toBe(`/groups/${opened.groupId}`);
    expect((await opened.agent.get(kept.headers.location)).text).toMatch(/message-error">Diese Gruppe zeigt 11 Kontakte im Eingang oder im Archiv/);
    expect(await t.db('groups').where({ id: opened.groupId }).first()).toMatchObject({ kind: 'temporary' });
    expect(await t.db('contact_events').where({ kind: 'group_added' })).toHaveLength(0);
    expect(await t.db('notifications').count({ n: '*' }).first()).toEqual(toldBefore);
    // A temporary group of the employee's own, one of whose members was archived since, becomes permanent as before.
    const own = await createGroup(t.db, { name: 'Rückrufe', kind: 'temporary', assignment: toAll, ownerId: reader.id, actorId: reader.id });
    const three = [await createContact(t.db, { last_name: 'Eins', status: 'customer' }), await createContact(t.db, { last_name: 'Zwei', status: 'customer' })];
    await addMembers(t.db, own.id, three, reader.id);
    await changeStatus(t.db, three[0], 'archived', actor.id);
    expect((await opened.agent.get(`/groups/${own.id}`)).text).toContain(`/groups/${own.id}/keep`);
    const ownKept = await opened.agent.post(`/groups/${own.id}/keep`).type('form').send({ _csrf: opened.csrf });
    expect(ownKept.headers.location).toBe(`/groups/${own.id}`);
    expect(await t.db('groups').where({ id: own.id }).first()).toMatchObject({ kind: 'static' });
    expect(await t.db('group_members').where({ group_id: own.id })).toHaveLength(2);
  });

  it('gets a name a group may have, however long the names in it', async () => {
    const actor = await createUser(t.db, { name: 'Anna-Lena Schmidt-Hohenberg von und zu Niederrhein-Westfalen' });
    const reader = await createUser(t.db, { name: 'Max Müller' });
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push(await createContact(t.db, { last_name: `Kunde${i}`, status: 'customer' }));
    const long = 'Messe Hannover 2026 – Interessenten aus Niedersachsen und Bremen, Rückruf bis Ende Januar';
    const group = await createGroup(t.db, { name: long, kind: 'static', assignment: toAll, actorId: actor.id });
    await addMembers(t.db, group.id, ids, actor.id);
    const mine = await t.db('notifications').where({ user_id: reader.id }).first();
    const opened = await open(reader.email, mine.id);
    const temp = await t.db('groups').where({ id: opened.groupId }).first();
    expect(temp.name.length).toBeLessThanOrEqual(100);
    expect(temp.name).toMatch(/^Zur Gruppe „Messe Hannover 2026…“ hinzugefügt von Anna-Lena Schmidt-H…, \d\d\.\d\d\. \d\d:\d\d$/);
    const saved = await opened.agent.post(`/groups/${opened.groupId}`).type('form').send({ _csrf: opened.csrf, name: temp.name, group_number: 'G-1', seen_name: temp.name, seen_group_number: '' });
    expect(saved.status).toBe(303);
  });

  it('cuts long names between characters, never inside an emoji', () => {
    for (const language of ['de', 'en'] as const) {
      const t = translator(language);
      for (const kind of ['status', 'assigned', 'group_added', 'group_removed', 'note']) {
        const name = summaryGroupName(t, { contact_id: '1', count: 20, kind, payload: { to: 'archived', group: '🎉'.repeat(80) }, actor_name: '😀'.repeat(60), created_at: new Date() });
        expect(name.length).toBeLessThanOrEqual(100);
        expect(name).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
        expect(name).toMatch(/\d\d\.\d\d\. \d\d:\d\d$/);
      }
    }
  });

  it('of a group change with nothing left for the employee leads to the notifications, not to one contact', async () => {
    const actor = await createUser(t.db, { name: 'Anna Admin' });
    const reader = await createUser(t.db, { name: 'Max Müller' });
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push(await createContact(t.db, { last_name: `Kunde${i}`, status: 'customer' }));
    const messe = await createGroup(t.db, { name: 'Messe', kind: 'static', assignment: toAll, actorId: actor.id });
    await addMembers(t.db, messe.id, ids, actor.id);
    const mine = await t.db('notifications').where({ user_id: reader.id }).first();
    await t.db('contacts').whereIn('id', ids).update({ assignment: 'users' });
    await t.db('contact_assignees').insert(ids.map((contact_id) => ({ contact_id, user_id: actor.id })));
    const opened = await open(reader.email, mine.id);
    expect(opened.location).toBe('/notifications');
    expect((await opened.agent.get('/notifications')).text).toContain('Die Kontakte dieser Benachrichtigung gibt es nicht mehr');
  });

  it('says so when more concern the employee now than then (once, when made), and opened twice at once makes one group', async () => {
    const actor = await createUser(t.db, { name: 'Anna Admin' });
    const reader = await createUser(t.db, { name: 'Max Müller' });
    const nord = await competence('Vertrieb Nord', []);
    // Interleaved: for all (Max's too) and Vertrieb Nord's (Max not a member).
    await t.db.raw(
      `insert into contacts (last_name, status, assignment, competence_id)
       select 'Kunde' || g, 'customer', case when g % 2 = 0 then 'all' else 'competence' end, case when g % 2 = 0 then null else ?::bigint end
         from generate_series(1, 24) g`,
      [nord],
    );
    // One action's history, written in the contacts' order (a bulk statement writes it in whatever order it meets them).
    await t.db.transaction(async (trx) => {
      const events = await trx.raw(
        `insert into contact_events (contact_id, actor_id, kind, payload) select id, ?, 'status', '{"to": "archived"}' from contacts order by id returning id`,
        [actor.id],
      );
      await notifyResponsible(trx, events.rows.map((row: { id: string }) => String(row.id)));
    });
    const summary = await t.db('notifications').where({ user_id: reader.id }).first();
    expect(summary.count).toBe(12);
    await t.db('competence_members').insert({ competence_id: nord, user_id: reader.id });
    const session = await loginAs(buildApp(t.db), reader.email);
    const opened = await session.agent.post(`/notifications/${summary.id}/open`).type('form').send({ _csrf: session.csrf });
    const list = await session.agent.get(opened.headers.location);
    // Now all 24 of the action, the team's first one too, though it came before Max's first.
    expect(list.text).toContain('24 Kontakte');
    expect(list.text).toContain('Die Benachrichtigung zählte 12 Kontakte, die Sie betrafen; heute sind es 24');
    // Opened again: the group as it is, which he may have changed himself since; nothing to say.
    const [first] = await t.db('group_members').pluck('contact_id');
    await t.db('group_members').where({ contact_id: first }).delete();
    const again = await session.agent.post(`/notifications/${summary.id}/open`).type('form').send({ _csrf: session.csrf });
    expect(again.headers.location).toBe(opened.headers.location);
    expect((await session.agent.get(again.headers.location)).text).not.toContain('Die Benachrichtigung zählte');
    // Opened three times at once (once it is gone): one group.
    await t.db('groups').delete();
    const opens = await Promise.all([1, 2, 3].map(() => session.agent.post(`/notifications/${summary.id}/open`).type('form').send({ _csrf: session.csrf })));
    expect(new Set(opens.map((res) => res.headers.location)).size).toBe(1);
    expect(await t.db('groups')).toHaveLength(1);
  });

  it('taken from a competence deleted since: says so, and leads where they went, as before', async () => {
    const admin = await createUser(t.db, { name: 'Anna Admin', role: 'admin' });
    const reader = await createUser(t.db, { name: 'Max Müller' });
    const newcomer = await createUser(t.db, { name: 'Sabine Schröder' });
    const nord = await competence('Vertrieb Nord', [reader.id]);
    const sued = await competence('Vertrieb Süd', [newcomer.id]);
    await t.db.raw(`insert into contacts (last_name, status, assignment, competence_id) select 'Nord' || g, 'customer', 'competence', ? from generate_series(1, 12) g`, [nord]);
    await reassign(t.db, nord, { kind: 'competence', competenceId: sued }, admin.id);
    const mine = await t.db('notifications').where({ user_id: reader.id }).first();
    expect(mine.count).toBe(12);
    // While it exists, Max's twelve:
    const before = await open(reader.email, mine.id);
    expect(await members(before.groupId!)).toHaveLength(12);
    await t.db('groups').delete();
    await removeCompetence(t.db, nord);
    const after = await open(reader.email, mine.id);
    expect(after.location).toBe(`/contacts?competence=${sued}`);
    expect((await after.agent.get(after.location)).text).toContain('Die Kontakte dieser Benachrichtigung gibt es nicht mehr');
  });
});
