import { useTestDatabase } from './db';
import { buildApp, createUser, formFields, loginAs } from './helpers';
import { createContact } from './factories';
import { can, statuses, transition, type Status } from '../src/contacts/status';

const t = useTestDatabase();

async function login() {
  const user = await createUser(t.db, { name: 'Sabine Schröder' });
  return { user, ...(await loginAs(buildApp(t.db), user.email)) };
}

describe('status changes', () => {
  it('open a confirmation dialog first and change nothing until confirmed', async () => {
    const { agent } = await login();
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', status: 'prospect' });
    const dialog = await agent.get(`/contacts/${id}/status?to=customer`).set('HX-Request', 'true');
    expect(dialog.status).toBe(200);
    expect(dialog.text).toMatch(/^<dialog data-modal/);
    expect(dialog.text).toContain('Soll Max Müller von „Interessent“ zu „Kunde“ wechseln?');
    expect((await t.db('contacts').where({ id }).first()).status).toBe('prospect');
  });

  it('turn a prospect into a customer on confirmation, with a history event', async () => {
    const { agent, csrf, user } = await login();
    const id = await createContact(t.db, { first_name: 'Max', last_name: 'Müller', status: 'prospect' });
    const res = await agent.post(`/contacts/${id}/status`).type('form').send({ _csrf: csrf, to: 'customer' });
    expect(res.status).toBe(303);
    // The master-data version stays: a form opened before the status change can still be saved.
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ status: 'customer', version: 1 });
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'status' }).first()).toMatchObject({ actor_id: user.id, payload: { from: 'prospect', to: 'customer' } });
    const page = await agent.get(`/contacts/${id}`);
    expect(page.text).toContain('Status von Max Müller geändert: Interessent → Kunde.');
    expect(page.text).toContain('hat den Status geändert: Interessent → Kunde');
  });

  it('archive remembers the active status, and restoring offers it', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Kunde', status: 'customer' });
    await agent.post(`/contacts/${id}/status`).type('form').send({ _csrf: csrf, to: 'archived' });
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ status: 'archived', previous_status: 'customer' });
    const page = await agent.get(`/contacts/${id}`);
    const restore = await agent.get(`/contacts/${id}/status?to=customer`);
    expect(restore.text).toMatch(/value="customer" checked autofocus>/);
    // The status clicked is preselected; the dialog says which one the contact had before archiving.
    const clickedProspect = await agent.get(`/contacts/${id}/status?to=prospect`);
    expect(clickedProspect.text).toMatch(/value="prospect" checked/);
    expect(clickedProspect.text).not.toMatch(/value="customer" checked/);
    expect(clickedProspect.text).toContain('Vor der Archivierung war der Kontakt „Kunde“.');
    expect(page.text).toMatch(/href="\/contacts\/\d+\/status\?to=customer"/);
    await agent.post(`/contacts/${id}/status`).type('form').send({ _csrf: csrf, to: 'customer' });
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ status: 'customer', previous_status: null });
  });

  it('refuse a confirmation when the status was changed meanwhile, naming who changed it, and change nothing', async () => {
    const { agent } = await login();
    const max = await createUser(t.db, { name: 'Max Müller' });
    const { agent: his, csrf: hisCsrf } = await loginAs(buildApp(t.db), max.email);
    const id = await createContact(t.db, { first_name: 'Mehmet', last_name: 'Öztürk', status: 'prospect' });
    const dialog = await agent.get(`/contacts/${id}/status?to=customer`);
    const form = formFields(dialog.text, `/contacts/${id}/status`);
    expect(form).toMatchObject({ to: 'customer', from: 'prospect' });
    expect((await his.post(`/contacts/${id}/status`).type('form').send({ _csrf: hisCsrf, to: 'archived' })).status).toBe(303);

    const refused = await agent.post(`/contacts/${id}/status`).type('form').send(form);
    expect(refused.status).toBe(303);
    expect(await t.db('contacts').where({ id }).first()).toMatchObject({ status: 'archived', previous_status: 'prospect' });
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'status' })).toHaveLength(1);
    const page = await agent.get(refused.headers.location);
    expect(page.text).toContain('Max Müller hat den Status von Mehmet Öztürk inzwischen auf „Archiv“ geändert. Ihre Änderung wurde nicht ausgeführt');
    // From the dialog in htmx: the page is loaded anew with the message.
    const viaHtmx = await agent.post(`/contacts/${id}/status`).set('HX-Request', 'true').type('form').send({ ...form, from: 'customer', to: 'prospect' });
    expect(viaHtmx.status).toBe(204);
    expect(viaHtmx.headers['hx-redirect']).toBe(`/contacts/${id}`);
    expect((await t.db('contacts').where({ id }).first()).status).toBe('archived');

    // A status button on the old page, clicked now: the page is loaded anew, saying why.
    const stale = await agent.get(`/contacts/${id}/status?to=archived`).set('HX-Request', 'true');
    expect(stale.status).toBe(204);
    expect(stale.headers['hx-redirect']).toBe(`/contacts/${id}`);
    expect((await agent.get(`/contacts/${id}`)).text).toContain('Der Kontakt hat diesen Status bereits.');
  });

  it('accept inbox contacts as prospect or customer', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Import', status: 'inbox' });
    const dialog = await agent.get(`/contacts/${id}/status?to=customer`);
    expect(dialog.text).toContain('Übernehmen als Kunde');
    await agent.post(`/contacts/${id}/status`).type('form').send({ _csrf: csrf, to: 'customer' });
    expect((await t.db('contacts').where({ id }).first()).status).toBe('customer');
  });

  it.each([
    ['prospect', 'inbox'],
    ['customer', 'inbox'],
    ['archived', 'inbox'],
    ['archived', 'archived'],
    ['prospect', 'prospect'],
  ] as [Status, Status][])('refuse %s → %s with 409 and the reason, changing nothing', async (from, to) => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Fest', status: from });
    const res = await agent.post(`/contacts/${id}/status`).type('form').send({ _csrf: csrf, to });
    expect(res.status).toBe(409);
    const verdict = transition(from, to);
    expect(verdict.ok).toBe(false);
    expect((await t.db('contacts').where({ id }).first()).status).toBe(from);
    expect(await t.db('contact_events').where({ contact_id: id, kind: 'status' })).toHaveLength(0);
  });

  it('refuse an unknown status with a clear answer', async () => {
    const { agent, csrf } = await login();
    const id = await createContact(t.db, { last_name: 'Fest' });
    expect((await agent.post(`/contacts/${id}/status`).type('form').send({ _csrf: csrf, to: 'geloescht' })).status).toBe(422);
    expect((await agent.get(`/contacts/${id}/status?to=geloescht`)).status).toBe(404);
  });
});

describe('the capability table', () => {
  it('matches SPEC §4 for every status', () => {
    const table = Object.fromEntries(
      (['edit', 'assign', 'number', 'note', 'group', 'delete'] as const).map((action) => [action, statuses.map((s) => can(action, s).ok)]),
    );
    // columns: inbox, prospect, customer, archived
    expect(table).toEqual({
      edit: [true, true, true, false],
      assign: [false, true, true, false],
      number: [false, true, true, false],
      note: [false, true, true, false],
      group: [false, true, true, false],
      delete: [true, true, true, true],
    });
  });

  it('is enforced by the server for notes on each status', async () => {
    const { agent, csrf } = await login();
    for (const status of statuses) {
      const id = await createContact(t.db, { last_name: status, status });
      const res = await agent.post(`/contacts/${id}/notes`).type('form').send({ _csrf: csrf, text: 'Hallo' });
      expect([status, res.status]).toEqual([status, can('note', status).ok ? 303 : 409]);
    }
  });
});
