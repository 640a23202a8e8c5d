import { useTestDatabase } from './db';
import { buildApp, confirmedAll, createUser, loginAs } from './helpers';
import { createContact } from './factories';
import { bulkDelete, confirmedTarget, SelectionChanged, selectionFingerprint, type Target } from '../src/contacts/bulk';

const t = useTestDatabase();

async function login() {
  const user = await createUser(t.db, { name: 'Sabine Schröder' });
  return { user, ...(await loginAs(buildApp(t.db), user.email)) };
}

const statusOf = async (id: string) => (await t.db('contacts').where({ id }).first())?.status;

describe('selecting contacts', () => {
  it('shows the bar with the count as soon as something is ticked, and keeps the ticks across pages of the same filter', async () => {
    const { agent, csrf } = await login();
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(await createContact(t.db, { last_name: `P${String(i).padStart(2, '0')}`, city: 'Köln' }));
    const tick = (id: string, filter: Record<string, string> = { city: 'köln' }) =>
      agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ ...filter, toggle: id, ids: id });
    await tick(ids[0]);
    const bar = await tick(ids[55]);
    expect(bar.text).toContain('2 ausgewählt');
    expect(bar.text).toContain('Alle 60 Treffer auswählen');
    const firstPage = await agent.get('/contacts?city=köln');
    expect(firstPage.text).toMatch(new RegExp(`value="${ids[0]}" aria-label="[^"]+" checked`));
    expect(firstPage.text).toContain('2 ausgewählt');
    // The pager's link carries the page's number beside the cursor: still the same filter, still ticked.
    const next = firstPage.text.match(/href="(\/contacts\?[^"]*page=2[^"]*)" hx-get="[^"]*" rel="next"/)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    const secondPage = await agent.get(next!).set('HX-Request', 'true');
    expect(secondPage.text).toContain('Seite 2 von 2');
    expect(secondPage.text).toMatch(new RegExp(`value="${ids[55]}" aria-label="[^"]+" checked`));
    expect(secondPage.text).toContain('<strong>2 ausgewählt</strong>');
    // Another filter shows none of them ticked, and says where they are instead of dropping them silently.
    const otherFilter = await agent.get('/contacts?city=bonn');
    expect(otherFilter.text).not.toContain('ausgewählt</strong>');
    expect(otherFilter.text).toContain('2 Kontakte sind bei einer anderen Suche oder mit anderen Filtern ausgewählt.');
    expect(otherFilter.text).toContain('<a href="/contacts?city=k%C3%B6ln">Zurück zu dieser Auswahl</a>');
    expect(otherFilter.text).not.toMatch(/id="bulk-bar"[^>]*hidden/);
    // Ticking there starts a new selection: the note goes, the old ticks with it.
    const bonn = await createContact(t.db, { last_name: 'Bonner', city: 'Bonn' });
    const fresh = await tick(bonn, { city: 'bonn' });
    expect(fresh.text).toContain('<strong>1 ausgewählt</strong>');
    expect(fresh.text).not.toContain('anderen Suche');
    expect((await agent.get('/contacts?city=köln')).text).not.toContain('ausgewählt</strong>');
  });

  it('says nothing of ticks made in a group deleted since, and forgets them', async () => {
    const { agent, csrf } = await login();
    const member = await createContact(t.db, { last_name: 'Mitglied' });
    const [group] = await t.db('groups').insert({ name: 'Weg', kind: 'static' }).returning('id');
    await t.db('group_members').insert({ group_id: group.id, contact_id: member });
    const tick = await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ group: String(group.id), toggle: member, ids: member });
    expect(tick.text).toContain('<strong>1 ausgewählt</strong>');
    expect((await agent.get('/contacts')).text).toContain(`<a href="/contacts?group=${group.id}">Zurück zu dieser Auswahl</a>`);
    await t.db('groups').where({ id: group.id }).delete();
    const list = await agent.get('/contacts');
    expect(list.text).not.toContain('anderen Suche');
    expect(list.text).toMatch(/id="bulk-bar"[^>]*hidden/);
  });

  it('selects every match of the filter with "Alle … Treffer auswählen"', async () => {
    const { agent, csrf } = await login();
    for (let i = 0; i < 3; i++) await createContact(t.db, { last_name: `K${i}`, city: 'Köln' });
    const res = await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ city: 'köln', all: '1' });
    expect(res.text).toContain('Alle 3 Treffer ausgewählt');
    expect(JSON.parse(res.headers['hx-trigger']).selectionChanged).toEqual({ checked: true });
    // Unticking one of them keeps the others: every match but that one, shown unticked, left out by the action.
    const [one, two] = (await t.db('contacts').orderBy('id').pluck('id')).map(String);
    const untick = await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ city: 'köln', toggle: one });
    expect(untick.text).toContain('2 von 3 Treffern ausgewählt');
    expect(untick.text).toContain('Alle 3 Treffer auswählen');
    const list = await agent.get('/contacts?city=k%C3%B6ln').set('HX-Request', 'true');
    // The boxes' requests queue on the table (src/contacts/bulk-routes.ts reads and writes the selection whole).
    expect(list.text).toMatch(/<table class="table contacts"[^>]* hx-sync="this:queue all">/);
    expect(list.text).toMatch(new RegExp(`value="${one}" aria-label="[^"]*"\\s+hx-post`));
    expect(list.text).toMatch(new RegExp(`value="${two}" aria-label="[^"]*" checked`));
    const dialog = await agent.get('/contacts/bulk?action=archive&city=k%C3%B6ln').set('HX-Request', 'true');
    expect(dialog.text).toContain(`<input type="hidden" name="except" value="${one}">`);
    const confirmed = dialog.text.match(/name="confirmed" value="([^"]+)"/)![1];
    expect((await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'archive', all: '1', city: 'köln', except: one, confirmed })).status).toBe(303);
    expect((await t.db('contacts').orderBy('id').pluck('status'))).toEqual(['prospect', 'archived', 'archived']);
  });

  it('takes no more than 1,000 ticked one by one, and unticks on screen what it did not take', async () => {
    const { agent, csrf } = await login();
    const ids: string[] = (await t.db.raw(`insert into contacts (last_name) select 'Reihe ' || g from generate_series(1, 1002) g returning id`)).rows.map((r: { id: string }) => String(r.id));
    const send = (fields: Record<string, string>) => agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send(fields);
    for (let page = 0; page < 20; page++) await send({ page_ids: ids.slice(page * 50, page * 50 + 50).join(','), page_checked: '1' });
    const full = await send({ toggle: ids[1000], ids: ids[1000] });
    expect(full.status).toBe(200);
    expect(full.text).toContain('<strong>1.000 ausgewählt</strong>');
    const triggered = JSON.parse(full.headers['hx-trigger']);
    expect(triggered.selectionChanged).toEqual({ unticked: [ids[1000]] });
    expect(full.text).toContain('<p class="bulk-notice" role="status">Es lassen sich höchstens 1.000 Kontakte einzeln auswählen');
    // Every match selected, then pages unticked: past 1,000 left out, the boxes just unticked are ticked again.
    await send({ all: '1' });
    for (let page = 0; page < 20; page++) await send({ page_ids: ids.slice(page * 50, page * 50 + 50).join(','), page_checked: '0' });
    const tooMany = await send({ toggle: ids[1000] });
    expect(JSON.parse(tooMany.headers['hx-trigger']).selectionChanged).toEqual({ reticked: [ids[1000]] });
    expect(tooMany.text).toContain('2 von 1.002 Treffern ausgewählt');
    expect(tooMany.text).toContain('höchstens 1.000 einzeln abwählen');
    await send({ clear: '1' });
    for (let page = 0; page < 20; page++) await send({ page_ids: ids.slice(page * 50, page * 50 + 50).join(','), page_checked: '1' });
    // Unticking one makes room again.
    await send({ toggle: ids[0] });
    const room = await send({ toggle: ids[1000], ids: ids[1000] });
    expect(room.headers['hx-trigger'] ?? '').not.toContain('unticked');
    expect(room.text).not.toContain('bulk-notice');
  });
});

