import request from 'supertest';
import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs } from './helpers';
import { createContact } from './factories';
import { hashToken } from '../src/integrations/service';

const t = useTestDatabase();

async function asAdmin() {
  const admin = await createUser(t.db, { name: 'Anna Admin', role: 'admin' });
  const app = buildApp(t.db);
  return { app, admin, ...(await loginAs(app, admin.email)) };
}

/** The one-time id the settings page's form carries. */
async function formToken(agent: Awaited<ReturnType<typeof asAdmin>>['agent']): Promise<string> {
  return (await agent.get('/settings/api-tokens')).text.match(/name="create_token" value="([0-9a-f-]{36})"/)![1];
}

/** A token created through the settings page, as an admin would: returns it as shown once. */
async function tokenFromSettings(agent: Awaited<ReturnType<typeof asAdmin>>['agent'], csrf: string, name = 'Chat'): Promise<string> {
  const res = await agent.post('/settings/api-tokens').type('form').send({ _csrf: csrf, name, create_token: await formToken(agent) });
  expect(res.status).toBe(201);
  return res.text.match(/value="(kt_[A-Za-z0-9_-]+)"/)![1];
}

/** A token straight in the database, for tests about the API alone. */
async function apiToken(name = 'Chat', revoked = false): Promise<string> {
  const token = `kt_${name.replace(/\W/g, '')}${'x'.repeat(40)}`;
  await t.db('api_tokens').insert({ name, token_hash: hashToken(token), revoked_at: revoked ? t.db.fn.now() : null });
  return token;
}

async function messageEvents() {
  return t.db('contact_events').select('id', 'contact_id', 'actor_id', 'payload').where({ kind: 'message' }).orderBy('id');
}

function post(path: string, token?: string) {
  const req = request(buildApp(t.db)).post(path);
  return token ? req.set('Authorization', `Bearer ${token}`) : req;
}

describe('Settings → API-Zugänge', () => {
  it.each([
    ['get', '/settings/api-tokens'],
    ['post', '/settings/api-tokens'],
    ['post', '/settings/api-tokens/1/revoke'],
  ] as const)('refuses a member %s %s with 403 and writes nothing', async (method, path) => {
    const member = await createUser(t.db);
    await apiToken();
    const { agent, csrf } = await loginAs(buildApp(t.db), member.email);
    const res = method === 'get' ? await agent.get(path) : await agent.post(path).type('form').send({ _csrf: csrf, name: 'Hintertür' });
    expect(res.status).toBe(403);
    expect(await t.db('api_tokens').select('name', 'revoked_at')).toEqual([{ name: 'Chat', revoked_at: null }]);
  });

  it('shows a new token once, stores only its SHA-256 hash, and lists it without the token', async () => {
    const { agent, csrf, admin } = await asAdmin();
    const form = await formToken(agent);
    const res = await agent.post('/settings/api-tokens').type('form').send({ _csrf: csrf, name: 'Chat', create_token: form });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('API-Zugang „Chat“ angelegt');
    expect(res.text).toContain('Er wird nur dieses eine Mal angezeigt');
    const token = res.text.match(/value="(kt_[A-Za-z0-9_-]{43})"/)![1];

    const stored = await t.db('api_tokens').first();
    expect(stored).toMatchObject({ name: 'Chat', created_by: admin.id, last_used_at: null, revoked_at: null });
    expect(stored.token_hash).toBe(hashToken(token));
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);

    const list = await agent.get('/settings/api-tokens');
    expect(list.text).toMatch(/<td>Chat<\/td>\s*<td>[^<]+ <span class="muted">von Anna Admin<\/span><\/td>\s*<td>nie<\/td>/);
    expect(list.text).toContain('<span class="badge badge-ok">aktiv</span>');
    expect(list.text).not.toContain(token);

    // The same form sent again (F5 on the page with the key): no second token, and no key shown.
    const again = await agent.post('/settings/api-tokens').type('form').send({ _csrf: csrf, name: 'Chat', create_token: form });
    expect(again.status).toBe(303);
    expect(await t.db('api_tokens')).toHaveLength(1);
    const after = await agent.get('/settings/api-tokens');
    expect(after.text).toContain('Der API-Zugang „Chat“ wurde mit diesem Formular schon angelegt');
    expect(after.text).not.toMatch(/kt_[A-Za-z0-9_-]{43}/);
  });

  it('refuses a blank name with a message under the field', async () => {
    const { agent, csrf } = await asAdmin();
    const res = await agent.post('/settings/api-tokens').type('form').send({ _csrf: csrf, name: '  ', create_token: await formToken(agent) });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-name-error">Bitte ausfüllen.</p>');
    expect(await t.db('api_tokens')).toEqual([]);
  });

  it('revokes a token: it is marked on the list and the API refuses it from then on', async () => {
    const { agent, csrf } = await asAdmin();
    const token = await tokenFromSettings(agent, csrf);
    const contact = await createContact(t.db);
    const { id } = await t.db('api_tokens').first();
    // "Sperren" asks first, changing nothing until confirmed.
    const before = await agent.get('/settings/api-tokens');
    expect(before.text).toContain(`hx-get="/settings/api-tokens/${id}/revoke" hx-target="#dialog-slot" aria-label="Zugang Chat sperren"`);
    const dialog = await agent.get(`/settings/api-tokens/${id}/revoke`).set('HX-Request', 'true');
    expect(dialog.text).toMatch(/^<dialog data-modal/);
    expect(dialog.text).toContain('Zugang „Chat“ sperren? Das angebundene Modul wird sofort abgewiesen.');
    expect((await agent.get(`/settings/api-tokens/${id}/revoke`)).text).toContain('<html');
    expect((await t.db('api_tokens').first()).revoked_at).toBeNull();
    expect((await agent.get('/settings/api-tokens/999999/revoke').set('HX-Request', 'true')).status).toBe(404);
    const res = await agent.post(`/settings/api-tokens/${id}/revoke`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings/api-tokens');
    expect((await t.db('api_tokens').first()).revoked_at).toBeInstanceOf(Date);
    const list = await agent.get('/settings/api-tokens');
    expect(list.text).toContain('Der Zugang „Chat“ ist gesperrt.');
    expect(list.text).toContain('<span class="badge badge-off">gesperrt</span>');
    expect(list.text).not.toContain('aria-label="Zugang Chat sperren"');

    const api = await post(`/api/contacts/${contact}/messages`, token).send({ text: 'Hallo' });
    expect(api.status).toBe(401);
    expect(await messageEvents()).toEqual([]);
  });

  it('answers revoking an unknown token with 404', async () => {
    const { agent, csrf } = await asAdmin();
    const res = await agent.post('/settings/api-tokens/999999/revoke').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(404);
  });
});

