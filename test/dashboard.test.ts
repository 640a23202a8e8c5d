import { useTestDatabase } from './db';
import { buildApp, createUser, fragmentAndPage, loginAs, withStatements } from './helpers';
import { createContact } from './factories';
import { insertEvent } from '../src/contacts/queries';
import { FEW_CONTACTS, findActivities } from '../src/dashboard/queries';

const t = useTestDatabase();

async function competence(name: string, memberIds: string[]): Promise<string> {
  const [row] = await t.db('competences').insert({ name }).returning('id');
  await t.db('competence_members').insert(memberIds.map((user_id) => ({ competence_id: row.id, user_id })));
  return String(row.id);
}

/** Me, logged in, on a start page with 35 notes by a colleague ("Notiz 0" … "Notiz 34"): more than one page. */
async function startPageWithManyNotes() {
  const me = await createUser(t.db);
  const colleague = await createUser(t.db);
  const id = await createContact(t.db, { last_name: 'Viel' });
  for (let i = 0; i < 35; i++) await insertEvent(t.db, { contact_id: id, actor_id: colleague.id, kind: 'note', payload: { text: `Notiz ${i}` } });
  const { agent } = await loginAs(buildApp(t.db), me.email);
  return { agent, page: await agent.get('/') };
}

describe('the dashboard', () => {
  it('shows activities on my contacts by others, newest first, and my contacts per status', async () => {
    const me = await createUser(t.db, { name: 'Sabine Schröder' });
    const colleague = await createUser(t.db, { name: 'Jürgen Weiß' });
    const team = await competence('Vertrieb Süd', [me.id]);
    const teamContact = await createContact(t.db, { first_name: 'Max', last_name: 'Team', status: 'customer' });
    await t.db('contacts').where({ id: teamContact }).update({ assignment: 'competence', competence_id: team });
    const foreign = await createContact(t.db, { first_name: 'Fritz', last_name: 'Fremd' });
    await t.db('contacts').where({ id: foreign }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert({ contact_id: foreign, user_id: colleague.id });
    const everyone = await createContact(t.db, { first_name: 'Alma', last_name: 'Alle', status: 'prospect' });

    await insertEvent(t.db, { contact_id: teamContact, actor_id: colleague.id, kind: 'note', payload: { text: 'Angebot geschickt' } });
    await insertEvent(t.db, { contact_id: foreign, actor_id: colleague.id, kind: 'note', payload: { text: 'Geheim' } });
    await insertEvent(t.db, { contact_id: everyone, actor_id: me.id, kind: 'note', payload: { text: 'Meine eigene Notiz' } });
    await insertEvent(t.db, { contact_id: everyone, actor_id: colleague.id, kind: 'status', payload: { from: 'inbox', to: 'prospect' } });

    const { agent } = await loginAs(buildApp(t.db), me.email);
    const { result: page, statements } = await withStatements(t.db, () => agent.get('/'));
    // The counts per status are read with the layout's bell, in one statement.
    expect(statements.filter((sql) => sql.includes('"notifications"'))).toEqual([expect.stringMatching(/json_object_agg/)]);
    expect(page.text).toContain('Guten Tag, Sabine Schröder!');
    expect(page.text).toMatch(/Alma Alle<\/a>[\s\S]*Jürgen Weiß[\s\S]*hat den Status geändert: Eingang → Interessent[\s\S]*Max Team<\/a>[\s\S]*Angebot geschickt/);
    expect(page.text).not.toContain('Geheim');
    expect(page.text).not.toContain('Meine eigene Notiz');
    expect(page.text).toMatch(/status-prospect">Interessent<\/span> <strong>1<\/strong>/);
    expect(page.text).toMatch(/status-customer">Kunde<\/span> <strong>1<\/strong>/);
    expect(page.text).toMatch(/status-inbox">Eingang<\/span> <strong>0<\/strong>/);

    const withOwn = await agent.get('/?own=1');
    expect(withOwn.text).toContain('Meine eigene Notiz');
  });

  it('pages older activities in as a fragment', async () => {
    const { agent, page } = await startPageWithManyNotes();
    expect(page.text).toContain('Notiz 34');
    expect(page.text).not.toContain('Notiz 4<');
    const more = page.text.match(/href="(\/\?before=\d+)"/)![1];
    // Opened in a new tab, or without JavaScript: the older activities as a whole page, with the counts beside them.
    const { fragment, whole } = await fragmentAndPage(agent, more);
    expect(fragment.text).toContain('Notiz 0');
    expect(fragment.text).not.toContain('Notiz 34');
    expect(whole.text).toContain('Notiz 0');
    expect(whole.text).not.toContain('Notiz 34');
    expect(whole.text).toMatch(/status-customer">Kunde<\/span> <strong>\d+<\/strong>/);
  });

  it('finds the same activities whether an employee has few contacts (read contact by contact) or many (the events walked)', async () => {
    const few = await createUser(t.db, { name: 'Nora Neu' });
    const many = await createUser(t.db, { name: 'Gustav Groß' });
    const colleague = await createUser(t.db);
    const team = await competence('Großkunden', [many.id]);
    // FEW_CONTACTS + 1 contacts for the team, a handful by name for the newcomer, one for all, one for nobody of the two.
    const teamContacts = (await t.db.raw(
      `insert into contacts (last_name, status, assignment, competence_id)
       select 'Team ' || n, case when n % 5 = 0 then 'archived' else 'customer' end, 'competence', ? from generate_series(1, ?) n returning id`,
      [team, FEW_CONTACTS + 1],
    )).rows.map((row: { id: string }) => String(row.id));
    const named: string[] = [];
    for (const status of ['inbox', 'prospect', 'customer', 'archived'] as const) {
      const id = await createContact(t.db, { last_name: `Neu ${status}`, status });
      await t.db('contacts').where({ id }).update({ assignment: 'users' });
      await t.db('contact_assignees').insert({ contact_id: id, user_id: few.id });
      named.push(id);
    }
    const everyone = await createContact(t.db, { last_name: 'Für alle' });
    const foreign = await createContact(t.db, { last_name: 'Fremd' });
    await t.db('contacts').where({ id: foreign }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert({ contact_id: foreign, user_id: colleague.id });
    // Events interleaved over all of them, some by the two employees themselves.
    const targets = [...named, everyone, foreign, teamContacts[0], teamContacts[500], teamContacts[FEW_CONTACTS]];
    for (let i = 0; i < 90; i++) {
      const actor = i % 7 === 0 ? few.id : i % 11 === 0 ? many.id : colleague.id;
      await insertEvent(t.db, { contact_id: targets[i % targets.length], actor_id: actor, kind: 'note', payload: { text: `Notiz ${i}` } });
    }

    // The rule spelled out plainly, as the oracle.
    const expected = async (userId: string, includeOwn: boolean, beforeId?: string) =>
      (
        await t.db.raw(
          `select e.id from contact_events e join contacts c on c.id = e.contact_id
           where (c.assignment = 'all'
             or exists (select 1 from contact_assignees a where a.contact_id = c.id and a.user_id = :user)
             or exists (select 1 from competence_members m where m.competence_id = c.competence_id and m.user_id = :user))
             and (:own or e.actor_id is distinct from :user) and (:before::bigint is null or e.id < :before::bigint)
           order by e.id desc limit 31`,
          { user: userId, own: includeOwn, before: beforeId ?? null },
        )
      ).rows.map((row: { id: string }) => String(row.id));

    for (const [user, walked] of [[few, false], [many, true]] as const) {
      for (const includeOwn of [false, true]) {
        const { result: found, statements } = await withStatements(t.db, () => findActivities(t.db, user.id, { includeOwn, limit: 31 }));
        expect(found.map((a) => a.id)).toEqual(await expected(user.id, includeOwn));
        expect(found).toHaveLength(31);
        expect(statements.some((sql) => sql.includes('cross join lateral'))).toBe(!walked);
        const before = found[10].id;
        const older = await findActivities(t.db, user.id, { includeOwn, beforeId: before, limit: 31 });
        expect(older.map((a) => a.id)).toEqual(await expected(user.id, includeOwn, before));
      }
    }

    // And on the start page.
    const { agent } = await loginAs(buildApp(t.db), few.email);
    const page = await agent.get('/');
    expect(page.text).toContain('Neu inbox</a>');
    expect(page.text).toContain('Für alle</a>');
    expect(page.text).not.toContain('Fremd</a>');
    expect(page.text).not.toContain('Team 1</a>');
  });
});

describe('notifications in the browser', () => {
  it('show the unread count, pop up new ones with the contact, open them and mark all read', async () => {
    const me = await createUser(t.db);
    const colleague = await createUser(t.db, { name: 'Jürgen Weiß' });
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller' });
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    const before = await agent.get('/');
    const poller = before.text.match(/hx-get="(\/notifications\/poll\?after=\d+)"/)![1];
    expect(poller).toBe('/notifications/poll?after=0');

    await insertEvent(t.db, { contact_id: id, actor_id: colleague.id, kind: 'note', payload: { text: 'Ruft zurück' } });
    const poll = await agent.get(poller).set('HX-Request', 'true');
    expect(poll.text).toMatch(/id="notify-bell"[^>]*hx-swap-oob="true"[\s\S]*class="count">1</);
    expect(poll.text).toMatch(/hx-swap-oob="afterbegin:#popups"[\s\S]*data-popup[\s\S]*Max Müller[\s\S]*Jürgen Weiß[\s\S]*Ruft zurück/);
    const next = poll.text.match(/hx-get="(\/notifications\/poll\?after=\d+)"/)![1];
    expect(next).not.toBe(poller);
    expect((await agent.get(next).set('HX-Request', 'true')).text).not.toContain('data-popup');

    const notification = await t.db('notifications').where({ user_id: me.id }).first();
    const open = await agent.post(`/notifications/${notification.id}/open`).type('form').send({ _csrf: csrf });
    expect(open.headers.location).toBe(`/contacts/${id}`);
    expect((await t.db('notifications').where({ id: notification.id }).first()).read_at).not.toBeNull();

    await insertEvent(t.db, { contact_id: id, actor_id: colleague.id, kind: 'note', payload: { text: 'Noch eine' } });
    const list = await agent.get('/notifications');
    expect(list.text).toMatch(/class="notification unread"[\s\S]*Noch eine/);
    await agent.post('/notifications/read').type('form').send({ _csrf: csrf });
    expect(await t.db('notifications').whereNull('read_at')).toHaveLength(0);
    expect((await agent.get('/notifications')).text).toContain('Eine Benachrichtigung als gelesen markiert.');
    await agent.post('/notifications/read').type('form').send({ _csrf: csrf });
    expect((await agent.get('/notifications')).text).toContain('Es gab keine ungelesenen Benachrichtigungen.');

    // A popup still on screen for a contact deleted since: its notification went with it, and opening it says so.
    await insertEvent(t.db, { contact_id: id, actor_id: colleague.id, kind: 'note', payload: { text: 'Zuletzt' } });
    const last = await t.db('notifications').where({ user_id: me.id }).orderBy('id', 'desc').first();
    await t.db('contacts').where({ id }).delete();
    const gone = await agent.post(`/notifications/${last.id}/open`).type('form').send({ _csrf: csrf });
    expect(gone.status).toBe(303);
    expect(gone.headers.location).toBe('/notifications');
    expect((await agent.get('/notifications')).text).toContain('Diese Benachrichtigung gibt es nicht (mehr), zum Beispiel weil ihr Kontakt inzwischen gelöscht wurde.');
  });

  it('reads its first page anew when a notification arrives, also what committed late', async () => {
    const me = await createUser(t.db);
    const colleague = await createUser(t.db, { name: 'Jürgen Weiß' });
    const id = await createContact(t.db, { last_name: 'Neuigkeit' });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    const page = await agent.get('/');
    expect(page.text).toMatch(/<div id="activities-refresh" hidden hx-get="\/" hx-trigger="notificationsArrived from:body"\s+hx-target="#activities" hx-swap="innerHTML" hx-sync="#activities:replace"/);

    // A long transaction (a bulk action, say) holds an older event while a newer one commits first.
    const slow = await t.db.transaction();
    await insertEvent(slow, { contact_id: id, actor_id: colleague.id, kind: 'note', payload: { text: 'Langsame Notiz' } });
    await insertEvent(t.db, { contact_id: id, actor_id: colleague.id, kind: 'note', payload: { text: 'Schnelle Notiz' } });
    // The poll that brings the popup tells the page; a poll without news does not.
    const poll = await agent.get('/notifications/poll?after=0').set('HX-Request', 'true');
    expect(JSON.parse(poll.headers['hx-trigger'])).toEqual({ notificationsArrived: true });
    expect((await agent.get('/notifications/poll?after=999999').set('HX-Request', 'true')).headers['hx-trigger']).toBeUndefined();
    const first = await agent.get('/').set('HX-Request', 'true');
    expect(first.headers.vary).toMatch(/HX-Request/);
    expect(first.text).toContain('Schnelle Notiz');
    expect(first.text).not.toContain('Langsame Notiz');
    expect(first.text).not.toContain('<html');
    await slow.commit();
    const second = await agent.get('/').set('HX-Request', 'true');
    expect(second.text).toMatch(/Schnelle Notiz[\s\S]*Langsame Notiz/);
    // "Meine Kontakte" comes along: a reassignment changes it.
    expect(second.text).toMatch(/<ul class="status-counts" id="my-counts" hx-swap-oob="true">[\s\S]*status-prospect">Interessent<\/span> <strong>1<\/strong>/);
    await t.db('contacts').where({ id }).update({ status: 'customer' });
    expect((await agent.get('/').set('HX-Request', 'true')).text).toMatch(/status-customer">Kunde<\/span> <strong>1<\/strong>/);
  });

  it('is left as it is once older activities are paged in, and an older page opened whole is never refreshed', async () => {
    const { agent, page } = await startPageWithManyNotes();
    const more = page.text.match(/href="(\/\?before=\d+)"/)![1];
    // Paging in and the reload on a notification share one queue: the later aborts the other.
    expect(page.text).toMatch(/hx-get="\/\?before=\d+" hx-target="closest li" hx-swap="outerHTML" hx-sync="#activities:replace"/);
    const older = await agent.get(more).set('HX-Request', 'true');
    expect(older.text).toContain('Notiz 0');
    // Not read anew any more (that would fold the older ones away): a notification shows a hint to reload instead.
    expect(older.text).toMatch(/<p id="activities-refresh" class="hint" hidden data-reveal-on="notificationsArrived" hx-swap-oob="true" role="status">Es gibt neue Aktivitäten\. <a href="\/">Liste neu laden<\/a><\/p>/);
    expect(older.text).not.toContain('hx-get="/"');
    expect((await agent.get(more)).text).not.toContain('activities-refresh');
  });

  it('pop up newest first, also several from one poll', async () => {
    const me = await createUser(t.db);
    const colleague = await createUser(t.db, { name: 'Jürgen Weiß' });
    const id = await createContact(t.db, { last_name: 'Reihenfolge' });
    const { agent } = await loginAs(buildApp(t.db), me.email);
    for (const text of ['Erste', 'Zweite', 'Dritte']) await insertEvent(t.db, { contact_id: id, actor_id: colleague.id, kind: 'note', payload: { text } });
    const poll = await agent.get('/notifications/poll?after=0').set('HX-Request', 'true');
    expect(poll.text).toMatch(/data-popup[\s\S]*Dritte[\s\S]*data-popup[\s\S]*Zweite[\s\S]*data-popup[\s\S]*Erste/);
  });

  it("cannot open someone else's notification", async () => {
    const me = await createUser(t.db);
    const other = await createUser(t.db);
    const id = await createContact(t.db, { last_name: 'X' });
    await insertEvent(t.db, { contact_id: id, actor_id: me.id, kind: 'note', payload: { text: 'Hallo' } });
    const theirs = await t.db('notifications').where({ user_id: other.id }).first();
    const { agent, csrf } = await loginAs(buildApp(t.db), me.email);
    // Answered as one that is gone: nothing says it exists.
    const open = await agent.post(`/notifications/${theirs.id}/open`).type('form').send({ _csrf: csrf });
    expect(open.status).toBe(303);
    expect(open.headers.location).toBe('/notifications');
    expect((await t.db('notifications').where({ id: theirs.id }).first()).read_at).toBeNull();
    expect((await agent.post('/notifications/abc/open').type('form').send({ _csrf: csrf })).status).toBe(404);
  });
});