describe('bulk actions', () => {
  it('ask for confirmation naming the count and what will be skipped', async () => {
    const { agent, csrf } = await login();
    const a = await createContact(t.db, { last_name: 'A', status: 'customer' });
    const b = await createContact(t.db, { last_name: 'B', status: 'archived' });
    await agent.post('/contacts/selection').set('X-CSRF-Token', csrf).type('form').send({ status: ['customer', 'archived'], toggle: a, ids: a });
    await agent.post('/contacts/selection').set('X-CSRF-Token', csrf).type('form').send({ status: ['customer', 'archived'], toggle: b, ids: b });
    const dialog = await agent.get('/contacts/bulk?action=archive&status=customer&status=archived').set('HX-Request', 'true');
    expect(dialog.text).toMatch(/^<dialog data-modal/);
    expect(dialog.text).toContain('1 Kontakt archivieren?');
    expect(dialog.text).toContain('1 wird übersprungen: Status Archiv');
    const del = await agent.get('/contacts/bulk?action=delete&status=customer&status=archived').set('HX-Request', 'true');
    expect(del.text).toContain('2 Kontakte endgültig löschen? Gelöschte Kontakte können nicht wiederhergestellt werden.');
  });

  it('archive the selected ids in one go, remembering the active status, with history, skipping archived ones', async () => {
    const { agent, csrf, user } = await login();
    const customer = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    const inbox = await createContact(t.db, { last_name: 'Eingang', status: 'inbox' });
    const archived = await createContact(t.db, { last_name: 'Alt', status: 'archived', previous_status: 'prospect' });
    const untouched = await createContact(t.db, { last_name: 'Bleibt', status: 'prospect' });
    const res = await agent
      .post('/contacts/bulk')
      .set('HX-Request', 'true')
      .set('HX-Current-URL', 'http://intranet/contacts')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'archive', ids: [customer, inbox, archived, '999999'] });
    expect(res.status).toBe(200);
    const trigger = JSON.parse(res.headers['hx-trigger']);
    expect(trigger.showMessage.text).toBe('2 Kontakte archiviert. 1 übersprungen: Status Archiv.');
    expect(trigger.closeDialog).toBe(true);
    expect(res.headers['hx-retarget']).toBe('#results');
    expect(await t.db('contacts').where({ id: customer }).first()).toMatchObject({ status: 'archived', previous_status: 'customer' });
    expect(await t.db('contacts').where({ id: inbox }).first()).toMatchObject({ status: 'archived', previous_status: null });
    expect(await t.db('contacts').where({ id: archived }).first()).toMatchObject({ previous_status: 'prospect' });
    expect(await statusOf(untouched)).toBe('prospect');
    const events = await t.db('contact_events').where({ kind: 'status', actor_id: user.id }).orderBy('contact_id');
    expect(events.map((e) => [String(e.contact_id), e.payload.from])).toEqual([
      [customer, 'customer'],
      [inbox, 'inbox'],
    ]);
  });

  it('with all=1 affect exactly the filter result, even when the search holds quotes and %', async () => {
    const { agent, csrf } = await login();
    const hit = await createContact(t.db, { last_name: "O'Brien", company: '100% Bio' });
    const near = await createContact(t.db, { last_name: 'OBrien', company: '100 Bio' });
    const other = await createContact(t.db, { last_name: 'Anders' });
    const confirmed = await confirmedAll(agent, csrf, 'archive', { q: "o'brien 100%" });
    const res = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'archive', all: '1', q: "o'brien 100%", confirmed });
    expect(res.status).toBe(303);
    expect(await statusOf(hit)).toBe('archived');
    expect(await statusOf(near)).toBe('prospect');
    expect(await statusOf(other)).toBe('prospect');
  });

  it('with all=1 act on the set that was confirmed: one a colleague added meanwhile stops the action, and the dialog shows the new count', async () => {
    const { agent, csrf } = await login();
    await createContact(t.db, { last_name: 'Zzztest Eins' });
    await createContact(t.db, { last_name: 'Zzztest Zwei' });
    const confirmed = await confirmedAll(agent, csrf, 'delete', { q: 'zzztest' });
    const added = await createContact(t.db, { last_name: 'Zzztest Drei' });
    const refused = await agent.post('/contacts/bulk').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ action: 'delete', all: '1', q: 'zzztest', confirmed });
    expect(refused.status).toBe(409);
    // With the number confirmed before beside the one now.
    expect(refused.text).toContain('Seit dem Öffnen dieses Dialogs passen andere Kontakte zur Auswahl (neu angelegt, geändert oder gelöscht): vorher 2, jetzt 3.');
    expect(refused.text).toContain('3 Kontakte endgültig löschen?');
    // The list behind it, still showing two, reads itself anew (its filter form listens for this).
    expect(JSON.parse(refused.headers['hx-trigger'])).toMatchObject({ listChanged: true });
    expect((await agent.get('/contacts?q=zzztest')).text).toMatch(/<form id="contact-filter"[^>]*hx-trigger="[^"]*listChanged from:body"/);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '3' });
    // Without the value (a form from before this check) nothing happens either.
    const unconfirmed = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'delete', all: '1', q: 'zzztest' });
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.text).toContain('Es wurde nichts ausgeführt: bitte die Zahl unten prüfen und erneut bestätigen.');
    // As many as before, but not the same ones: said so.
    const swapped = await agent
      .post('/contacts/bulk')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'delete', all: '1', q: 'zzztest', confirmed: confirmed.replace(/^2:/, '3:') });
    expect(swapped.text).toContain('weiterhin 3, aber nicht mehr dieselben');
    // Confirmed again, with what the dialog shows now: all three.
    const again = refused.text.match(/name="confirmed" value="([^"]+)"/)![1];
    expect(again).not.toBe(confirmed);
    expect((await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'delete', all: '1', q: 'zzztest', confirmed: again })).status).toBe(303);
    expect(await t.db('contacts').where({ id: added })).toHaveLength(0);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('with all=1 fix the confirmed set in the action’s transaction: a contact added after the check is left alone', async () => {
    const { user } = await login();
    await createContact(t.db, { last_name: 'Zzztest Eins' });
    await createContact(t.db, { last_name: 'Zzztest Zwei' });
    const target: Target = { kind: 'filter', filter: { q: 'zzztest' }, viewerId: user.id };
    const confirmed = await selectionFingerprint(t.db, target);
    let added = '';
    const deleted = await t.db.transaction(async (trx) => {
      const fixed = await confirmedTarget(trx, target, confirmed);
      // A colleague's new contact, committed between the check and the delete.
      added = await createContact(t.db, { last_name: 'Zzztest Drei' });
      return bulkDelete(trx, fixed, user.id);
    });
    expect(deleted.affected).toBe(2);
    expect((await t.db('contacts').select('id')).map((r) => String(r.id))).toEqual([added]);
    // A set that is no longer the one confirmed is refused before anything is done.
    await expect(t.db.transaction((trx) => confirmedTarget(trx, target, confirmed))).rejects.toBeInstanceOf(SelectionChanged);
  });

  it('with all=1 make no group from a set that changed since the dialog, and show the dialog again', async () => {
    const { agent, csrf } = await login();
    await createContact(t.db, { last_name: 'Zzztest Eins' });
    const confirmed = await confirmedAll(agent, csrf, 'new_group', { q: 'zzztest' });
    await createContact(t.db, { last_name: 'Zzztest Zwei' });
    const refused = await agent
      .post('/contacts/bulk')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'new_group', all: '1', q: 'zzztest', confirmed, name: 'Messe 2027', assignment: 'all' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Seit dem Öffnen dieses Dialogs passen andere Kontakte zur Auswahl');
    expect(refused.text).toContain('value="Messe 2027"');
    expect(await t.db('groups')).toEqual([]);
    expect(await t.db('group_members')).toEqual([]);
  });

  it('with all=1 stay inside the chosen group', async () => {
    const { agent, csrf } = await login();
    const member = await createContact(t.db, { last_name: 'Mitglied' });
    const outsider = await createContact(t.db, { last_name: 'Außen' });
    const [g] = await t.db('groups').insert({ name: 'Messe', kind: 'static' }).returning('id');
    await t.db('group_members').insert({ group_id: g.id, contact_id: member });
    const confirmed = await confirmedAll(agent, csrf, 'archive', { group: String(g.id) });
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'archive', all: '1', group: String(g.id), confirmed });
    expect(await statusOf(member)).toBe('archived');
    expect(await statusOf(outsider)).toBe('prospect');
  });

  it('keep one selection for the default statuses whether or not they are named (the live search leaves them out)', async () => {
    const { agent, csrf } = await login();
    const a = await createContact(t.db, { last_name: 'Anders', status: 'customer' });
    // The checkbox sends the whole filter form along, default statuses included.
    await agent.post('/contacts/selection').set('X-CSRF-Token', csrf).type('form').send({ q: 'anders', status: ['prospect', 'customer'], toggle: a, ids: a });
    const list = await agent.get('/contacts?q=anders').set('HX-Request', 'true');
    expect(list.text).toMatch(new RegExp(`value="${a}"[^>]*checked`));
    expect(list.text).toContain('1 ausgewählt');
  });

  it('assign only once a kind of assignment is chosen: the dialog starts with none, and none sent changes nothing', async () => {
    const { agent, csrf } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const b = await createContact(t.db, { last_name: 'B', status: 'prospect' });
    await t.db('contacts').where({ id: b }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert({ contact_id: b, user_id: max.id });
    await agent.post('/contacts/selection').set('X-CSRF-Token', csrf).type('form').send({ toggle: b, ids: b });
    const dialog = await agent.get('/contacts/bulk?action=assign').set('HX-Request', 'true');
    expect(dialog.status).toBe(200);
    expect(dialog.text).toMatch(/name="assignment" value="all">/);
    expect(dialog.text).not.toMatch(/name="assignment" value="\w+" checked/);
    const res = await agent.post('/contacts/bulk').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ action: 'assign', ids: [b] });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Bitte eine Art der Zuweisung wählen.');
    expect(res.text).not.toMatch(/name="assignment" value="\w+" checked/);
    expect((await t.db('contacts').where({ id: b }).first()).assignment).toBe('users');
    expect(await t.db('contact_assignees').where({ contact_id: b })).toHaveLength(1);
  });

  it('assign prospects and customers, skipping inbox ones, recording each previous assignment', async () => {
    const { agent, csrf, user } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const [team] = await t.db('competences').insert({ name: 'Vertrieb' }).returning('id');
    const a = await createContact(t.db, { last_name: 'A', status: 'customer' });
    const b = await createContact(t.db, { last_name: 'B', status: 'prospect' });
    await t.db('contacts').where({ id: b }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert({ contact_id: b, user_id: max.id });
    const inbox = await createContact(t.db, { last_name: 'C', status: 'inbox' });
    const res = await agent
      .post('/contacts/bulk')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'assign', ids: [a, b, inbox], assignment: 'competence', competence_id: String(team.id) });
    expect(res.status).toBe(303);
    const rows = await t.db('contacts').select('id', 'assignment', 'competence_id', 'updated_by').orderBy('id');
    expect(rows.map((r) => [r.assignment, r.competence_id && String(r.competence_id), r.updated_by && String(r.updated_by)])).toEqual([
      ['competence', String(team.id), String(user.id)],
      ['competence', String(team.id), String(user.id)],
      ['all', null, null],
    ]);
    expect(await t.db('contact_assignees')).toHaveLength(0);
    const events = await t.db('contact_events').where({ kind: 'assigned', actor_id: user.id }).orderBy('contact_id');
    expect(events.map((e) => e.payload.from)).toEqual([
      { kind: 'all', names: [] },
      { kind: 'users', names: ['Max Müller'], ids: [max.id] },
    ]);
    expect(events[0].payload.to).toEqual({ kind: 'competence', names: ['Vertrieb'], id: String(team.id) });
    // Assigned once more the same way: nothing happened, so nothing is recorded or notified.
    const notifications = await t.db('notifications').count({ n: '*' }).first();
    const again = await agent
      .post('/contacts/bulk')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'assign', ids: [a, b], assignment: 'competence', competence_id: String(team.id) });
    expect(again.status).toBe(303);
    expect((await agent.get('/contacts')).text).toContain('0 Kontakte neu zugewiesen. 2 hatten diese Zuweisung schon.');
    expect(await t.db('contact_events').where({ kind: 'assigned', actor_id: user.id })).toHaveLength(2);
    expect(await t.db('notifications').count({ n: '*' }).first()).toEqual(notifications);
  });

  it('assign: tell those the contacts are taken from as well as those who get them, each once', async () => {
    const { agent, csrf, user } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const juergen = await createUser(t.db, { name: 'Jürgen Weiß' });
    const anna = await createUser(t.db, { name: 'Anna Berg' });
    const emily = await createUser(t.db, { name: 'Emily Clarke', active: false });
    const [team] = await t.db('competences').insert({ name: 'Vertrieb' }).returning('id');
    await t.db('competence_members').insert([sabine.id, emily.id].map((user_id) => ({ competence_id: team.id, user_id })));
    const byName = await createContact(t.db, { last_name: 'Named', status: 'customer' });
    await t.db('contacts').where({ id: byName }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert([max.id, anna.id].map((user_id) => ({ contact_id: byName, user_id })));
    const byTeam = await createContact(t.db, { last_name: 'Team', status: 'customer' });
    await t.db('contacts').where({ id: byTeam }).update({ assignment: 'competence', competence_id: team.id });
    const forAll = await createContact(t.db, { last_name: 'Alle', status: 'prospect' });

    const res = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'assign', ids: [byName, byTeam, forAll], assignment: 'users', assignee_ids: [anna.id] });
    expect(res.status).toBe(303);
    const told = await t.db('notifications').select('user_id', 'contact_id', 'count');
    const pairs = told.map((n) => `${n.contact_id}:${n.user_id}:${n.count}`).sort();
    // Max had "Named" (with Anna, who keeps it: told once); Sabine's team had "Team" (Emily is deactivated);
    // "Alle" was everybody's. Anna gets all three. The actor is told nothing.
    expect(pairs).toEqual(
      [
        `${byName}:${max.id}:1`,
        `${byName}:${anna.id}:1`,
        `${byTeam}:${sabine.id}:1`,
        `${byTeam}:${anna.id}:1`,
        ...[max, sabine, juergen, anna].map((u) => `${forAll}:${u.id}:1`),
      ].sort(),
    );
    expect(told.some((n) => [user.id, emily.id].includes(String(n.user_id)))).toBe(false);
  });

  it('assign more than ten: one summary per employee, counting each contact that concerns him or her once', async () => {
    const { agent, csrf } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const anna = await createUser(t.db, { name: 'Anna Berg' });
    const sabine = await createUser(t.db, { name: 'Sabine Schröder' });
    const [team] = await t.db('competences').insert({ name: 'Kundenservice' }).returning('id');
    await t.db('competence_members').insert({ competence_id: team.id, user_id: sabine.id });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = await createContact(t.db, { last_name: `Kunde ${i}`, status: 'customer' });
      await t.db('contacts').where({ id }).update({ assignment: 'users' });
      // Max has all twelve; Anna, with him, every third (0, 3, 6, 9).
      await t.db('contact_assignees').insert((i % 3 === 0 ? [max.id, anna.id] : [max.id]).map((user_id) => ({ contact_id: id, user_id })));
      ids.push(id);
    }
    // To Max and the Kundenservice's Sabine: Max keeps them (told once each, not twice), Anna loses four.
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'assign', ids, assignment: 'users', assignee_ids: [max.id, sabine.id] });
    const told = await t.db('notifications').select('user_id', 'count');
    expect(Object.fromEntries(told.map((n) => [String(n.user_id), n.count]))).toEqual({ [max.id]: 12, [anna.id]: 4, [sabine.id]: 12 });
    // Anna's summary leads to the four she lost, not to her own list (which no longer holds them), nor to all twelve.
    const annas = await loginAs(buildApp(t.db), anna.email);
    const [mine] = await t.db('notifications').where({ user_id: anna.id }).pluck('id');
    const open = await annas.agent.post(`/notifications/${mine}/open`).set('X-CSRF-Token', annas.csrf);
    expect(open.headers.location).toMatch(/^\/contacts\?group=\d+$/);
    const list = await annas.agent.get(open.headers.location);
    expect(list.text).toContain('4 Kontakte');
    for (const i of [0, 3, 6, 9]) expect(list.text).toContain(`Kunde ${i}<`);
    for (const i of [1, 8, 10]) expect(list.text).not.toContain(`Kunde ${i}<`);
  });

  it('delete permanently, with history, memberships and pictures, keeping an audit log of names and numbers', async () => {
    const { agent, csrf, user } = await login();
    const a = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', customer_number: 'K-00042' });
    const b = await createContact(t.db, { company: 'Bäckerei Groß', last_name: null, first_name: null });
    const keep = await createContact(t.db, { last_name: 'Bleibt' });
    await t.db('contact_pictures').insert({ contact_id: a, data: Buffer.from('x'), content_type: 'image/webp' });
    const [g] = await t.db('groups').insert({ name: 'Messe', kind: 'static' }).returning('id');
    await t.db('group_members').insert({ group_id: g.id, contact_id: a });
    const res = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'delete', ids: [a, b] });
    expect(res.status).toBe(303);
    expect((await t.db('contacts')).map((c) => String(c.id))).toEqual([keep]);
    expect(await t.db('contact_events').whereIn('contact_id', [a, b])).toHaveLength(0);
    expect(await t.db('contact_pictures')).toHaveLength(0);
    expect(await t.db('group_members')).toHaveLength(0);
    const audit = await t.db('audit_log').first();
    expect(audit).toMatchObject({ actor_id: user.id, action: 'contacts_deleted', count: 2 });
    expect(audit.payload.contacts.map((c: { name: string; number: string | null }) => [c.name, c.number])).toEqual([
      ['Max Müller', 'K-00042'],
      ['Bäckerei Groß', null],
    ]);
  });

  it('refuse what makes no sense, changing nothing: unknown action, empty selection, stale filter, missing CSRF', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Fest' });
    const post = (body: Record<string, unknown>) => agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send(body);
    const unknown = await post({ action: 'explode', ids: [id] });
    expect(unknown.status).toBe(422);
    expect(unknown.text).toContain('Diese Aktion gibt es nicht.');
    const empty = await post({ action: 'archive' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Es ist nichts ausgewählt.');
    const stale = await post({ action: 'archive', all: '1', status: 'geloescht' });
    expect(stale.status).toBe(422);
    expect(stale.text).toContain('Der Filter der Auswahl ist ungültig geworden.');
    const noCsrf = await agent.post('/contacts/bulk').type('form').send({ action: 'delete', ids: [id] });
    expect(noCsrf.status).toBe(403);
    expect(await statusOf(id)).toBe('prospect');
  });
});