describe('POST /api/contacts/:id/messages', () => {
  it('records the message in the history, notifies the active members of the contact’s competence, and marks the token used', async () => {
    const member = await createUser(t.db, { name: 'Max Müller' });
    const inactive = await createUser(t.db, { name: 'Emily Clarke' });
    await createUser(t.db, { name: 'Jürgen Weiß' });
    const [team] = await t.db('competences').insert({ name: 'Vertrieb Süd' }).returning('id');
    await t.db('competence_members').insert([member.id, inactive.id].map((user_id) => ({ competence_id: team.id, user_id })));
    await t.db('users').where({ id: inactive.id }).update({ active: false });
    const contact = await createContact(t.db, { status: 'customer' });
    await t.db('contacts').where({ id: contact }).update({ assignment: 'competence', competence_id: team.id });
    const token = await apiToken('Chat');

    const res = await post(`/api/contacts/${contact}/messages`, token).send({ text: '  Bitte rufen Sie mich zurück.  ', sender: 'Frau Berger' });
    expect(res.status).toBe(201);
    expect(res.type).toBe('application/json');
    const [event] = await messageEvents();
    expect(res.body).toEqual({ id: String(event.id) });
    expect(event).toMatchObject({ contact_id: contact, actor_id: null, payload: { text: 'Bitte rufen Sie mich zurück.', source: 'Chat', sender: 'Frau Berger' } });

    const notified = await t.db('notifications').select('user_id', 'contact_id', 'event_id');
    expect(notified).toEqual([{ user_id: member.id, contact_id: contact, event_id: event.id }]);
    expect((await t.db('api_tokens').first()).last_used_at).toBeInstanceOf(Date);
    // In the history, the module stands where an employee would.
    const { agent } = await loginAs(buildApp(t.db), member.email);
    const page = await agent.get(`/contacts/${contact}`);
    expect(page.text).toMatch(/<strong>Chat<\/strong>\s*hat eine Nachricht geschickt[\s\S]*<strong>Frau Berger:<\/strong> Bitte rufen Sie mich zurück\./);
  });

  it('takes the source from the body when given, and accepts messages for contacts of any status', async () => {
    const token = await apiToken('Chat');
    const archived = await createContact(t.db, { status: 'archived', previous_status: 'customer' });
    const inbox = await createContact(t.db, { status: 'inbox' });
    for (const contact of [archived, inbox]) {
      const res = await post(`/api/contacts/${contact}/messages`, token).send({ text: 'Hallo', source: 'WhatsApp' });
      expect(res.status).toBe(201);
    }
    expect((await messageEvents()).map((e) => [e.contact_id, e.payload])).toEqual([
      [archived, { text: 'Hallo', source: 'WhatsApp' }],
      [inbox, { text: 'Hallo', source: 'WhatsApp' }],
    ]);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'kt_falsch'],
    ['a token without the kt_ prefix', 'abcdef'],
  ])('answers %s with 401 and writes nothing', async (_case, header) => {
    await apiToken('Chat');
    const contact = await createContact(t.db);
    const req = request(buildApp(t.db)).post(`/api/contacts/${contact}/messages`);
    const res = await (header ? req.set('Authorization', `Bearer ${header}`) : req).send({ text: 'Hallo' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="kontakte"');
    expect(res.body.error).toContain('Fehlender, ungültiger oder gesperrter API-Schlüssel.');
    expect(await messageEvents()).toEqual([]);
    expect(await t.db('notifications')).toEqual([]);
    expect((await t.db('api_tokens').first()).last_used_at).toBeNull();
  });

  it('answers a revoked token with 401 and writes nothing', async () => {
    const token = await apiToken('Chat', true);
    const contact = await createContact(t.db);
    const res = await post(`/api/contacts/${contact}/messages`, token).send({ text: 'Hallo' });
    expect(res.status).toBe(401);
    expect(await messageEvents()).toEqual([]);
    expect((await t.db('api_tokens').first()).last_used_at).toBeNull();
  });

  it('does not let a session cookie stand in for the token', async () => {
    const { agent, csrf } = await asAdmin();
    const contact = await createContact(t.db);
    const res = await agent.post(`/api/contacts/${contact}/messages`).set('X-CSRF-Token', csrf).send({ text: 'Hallo' });
    expect(res.status).toBe(401);
    expect(await messageEvents()).toEqual([]);
  });

  it.each([['999999'], ['abc'], ['0']])('answers an unknown contact %s with 404 in JSON', async (id) => {
    const token = await apiToken();
    const res = await post(`/api/contacts/${id}/messages`, token).send({ text: 'Hallo' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Diesen Kontakt gibt es nicht.' });
  });

  it('answers malformed JSON with 400 and a German message', async () => {
    const token = await apiToken();
    const contact = await createContact(t.db);
    const res = await post(`/api/contacts/${contact}/messages`, token).set('Content-Type', 'application/json').send('{"text": "Hallo"');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'Der Inhalt ist kein gültiges JSON.' });
    expect(await messageEvents()).toEqual([]);
  });

  it('answers a NUL character in the body with 400 and writes nothing', async () => {
    const token = await apiToken();
    const contact = await createContact(t.db);
    const res = await post(`/api/contacts/${contact}/messages`, token).set('Content-Type', 'application/json').send('{"text": "a\\u0000b"}');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'Die Anfrage enthält ein unzulässiges Steuerzeichen (NUL) und wurde nicht verarbeitet.' });
    expect(await messageEvents()).toEqual([]);
  });

  it('answers half of a UTF-16 pair with 400 naming it, an address that does not decode with 404, and takes out invisible control characters', async () => {
    const token = await apiToken();
    const contact = await createContact(t.db);
    for (const body of ['{"text": "\\ud800"}', '{"text": "ok", "sender": "\\udfff x"}']) {
      const res = await post(`/api/contacts/${contact}/messages`, token).set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'Die Anfrage enthält ein ungültiges Zeichen (eine halbe UTF-16-Zeichenfolge) und wurde nicht verarbeitet.' });
    }
    const badPath = await post('/api/contacts/%FF/messages', token).send({ text: 'ok' });
    expect(badPath.status).toBe(404);
    expect(badPath.body.error).not.toContain('JSON');
    expect(await messageEvents()).toEqual([]);
    // A paired surrogate (an emoji) is a character like any other; a right-to-left override and a bell are taken out.
    const res = await post(`/api/contacts/${contact}/messages`, token).send({ text: 'Danke \ud83d\ude00\u0007', sender: '\u202eFrau Berger' });
    expect(res.status).toBe(201);
    expect((await messageEvents()).map((e) => e.payload)).toEqual([{ text: 'Danke 😀', source: 'Chat', sender: 'Frau Berger' }]);
  });

  it('takes an optional field sent as null, empty or blank as not sent, as many JSON writers send "none"', async () => {
    const token = await apiToken('Chat');
    const contact = await createContact(t.db);
    for (const extra of [{ source: '' }, { source: '   ' }, { source: null }, { sender: null }, { sender: '', source: null }]) {
      const res = await post(`/api/contacts/${contact}/messages`, token).send({ text: 'Hallo', ...extra });
      expect([extra, res.status]).toEqual([extra, 201]);
    }
    expect((await messageEvents()).map((e) => e.payload)).toEqual(Array(5).fill({ text: 'Hallo', source: 'Chat' }));
  });

  it.each([
    ['a missing text', {}, { text: 'Bitte ausfüllen.' }],
    ['a blank text', { text: '   ' }, { text: 'Bitte ausfüllen.' }],
    ['a text of 4001 characters', { text: 'x'.repeat(4001) }, { text: 'Höchstens 4.000 Zeichen.' }],
    ['a number as text', { text: 42 }, { text: 'Ungültiger Wert.' }],
    ['a null text', { text: null }, { text: 'Bitte ausfüllen.' }],
    ['a number as source', { text: 'Hallo', source: 7 }, { source: 'Ungültiger Wert.' }],
    ['a source of 61 characters', { text: 'Hallo', source: 's'.repeat(61) }, { source: 'Höchstens 60 Zeichen.' }],
    ['a sender of 201 characters', { text: 'Hallo', sender: 's'.repeat(201) }, { sender: 'Höchstens 200 Zeichen.' }],
  ])('answers %s with 400, naming the field', async (_case, body, fields) => {
    const token = await apiToken();
    const contact = await createContact(t.db);
    const res = await post(`/api/contacts/${contact}/messages`, token).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'Die Nachricht ist ungültig.', fields });
    expect(await messageEvents()).toEqual([]);
  });

  it('answers a JSON array or a form body with 400', async () => {
    const token = await apiToken();
    const contact = await createContact(t.db);
    const array = await post(`/api/contacts/${contact}/messages`, token).send([{ text: 'Hallo' }]);
    expect(array.status).toBe(400);
    expect(array.body).toEqual({ error: 'Bitte ein JSON-Objekt mit „text“ senden (Content-Type: application/json).' });
    const form = await post(`/api/contacts/${contact}/messages`, token).type('form').send({ text: 'Hallo' });
    expect(form.status).toBe(400);
    expect(await messageEvents()).toEqual([]);
  });

  it('answers a body over 16 KB with 413 and writes nothing', async () => {
    const token = await apiToken();
    const contact = await createContact(t.db);
    const res = await post(`/api/contacts/${contact}/messages`, token).send({ text: 'x'.repeat(17 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'Die Nachricht ist zu groß (höchstens 16 KB).' });
    expect(await messageEvents()).toEqual([]);
  });

  describe('with an Idempotency-Key', () => {
    const send = (contact: string, token: string, key: string, body: Record<string, unknown> = { text: 'Bitte rufen Sie mich zurück.' }) =>
      post(`/api/contacts/${contact}/messages`, token).set('Idempotency-Key', key).send(body);

    it('records a message sent again with the same key once, tells the responsible once, and answers the retry with the first event', async () => {
      const member = await createUser(t.db, { name: 'Max Müller' });
      const contact = await createContact(t.db, { status: 'customer' });
      const token = await apiToken('Chat');

      const first = await send(contact, token, 'b6f1c7e2-0001');
      const retry = await send(contact, token, 'b6f1c7e2-0001');
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      const events = await messageEvents();
      expect(events).toHaveLength(1);
      expect(first.body).toEqual({ id: String(events[0].id) });
      expect(retry.body).toEqual(first.body);
      expect(await t.db('notifications').select('user_id')).toEqual([{ user_id: member.id }]);

      // Another key is another message, even with the same words.
      const other = await send(contact, token, 'b6f1c7e2-0002');
      expect(other.status).toBe(201);
      expect(await messageEvents()).toHaveLength(2);
    });

    it('records it once when the same message with the same key arrives several times at the same moment', async () => {
      const contact = await createContact(t.db);
      const token = await apiToken('Chat');
      const answers = await Promise.all(Array.from({ length: 5 }, () => send(contact, token, 'gleichzeitig')));
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
      const events = await messageEvents();
      expect(events).toHaveLength(1);
      expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([String(events[0].id)]));
      expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
    });

    it('refuses the key with another message or for another contact (422) and writes nothing more', async () => {
      const contact = await createContact(t.db);
      const otherContact = await createContact(t.db);
      const token = await apiToken('Chat');
      expect((await send(contact, token, 'k-1')).status).toBe(201);

      const otherText = await send(contact, token, 'k-1', { text: 'Etwas ganz anderes.' });
      expect(otherText.status).toBe(422);
      expect(otherText.body.error).toMatch(/schon für eine andere Nachricht verwendet/);
      const otherSender = await send(contact, token, 'k-1', { text: 'Bitte rufen Sie mich zurück.', sender: 'Herr Vogel' });
      expect(otherSender.status).toBe(422);
      const elsewhere = await send(otherContact, token, 'k-1');
      expect(elsewhere.status).toBe(422);
      expect(await messageEvents()).toHaveLength(1);
    });

    it('keeps the keys of each integration apart', async () => {
      const contact = await createContact(t.db);
      const chat = await apiToken('Chat');
      const mail = await apiToken('Mail');
      expect((await send(contact, chat, 'eins')).status).toBe(201);
      const fromMail = await send(contact, mail, 'eins');
      expect(fromMail.status).toBe(201);
      expect(fromMail.headers['idempotent-replayed']).toBeUndefined();
      expect((await messageEvents()).map((e) => e.payload.source)).toEqual(['Chat', 'Mail']);
    });

    it.each([
      ['blank', ''],
      ['too long', 'x'.repeat(256)],
      ['with a space', 'zwei Wörter'],
      ['not ASCII', 'schlüssel'],
    ])('answers a key that is %s with 400 and writes nothing', async (_what, key) => {
      const contact = await createContact(t.db);
      const token = await apiToken('Chat');
      const res = await send(contact, token, key);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'Der Kopf „Idempotency-Key“ muss 1 bis 255 sichtbare ASCII-Zeichen lang sein (zum Beispiel eine UUID).' });
      expect(await messageEvents()).toEqual([]);
      expect(await t.db('api_message_keys')).toEqual([]);
    });

    it('keeps no key for an unknown contact, and frees it when the contact is deleted', async () => {
      const token = await apiToken('Chat');
      const unknown = await send('999999', token, 'k-2');
      expect(unknown.status).toBe(404);
      expect(await t.db('api_message_keys')).toEqual([]);

      const contact = await createContact(t.db);
      expect((await send(contact, token, 'k-2')).status).toBe(201);
      await t.db('contacts').where({ id: contact }).delete();
      expect(await t.db('api_message_keys')).toEqual([]);
      expect((await send(contact, token, 'k-2')).status).toBe(404);
    });
  });

  it('answers unknown API addresses with a JSON 404, not the login page', async () => {
    const res = await request(buildApp(t.db)).get('/api/contacts');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Diese Adresse gibt es in der API nicht.' });
  });

  it('lives under BASE_PATH like every other URL', async () => {
    const token = await apiToken();
    const contact = await createContact(t.db);
    const res = await request(buildApp(t.db, { basePath: '/crm' })).post(`/crm/api/contacts/${contact}/messages`).set('Authorization', `Bearer ${token}`).send({ text: 'Hallo' });
    expect(res.status).toBe(201);
  });
});