describe('deleting one contact from its master data page', () => {
  it('asks first, then deletes permanently with an audit log entry', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { first_name: 'Erika', last_name: 'Weg' });
    const dialog = await agent.get(`/contacts/${id}/delete`).set('HX-Request', 'true');
    expect(dialog.text).toContain('Erika Weg endgültig löschen? Ein gelöschter Kontakt kann nicht wiederhergestellt werden');
    expect(await statusOf(id)).toBe('prospect');
    const res = await agent.post(`/contacts/${id}/delete`).type('form').send({ _csrf: csrf });
    expect(res.headers.location).toBe('/contacts');
    expect(await t.db('contacts').where({ id })).toHaveLength(0);
    expect((await t.db('audit_log').first()).payload.contacts[0].name).toBe('Erika Weg');
    expect((await agent.get('/contacts')).text).toContain('Erika Weg wurde endgültig gelöscht.');
  });

  it('leads back to the list it was opened from, and only to a list', async () => {
    const { agent, csrf } = await login();
    const remove = async (list: string) => {
      const id = await createContact(t.db, { last_name: 'Weg' });
      expect((await agent.get(`/contacts/${id}/delete`)).text).toContain('name="list" value="" data-list-address');
      return (await agent.post(`/contacts/${id}/delete`).type('form').send({ _csrf: csrf, list })).headers.location;
    };
    expect(await remove('/contacts?q=tastatur&status=customer')).toBe('/contacts?q=tastatur&status=customer');
    expect(await remove('/contacts')).toBe('/contacts');
    // Another site's address leads to this site's list.
    expect(await remove('https://example.org/contacts?q=x')).toBe('/contacts?q=x');
    for (const elsewhere of ['//example.org/x', '/settings/users', '/contacts/5', '/contactsx', '/contacts/../settings', '']) {
      expect([elsewhere, await remove(elsewhere)]).toEqual([elsewhere, '/contacts']);
    }
  });

  it('logs a delete sent twice at once, or of a contact gone already, once', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { first_name: 'Erika', last_name: 'Doppelt' });
    await Promise.all([0, 1].map(() => agent.post(`/contacts/${id}/delete`).type('form').send({ _csrf: csrf })));
    expect((await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'delete', ids: [id] })).status).toBe(303);
    expect(await t.db('audit_log').select('count')).toEqual([{ count: 1 }]);
  });
});

describe('the audit log', () => {
  it('shows admins who deleted how many contacts and which, and is closed to members', async () => {
    const admin = await createUser(t.db, { name: 'Anna Admin', role: 'admin' });
    const { agent, csrf } = await loginAs(buildApp(t.db), admin.email);
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', customer_number: 'K-00042' });
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'delete', ids: [id] });
    const page = await agent.get('/settings/audit-log');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<td>Anna Admin<\/td>\s*<td>Kontakte gelöscht<\/td>\s*<td>1<\/td>/);
    expect(page.text).toContain('<li>Max Müller (K-00042)</li>');
    const member = await createUser(t.db);
    const memberAgent = (await loginAs(buildApp(t.db), member.email)).agent;
    expect((await memberAgent.get('/settings/audit-log')).status).toBe(403);
  });
});

describe('group actions of the bar', () => {
  it('make a new group from the selection, skipping inbox and archived contacts', async () => {
    const { agent, csrf, user } = await login();
    const a = await createContact(t.db, { last_name: 'A', status: 'customer' });
    const b = await createContact(t.db, { last_name: 'B', status: 'prospect' });
    const inbox = await createContact(t.db, { last_name: 'C', status: 'inbox' });
    const dialog = await agent.get('/contacts/bulk?action=new_group&status=customer&status=prospect&status=inbox');
    expect(dialog.status).toBe(422);
    const res = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'new_group', ids: [a, b, inbox], name: 'Messe 2027', group_number: 'G-7' });
    expect(res.status).toBe(303);
    const group = await t.db('groups').first();
    expect(group).toMatchObject({ name: 'Messe 2027', group_number: 'G-7', kind: 'static', created_by: user.id });
    const members = (await t.db('group_members').where({ group_id: group.id }).orderBy('contact_id')).map((m) => String(m.contact_id));
    expect(members).toEqual([a, b]);
    expect((await agent.get('/contacts')).text).toContain('Gruppe „Messe 2027“ mit 2 Kontakten angelegt. 1 übersprungen: Status Eingang.');
    expect(await t.db('contact_events').where({ kind: 'group_added' })).toHaveLength(2);
  });

  it('make a new group with a generated number, as the sidebar dialog does', async () => {
    const { agent, csrf } = await login();
    await t.db('number_circles').insert({ name: 'Gruppennummern', prefix: 'G-', digits: 3, next_value: 7, target: 'groups', is_default: true });
    const a = await createContact(t.db, { last_name: 'A', status: 'customer' });
    await agent.post('/contacts/selection').set('X-CSRF-Token', csrf).type('form').send({ toggle: a, ids: a });
    const dialog = await agent.get('/contacts/bulk?action=new_group').set('HX-Request', 'true');
    expect(dialog.text).toContain('name="generate_number" value="1"');
    expect(dialog.text).toContain('voraussichtlich G-007');
    const res = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'new_group', ids: [a], name: 'Messe 2028', group_number: '', generate_number: '1' });
    expect(res.status).toBe(303);
    expect(await t.db('groups').first()).toMatchObject({ name: 'Messe 2028', group_number: 'G-007' });
    expect((await agent.get('/contacts')).text).toContain('Gruppe „Messe 2028“ mit 1 Kontakt angelegt. Sie hat die Gruppennummer G-007.');
    // A number typed and one to generate: the dialog again, with the group page's message.
    const both = await agent
      .post('/contacts/bulk')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'new_group', ids: [a], name: 'Messe 2029', group_number: 'G-100', generate_number: '1' });
    expect(both.status).toBe(422);
    expect(both.text).toContain('Bitte entweder eine Nummer eingeben oder „Nummer erzeugen“ wählen.');
    expect(await t.db('groups')).toHaveLength(1);
  });

  it('refuse a new group without a name, keeping the dialog and writing nothing', async () => {
    const { agent, csrf } = await login();
    const a = await createContact(t.db, { last_name: 'A' });
    const res = await agent.post('/contacts/bulk').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ action: 'new_group', ids: [a], name: ' ' });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/^<dialog/);
    expect(res.text).toContain('Bitte ausfüllen.');
    expect(await t.db('groups')).toHaveLength(0);
    // The dialog's and the group page's limits: a name over 100 characters, a number over 40.
    const long = await agent
      .post('/contacts/bulk')
      .set('HX-Request', 'true')
      .set('X-CSRF-Token', csrf)
      .type('form')
      .send({ action: 'new_group', ids: [a], name: 'M'.repeat(150), group_number: 'G'.repeat(41) });
    expect(long.status).toBe(422);
    expect(long.text).toContain('Höchstens 100 Zeichen.');
    expect(long.text).toContain('M'.repeat(150));
    expect(await t.db('groups')).toHaveLength(0);
  });

  it('make one group when the same dialog is sent twice (a double click without JavaScript, Back and again)', async () => {
    const { agent, csrf } = await login();
    const a = await createContact(t.db, { last_name: 'A' });
    await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ toggle: a, ids: a });
    const dialog = await agent.get(`/contacts/bulk?action=new_group`).set('HX-Request', 'true');
    expect(dialog.status).toBe(200);
    const token = dialog.text.match(/name="create_token" value="([^"]+)"/)![1];
    const send = () => agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'new_group', ids: [a], name: 'Messe', assignment: 'all', create_token: token });
    const [first, second] = await Promise.all([send(), send()]);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect((await send()).status).toBe(303);
    expect(await t.db('groups').where({ name: 'Messe' })).toHaveLength(1);
    expect(await t.db('group_members')).toHaveLength(1);
    expect((await agent.get('/contacts')).text).toContain('Die Gruppe „Messe“ wurde mit diesem Dialog bereits angelegt; er wurde nicht noch einmal ausgeführt.');
  });

  it('make a temporary group owned by me, add to another group and remove from the one shown', async () => {
    const { agent, csrf, user } = await login();
    const a = await createContact(t.db, { last_name: 'A' });
    const b = await createContact(t.db, { last_name: 'B' });
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'temporary_group', ids: [a, b] });
    const temporary = await t.db('groups').where({ kind: 'temporary' }).first();
    expect(temporary.owner_id).toBe(user.id);
    expect(temporary.name).toMatch(/^Temporär /);
    const [target] = await t.db('groups').insert({ name: 'Newsletter', kind: 'static' }).returning('id');
    const confirmed = await confirmedAll(agent, csrf, 'add_to_group', { group: String(temporary.id) });
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'add_to_group', all: '1', group: String(temporary.id), group_id: String(target.id), confirmed });
    expect(await t.db('group_members').where({ group_id: target.id })).toHaveLength(2);
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'remove_from_group', ids: [a], group: String(target.id) });
    expect((await t.db('group_members').where({ group_id: target.id })).map((m) => String(m.contact_id))).toEqual([b]);
    expect(await t.db('contacts')).toHaveLength(2);
    // A name typed in the dialog is the group's name; one too long is refused at the field.
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'temporary_group', ids: [a], name: ' Messe Hannover ' });
    expect(await t.db('groups').where({ kind: 'temporary', name: 'Messe Hannover' })).toHaveLength(1);
    const long = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).set('HX-Request', 'true').type('form').send({ action: 'temporary_group', ids: [a], name: 'x'.repeat(101) });
    expect(long.status).toBe(422);
    expect(long.text).toContain('x'.repeat(101));
    expect(await t.db('groups').where({ kind: 'temporary' })).toHaveLength(2);
  });

  it('offer "Zur Gruppe hinzufügen" on the whole list too, choosing among the other groups, none chosen at first', async () => {
    const { agent, csrf } = await login();
    const a = await createContact(t.db, { last_name: 'A' });
    const [shown] = await t.db('groups').insert({ name: 'Messe', kind: 'static' }).returning('id');
    const [other] = await t.db('groups').insert({ name: 'Newsletter', kind: 'static' }).returning('id');
    await t.db('group_members').insert({ group_id: shown.id, contact_id: a });
    const bar = await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ toggle: a, ids: a });
    expect(bar.text).toContain('action=add_to_group');
    await agent.post('/contacts/selection').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ group: String(shown.id), toggle: a, ids: a });
    const dialog = await agent.get(`/contacts/bulk?action=add_to_group&group=${shown.id}`).set('HX-Request', 'true');
    expect(dialog.text).toMatch(/<select id="b-group_id" name="group_id">\s*<option value="">– Gruppe wählen –<\/option>\s*<option value="\d+">Newsletter<\/option>\s*<\/select>/);
    const unchosen = await agent.post('/contacts/bulk').set('HX-Request', 'true').set('X-CSRF-Token', csrf).type('form').send({ action: 'add_to_group', ids: [a], group: String(shown.id) });
    expect(unchosen.status).toBe(422);
    expect(unchosen.text).toContain('Bitte eine Gruppe wählen.');
    await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'add_to_group', ids: [a], group_id: String(other.id) });
    expect(await t.db('group_members').where({ group_id: other.id })).toHaveLength(1);
  });

  it('answer a group deleted meanwhile with 404 and change nothing', async () => {
    const { agent, csrf } = await login();
    const a = await createContact(t.db, { last_name: 'A' });
    const res = await agent.post('/contacts/bulk').set('X-CSRF-Token', csrf).type('form').send({ action: 'add_to_group', ids: [a], group_id: '4242' });
    expect(res.status).toBe(404);
    expect(await t.db('group_members')).toHaveLength(0);
  });
});