describe('browser notifications in the profile', () => {
  it('are off at first, and the profile switches them on and off again', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const profile = await agent.get('/profile');
    expect(profile.text).toContain('Browser-Benachrichtigungen');
    expect(profile.text).toContain('fragt der Browser einmal um Ihre Erlaubnis');
    expect(profile.text).toMatch(/name="browser_notifications" value="1" aria-describedby/);

    const on = await agent.post('/profile/notifications').type('form').send({ _csrf: csrf, browser_notifications: '1' });
    expect(on.status).toBe(303);
    expect(on.headers.location).toBe('/profile');
    expect((await t.db('users').where({ id: user.id }).first()).browser_notifications).toBe(true);
    const after = await agent.get('/profile');
    expect(after.text).toContain('Browser-Benachrichtigungen sind eingeschaltet.');
    expect(after.text).toMatch(/name="browser_notifications" value="1" checked/);

    await agent.post('/profile/notifications').type('form').send({ _csrf: csrf });
    expect((await t.db('users').where({ id: user.id }).first()).browser_notifications).toBe(false);
  });

  it('refuses an odd value with 422 and changes nothing', async () => {
    const user = await createUser(t.db);
    const { agent, csrf } = await loginAs(buildApp(t.db), user.email);
    const res = await agent.post('/profile/notifications').type('form').send({ _csrf: csrf, browser_notifications: 'ja bitte' });
    expect(res.status).toBe(422);
    expect((await t.db('users').where({ id: user.id }).first()).browser_notifications).toBe(false);
  });
});
