import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs, withStatements, type Agent } from './helpers';
import { createContact } from './factories';
import { batchRead } from '../src/db/batch';

const t = useTestDatabase();

async function member(): Promise<Agent> {
  const user = await createUser(t.db);
  return (await loginAs(buildApp(t.db), user.email)).agent;
}

/** The names in the result table, in order. */
function names(html: string): string[] {
  return [...html.matchAll(/<td><a href="\/contacts\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);
}

describe('the contacts list', () => {
  it('shows active contacts (prospects and customers) by default, sorted by name, with the total', async () => {
    await createContact(t.db, { first_name: 'Max', last_name: 'Müller', status: 'customer', customer_number: 'K-1', city: 'München' });
    await createContact(t.db, { first_name: 'Anna', last_name: 'Adler', status: 'prospect' });
    await createContact(t.db, { first_name: 'Ina', last_name: 'Import', status: 'inbox' });
    await createContact(t.db, { first_name: 'Alf', last_name: 'Alt', status: 'archived' });
    const res = await (await member()).get('/contacts');
    expect(res.status).toBe(200);
    expect(res.headers.vary).toMatch(/HX-Request/);
    expect(res.text).toContain('<html');
    expect(names(res.text)).toEqual(['Anna Adler', 'Max Müller']);
    expect(res.text).toContain('2 Kontakte');
    expect(res.text).toMatch(/status-customer">Kunde/);
    expect(res.text).toContain('K-1');
    expect(res.text).toContain('München');
  });

  it('answers an htmx request with the results fragment only, from the same URL', async () => {
    await createContact(t.db, { last_name: 'Fragment' });
    const res = await (await member()).get('/contacts?q=frag').set('HX-Request', 'true').set('HX-Target', 'results');
    expect(res.status).toBe(200);
    expect(res.headers.vary).toMatch(/HX-Request/);
    expect(res.text).not.toContain('<html');
    expect(res.text).not.toContain('<form');
    expect(names(res.text)).toEqual(['Testperson Fragment']);
  });

  it('finds Müller for "muller" and "MÜL", case- and accent-insensitively', async () => {
    await createContact(t.db, { first_name: 'Max', last_name: 'Müller' });
    await createContact(t.db, { first_name: 'Erika', last_name: 'Schmidt' });
    const agent = await member();
    for (const q of ['muller', 'MÜL', 'müll', 'max mul']) {
      expect(names((await agent.get(`/contacts?q=${encodeURIComponent(q)}`)).text)).toEqual(['Max Müller']);
    }
  });

  it('finds "Nachname, Vorname" as written in a list of names', async () => {
    await createContact(t.db, { first_name: 'Felix', last_name: 'Braun' });
    await createContact(t.db, { first_name: 'Felix', last_name: 'Weiß' });
    const agent = await member();
    for (const q of ['Braun, Felix', 'braun,felix', 'Braun; Felix', 'Felix Braun']) {
      expect([q, names((await agent.get(`/contacts?q=${encodeURIComponent(q)}`)).text)]).toEqual([q, ['Felix Braun']]);
    }
    // Separators alone search for nothing: the plain list, with what was typed kept in the box.
    const statements: string[] = [];
    const record = (q: { sql: string }) => statements.push(q.sql);
    t.db.on('query', record);
    const commas = await agent.get('/contacts?q=%2C%20%3B');
    t.db.off('query', record);
    expect(names(commas.text)).toEqual(['Felix Braun', 'Felix Weiß']);
    expect(commas.text).toContain('value=", ;"');
    // Not the search's path, which gathers up to 10,001 matches to count them.
    expect(statements.some((sql) => sql.includes('as materialized'))).toBe(false);
  });

  it('filters the city with umlauts spelt out, as the search does: "Koeln" is Köln', async () => {
    await createContact(t.db, { last_name: 'Eins', city: 'Köln' });
    await createContact(t.db, { last_name: 'Zwei', city: 'Düsseldorf' });
    await createContact(t.db, { last_name: 'Drei', city: 'Bonn' });
    const agent = await member();
    for (const [city, expected] of [['Koeln', ['Testperson Eins']], ['koln', ['Testperson Eins']], ['Duess', ['Testperson Zwei']], ['Bo', ['Testperson Drei']]] as const) {
      expect([city, names((await agent.get(`/contacts?city=${city}`)).text)]).toEqual([city, expected]);
    }
  });

  it('finds umlauts spelt out as typed without them: "Mueller", "Koenig", "Baeckerei", and what is written so too', async () => {
    await createContact(t.db, { first_name: 'Max', last_name: 'Müller' });
    await createContact(t.db, { first_name: 'Petra', last_name: 'König' });
    await createContact(t.db, { last_name: 'Eins', company: 'Bäckerei Groß GmbH' });
    await createContact(t.db, { first_name: 'Manuel', last_name: 'Neuer', email: 'manuel@mueller-bau.de' });
    const agent = await member();
    expect(names((await agent.get('/contacts?q=mueller')).text).sort()).toEqual(['Manuel Neuer', 'Max Müller']);
    expect(names((await agent.get('/contacts?q=Koenig')).text)).toEqual(['Petra König']);
    expect(names((await agent.get('/contacts?q=baeckerei%20gross')).text)).toEqual(['Testperson Eins']);
    expect(names((await agent.get('/contacts?q=manuel')).text)).toEqual(['Manuel Neuer']);
    expect((await agent.get('/contacts?q=koenig').set('HX-Request', 'true')).text).toContain('1 Kontakt');
    // Spelt out after another vowel, it is no umlaut: "Baeuerle" is "Bäuerle", and "Bauer" is not "Baur".
    await createContact(t.db, { first_name: 'Anna', last_name: 'Bäuerle' });
    await createContact(t.db, { first_name: 'Otto', last_name: 'Baur' });
    expect(names((await agent.get('/contacts?q=Baeuerle')).text)).toEqual(['Anna Bäuerle']);
    expect(names((await agent.get('/contacts?q=bauer')).text)).toEqual(['Anna Bäuerle']);
  });

  it('searches company, e-mail and customer number too', async () => {
    await createContact(t.db, { last_name: 'Eins', company: 'Bäckerei Groß GmbH' });
    await createContact(t.db, { last_name: 'Zwei', email: 'zwei@beispiel.de' });
    await createContact(t.db, { last_name: 'Drei', customer_number: 'K-04711' });
    const agent = await member();
    expect(names((await agent.get('/contacts?q=backerei')).text)).toEqual(['Testperson Eins']);
    expect(names((await agent.get('/contacts?q=beispiel.de')).text)).toEqual(['Testperson Zwei']);
    expect(names((await agent.get('/contacts?q=k-047')).text)).toEqual(['Testperson Drei']);
    // Typed as read out, without the dash; and changed numbers are found by their new spelling.
    expect(names((await agent.get('/contacts?q=k04711')).text)).toEqual(['Testperson Drei']);
    await t.db('contacts').where({ last_name: 'Drei' }).update({ customer_number: 'AB/12.3' });
    expect(names((await agent.get('/contacts?q=ab123')).text)).toEqual(['Testperson Drei']);
    expect(names((await agent.get('/contacts?q=k04711')).text)).toEqual([]);
  });

  it('treats % and _ in the search as plain characters', async () => {
    await createContact(t.db, { last_name: 'Prozent', company: '100% Bio' });
    await createContact(t.db, { last_name: 'Anders' });
    const agent = await member();
    expect(names((await agent.get('/contacts?q=%25')).text)).toEqual(['Testperson Prozent']);
    expect(names((await agent.get('/contacts?q=_')).text)).toEqual([]);
    expect(names((await agent.get(`/contacts?q=${encodeURIComponent("'; drop table contacts; --")}`)).text)).toEqual([]);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '2' });
  });

  it('combines filters: status, postal code, city, country, created between, number and e-mail present', async () => {
    await createContact(t.db, { last_name: 'Treffer', status: 'inbox', postal_code: '80331', city: 'München', country: 'DE', email: 'a@b.de', customer_number: 'X-1', created_at: '2026-03-15T10:00:00Z' });
    await createContact(t.db, { last_name: 'FalscherStatus', status: 'customer', postal_code: '80331', city: 'München', email: 'c@b.de', customer_number: 'X-2', created_at: '2026-03-15T10:00:00Z' });
    await createContact(t.db, { last_name: 'OhneMail', status: 'inbox', postal_code: '80331', city: 'München', customer_number: 'X-3', created_at: '2026-03-15T10:00:00Z' });
    await createContact(t.db, { last_name: 'ZuAlt', status: 'inbox', postal_code: '80331', city: 'München', email: 'd@b.de', customer_number: 'X-4', created_at: '2025-01-15T10:00:00Z' });
    await createContact(t.db, { last_name: 'Wien', status: 'inbox', postal_code: '8033', city: 'Wien', country: 'AT', email: 'e@b.de', customer_number: 'X-5', created_at: '2026-03-15T10:00:00Z' });
    const agent = await member();
    const res = await agent.get(
      '/contacts?status=inbox&postal_code=803&city=munch&country=DE&created_from=2026-03-01&created_to=2026-03-31&has_number=yes&has_email=yes',
    );
    expect(names(res.text)).toEqual(['Testperson Treffer']);
    expect(names((await agent.get('/contacts?status=inbox&has_email=no')).text)).toEqual(['Testperson OhneMail']);
    expect(names((await agent.get('/contacts?status=inbox&status=customer&country=DE&created_from=2026-01-01')).text)).toEqual([
      'Testperson FalscherStatus',
      'Testperson OhneMail',
      'Testperson Treffer',
    ]);
  });

  it('pages through with keyset cursors: next, previous, first and last, all keeping the filter', async () => {
    for (let i = 0; i < 120; i++) await createContact(t.db, { last_name: `Person${String(i).padStart(3, '0')}`, city: i % 2 ? 'Köln' : 'Bonn' });
    const agent = await member();
    const first = await agent.get('/contacts?city=koln');
    expect(first.text).toContain('60 Kontakte');
    expect(names(first.text)).toHaveLength(50);
    expect(names(first.text)[0]).toBe('Testperson Person001');
    const next = first.text.match(/href="(\/contacts\?[^"]*after=[^"]+)" [^>]*rel="next"/)![1].replace(/&amp;/g, '&');
    expect(next).toContain('city=koln');
    const second = await agent.get(next);
    expect(names(second.text)).toHaveLength(10);
    expect(names(second.text)[0]).toBe('Testperson Person101');
    expect(second.text).not.toMatch(/rel="next"/);
    const back = second.text.match(/href="(\/contacts\?[^"]*before=[^"]+)" [^>]*rel="prev"/)![1].replace(/&amp;/g, '&');
    expect(names((await agent.get(back)).text)).toEqual(names(first.text));
    // The last page is the one paging forward reaches: the 10 after the first 50, not the last 50.
    const last = await agent.get('/contacts?city=koln&last=1');
    expect(names(last.text)).toEqual(names(second.text));
    expect(last.text).not.toMatch(/rel="next"/);
    const beforeLast = last.text.match(/href="(\/contacts\?[^"]*before=[^"]+)" [^>]*rel="prev"/)![1].replace(/&amp;/g, '&');
    expect(names((await agent.get(beforeLast)).text)).toEqual(names(first.text));
  });

  it('pages through a search the same way, with the total from the same pass over its matches', async () => {
    for (let i = 0; i < 120; i++) await createContact(t.db, { last_name: `${i % 2 ? 'Schmidt' : 'Schulz'}${String(i).padStart(3, '0')}` });
    await createContact(t.db, { last_name: 'Schmidt-Archiv', status: 'archived' });
    const agent = await member();
    const first = await agent.get('/contacts?q=schmidt');
    expect(first.text).toContain('60 Kontakte');
    expect(names(first.text)).toHaveLength(50);
    expect(names(first.text)[0]).toBe('Testperson Schmidt001');
    const next = first.text.match(/href="(\/contacts\?[^"]*after=[^"]+)" [^>]*rel="next"/)![1].replace(/&amp;/g, '&');
    const second = await agent.get(next);
    expect(second.text).toContain('60 Kontakte');
    expect(names(second.text)).toEqual(Array.from({ length: 10 }, (_, i) => `Testperson Schmidt${String(101 + 2 * i).padStart(3, '0')}`));
    const back = second.text.match(/href="(\/contacts\?[^"]*before=[^"]+)" [^>]*rel="prev"/)![1].replace(/&amp;/g, '&');
    expect(names((await agent.get(back)).text)).toEqual(names(first.text));
    const last = await agent.get('/contacts?q=schmidt&last=1');
    expect(names(last.text)).toEqual(names(second.text));
    expect(names((await agent.get('/contacts?q=schmidt&sort=-name')).text)[0]).toBe('Testperson Schmidt119');
    // Behind the last match the page is empty, and the total is still told.
    const beyond = await agent.get(`/contacts?q=schmidt&after=${Buffer.from(JSON.stringify(['zzz', '1'])).toString('base64url')}`);
    expect(names(beyond.text)).toEqual([]);
    expect(beyond.text).toContain('60 Kontakte');
    // A status named in the filter, inside the search.
    expect(names((await agent.get('/contacts?q=schmidt&status=archived')).text)).toEqual(['Testperson Schmidt-Archiv']);
    expect((await agent.get('/contacts?q=schmidt&status=archived')).text).toContain('1 Kontakt');
  });

  it('sorts by customer number (contacts without one last) and by creation date', async () => {
    await createContact(t.db, { last_name: 'B', customer_number: 'K-00002', created_at: '2026-01-02T00:00:00Z' });
    await createContact(t.db, { last_name: 'A', created_at: '2026-01-03T00:00:00Z' });
    await createContact(t.db, { last_name: 'C', customer_number: 'K-00001', created_at: '2026-01-01T00:00:00Z' });
    const agent = await member();
    expect(names((await agent.get('/contacts?sort=number')).text)).toEqual(['Testperson C', 'Testperson B', 'Testperson A']);
    expect(names((await agent.get('/contacts?sort=-created')).text)).toEqual(['Testperson A', 'Testperson B', 'Testperson C']);
    expect(names((await agent.get('/contacts?sort=-name')).text)).toEqual(['Testperson C', 'Testperson B', 'Testperson A']);
  });

  it('sorts by customer number descending with the contacts without one last, paging both ways', async () => {
    // 40 numbered (K-001 … K-040) and 40 without, created in turn: the 80 span two pages.
    await t.db.raw(
      `insert into contacts (last_name, status, customer_number, created_at)
       select 'N' || lpad(n::text, 3, '0'), 'customer', case when n % 2 = 0 then 'K-' || lpad((n / 2)::text, 3, '0') end, now() - n * interval '1 minute'
       from generate_series(1, 80) n`,
    );
    const agent = await member();
    const numberOf = (name: string) => Number(name.slice(1)) / 2;
    const first = await agent.get('/contacts?sort=-number');
    const firstNames = names(first.text);
    expect(firstNames).toHaveLength(50);
    // K-040 first, down to K-001, then those without a number, newest (highest id) first.
    expect(firstNames.slice(0, 40).map(numberOf)).toEqual(Array.from({ length: 40 }, (_, i) => 40 - i));
    const without = await t.db('contacts').whereNull('customer_number').orderBy('id', 'desc').pluck('last_name');
    expect(firstNames.slice(40)).toEqual(without.slice(0, 10));
    const next = first.text.match(/href="(\/contacts\?[^"]*after=[^"]+)" [^>]*rel="next"/)![1].replace(/&amp;/g, '&');
    const second = await agent.get(next);
    expect(names(second.text)).toEqual(without.slice(10));
    expect(second.text).not.toMatch(/rel="next"/);
    const back = second.text.match(/href="(\/contacts\?[^"]*before=[^"]+)" [^>]*rel="prev"/)![1].replace(/&amp;/g, '&');
    expect(names((await agent.get(back)).text)).toEqual(firstNames);
    // "Letzte Seite" is the page paging forward reaches.
    expect(names((await agent.get('/contacts?sort=-number&last=1')).text)).toEqual(names(second.text));
    // A cursor in the numbers pages on through the rest of them first.
    const fromMiddle = await agent.get(`/contacts?sort=-number&after=${Buffer.from(JSON.stringify(['k-003', '0'])).toString('base64url')}`);
    expect(names(fromMiddle.text).slice(0, 3)).toEqual(['N004', 'N002', without[0]]);
    // A search sorts its matches the same way, and pages the same way.
    const searched = await agent.get('/contacts?q=n0&sort=-number');
    expect(names(searched.text).slice(0, 3).map(numberOf)).toEqual([40, 39, 38]);
    expect(names(searched.text).slice(40)).toEqual(firstNames.slice(40));
    const searchNext = searched.text.match(/href="(\/contacts\?[^"]*after=[^"]+)" [^>]*rel="next"/)![1].replace(/&amp;/g, '&');
    expect(names((await agent.get(searchNext)).text)).toEqual(names(second.text));
    expect(names((await agent.get('/contacts?q=n0&sort=-number&last=1')).text)).toEqual(names(second.text));
    // Ascending is unchanged: K-001 first, those without a number last.
    const ascending = names((await agent.get('/contacts?sort=number')).text);
    expect(ascending.slice(0, 2).map(numberOf)).toEqual([1, 2]);
  });

  it('says what to do when there are no contacts, and when the filter finds none', async () => {
    const agent = await member();
    expect((await agent.get('/contacts')).text).toContain('Legen Sie mit „Erstellen“ oben rechts den ersten an.');
    await createContact(t.db, { last_name: 'Jemand' });
    const none = (await agent.get('/contacts?q=80331').set('HX-Request', 'true')).text;
    expect(none).toContain('Keine Kontakte gefunden');
    // A PLZ typed into the search: what the search covers, where PLZ and Ort are, and the way back.
    expect(none).toContain('Die Suche findet Namen, Firmen, E-Mail-Adressen und Kundennummern. Nach PLZ und Ort filtern Sie unter „Erweitert“.');
    expect(none).toContain('<a href="/contacts">Filter zurücksetzen</a>');
    const byCity = (await agent.get('/contacts?city=nirgendwo').set('HX-Request', 'true')).text;
    expect(byCity).toContain('<a href="/contacts">Filter zurücksetzen</a>');
    expect(byCity).not.toContain('Die Suche findet');
    // Inside a group, both reset links keep the group.
    const [group] = await t.db('groups').insert({ name: 'Messe', kind: 'static' }).returning('id');
    const inGroup = (await agent.get(`/contacts?group=${group.id}&city=nirgendwo`)).text;
    expect(inGroup.match(/<a href="([^"]*)">Filter zurücksetzen<\/a>/g)).toEqual(Array(2).fill(`<a href="/contacts?group=${group.id}">Filter zurücksetzen</a>`));
  });

  it('answers invalid filter values with 422 and messages next to the fields', async () => {
    const agent = await member();
    const res = await agent.get('/contacts?created_from=2026-13-45&country=XX&status=geloescht&postal_code=%3Cscript%3E');
    expect(res.status).toBe(422);
    expect(res.text).toContain('Bitte ein gültiges Datum eingeben.');
    expect(res.text).toContain('Bitte ein Land aus der Liste wählen.');
    expect(res.text).toContain('Bitte eine gültige Postleitzahl eingeben.');
    expect(res.text).toMatch(/<legend>Status<\/legend>[\s\S]*Ungültiger Wert./);
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('&lt;script&gt;');
    // A has/has-no choice that is none of its options is marked at its own select, the rest kept.
    const flags = await agent.get('/contacts?has_email=vielleicht&city=Bonn');
    expect(flags.status).toBe(422);
    expect(flags.text).toMatch(/<select id="flt-has_email" name="has_email" aria-invalid="true" aria-describedby="flt-has_email-error">[\s\S]*?<\/select>\s*<p class="field-error" id="flt-has_email-error">Ungültiger Wert.<\/p>/);
    expect(flags.text).toContain('name="city" class="live-filter" value="Bonn"');
    // Swapped in while typing, the results name each field: the filter form above is not sent again.
    const live = await agent.get('/contacts?postal_code=80%24&created_from=2026-01-01&created_to=2025-01-01').set('HX-Request', 'true');
    expect(live.status).toBe(422);
    expect(live.text).not.toContain('id="contact-filter"');
    expect(live.text).toContain('<li>PLZ (beginnt mit): Bitte eine gültige Postleitzahl eingeben.</li>');
    expect(live.text).toMatch(/<li>Angelegt (ab|bis): Das Enddatum liegt vor dem Anfangsdatum.<\/li>/);
  });

  it('points a search that finds no active contact to its matches in the inbox and the archive', async () => {
    const agent = await member();
    await createContact(t.db, { first_name: 'Noah', last_name: 'Krüger', status: 'archived', previous_status: 'customer' });
    await createContact(t.db, { first_name: 'Johanna', last_name: 'Krüger', status: 'inbox' });
    await createContact(t.db, { first_name: 'Lea', last_name: 'Aktiv', status: 'customer' });
    const none = await agent.get('/contacts?q=kruger').set('HX-Request', 'true');
    expect(none.text).toContain('0 Kontakte');
    expect(none.text).toContain('<a href="/contacts?q=kruger&amp;status=inbox&amp;status=archived">2 Treffer im Eingang oder im Archiv anzeigen</a>');
    // Followed, the whole page: the filter form ticks those statuses, so typing on keeps them.
    const there = await agent.get('/contacts?q=kruger&status=inbox&status=archived');
    expect(there.text).toMatch(/name="status" value="inbox" checked/);
    expect(there.text).toMatch(/name="status" value="archived" checked/);
    expect(there.text).not.toMatch(/name="status" value="customer" checked/);
    expect(there.text).toContain('Noah Krüger');
    expect(there.text).toContain('Johanna Krüger');
    // Found among the active ones, or nowhere at all: no such link.
    expect((await agent.get('/contacts?q=aktiv').set('HX-Request', 'true')).text).not.toContain('im Eingang oder im Archiv');
    expect((await agent.get('/contacts?q=niemand').set('HX-Request', 'true')).text).not.toContain('im Eingang oder im Archiv');
  });

  it('ignores a cursor that was tampered with and starts from the top', async () => {
    await createContact(t.db, { last_name: 'Oben' });
    const res = await (await member()).get('/contacts?after=kaputt');
    expect(res.status).toBe(200);
    expect(names(res.text)).toEqual(['Testperson Oben']);
    // Well-formed, but a key PostgreSQL cannot read as the sort's: ignored too.
    const cursor = (key: string) => Buffer.from(JSON.stringify([key, '1'])).toString('base64url');
    for (const [sort, key] of [['created', 'kein Datum'], ['created', '2026-02-30 10:00:00+00'], ['-created', '2026-12-06 25:00:00+00'], ['created', '0000-01-01 00:00:00+00'], ['created', '2026-01-01 00:00:00+99'], ['-created', '2026-01-01 00:00:00+15:99'], ['name', 'a\u0000b']]) {
      const tampered = await (await member()).get(`/contacts?sort=${sort}&after=${cursor(key)}`);
      expect(tampered.status).toBe(200);
      expect(names(tampered.text)).toEqual(['Testperson Oben']);
    }
    // A real cursor of the creation sort still pages.
    await t.db.raw(`insert into contacts (last_name, status, created_at) select 'Reihe ' || lpad(n::text, 2, '0'), 'customer', now() - n * interval '1 minute 0.123456 seconds' from generate_series(1, 55) n`);
    const first = await (await member()).get('/contacts?sort=-created');
    const next = first.text.match(/href="(\/contacts\?[^"]*after=[^"]+)"/)![1].replace(/&amp;/g, '&');
    const second = await (await member()).get(next);
    expect(names(second.text)).toEqual(['Reihe 50', 'Reihe 51', 'Reihe 52', 'Reihe 53', 'Reihe 54', 'Reihe 55']);
  });

  it('refuses a NUL byte in a filter or form with 400, and a date in year 0 at its field', async () => {
    const agent = await member();
    for (const query of ['q=a%00b', 'city=a%00b', 'status=customer&postal_code=8%000']) {
      const res = await agent.get(`/contacts?${query}`);
      expect(res.status).toBe(400);
      expect(res.text).toContain('unzulässiges Steuerzeichen');
    }
    const form = await agent.post('/contacts').type('form').send('last_name=a%00b');
    expect(form.status).toBe(400);
    expect(await t.db('contacts').count({ n: '*' }).first()).toEqual({ n: '0' });
    const year0 = await agent.get('/contacts?created_from=0000-01-01');
    expect(year0.status).toBe(422);
    expect(year0.text).toContain('Bitte ein gültiges Datum eingeben.');
    // "von" after "bis" found nothing and said nothing.
    const turned = await agent.get('/contacts?created_from=2026-12-01&created_to=2026-11-01');
    expect(turned.status).toBe(422);
    expect(turned.text).toContain('Das Enddatum liegt vor dem Anfangsdatum.');
    expect(turned.text).toContain('value="2026-12-01"');
    expect((await agent.get('/contacts?created_from=2026-11-01&created_to=2026-11-01')).status).toBe(200);
  });

  it('opens "Erweitert" for a filter set in it, not for the default statuses a live search sends along', async () => {
    const agent = await member();
    const open = (html: string) => /<details class="advanced" open>/.test(html);
    expect(open((await agent.get('/contacts?q=a&status=prospect&status=customer&city=&postal_code=')).text)).toBe(false);
    expect(open((await agent.get('/contacts?q=a')).text)).toBe(false);
    expect(open((await agent.get('/contacts?status=customer')).text)).toBe(true);
    expect(open((await agent.get('/contacts?status=prospect&status=customer&status=inbox')).text)).toBe(true);
    expect(open((await agent.get('/contacts?city=Bonn')).text)).toBe(true);
  });

  it('works without JavaScript: a plain GET form with a search button', async () => {
    const res = await (await member()).get('/contacts');
    expect(res.text).toMatch(/<form id="contact-filter" class="filters card" method="get" action="\/contacts"/);
    expect(res.text).toMatch(/<button type="submit">Suchen<\/button>/);
    // Searching while typing keeps the address up to date without a history step per keystroke.
    expect(res.text).toMatch(/<form id="contact-filter"[^>]*hx-replace-url="true"/);
    expect(res.text).not.toMatch(/<form id="contact-filter"[^>]*hx-push-url/);
  });
});

describe("the full page's frame", () => {
  it('reads the bell, the group sidebar and the filter options in one statement beside the list', async () => {
    const me = await createUser(t.db, { name: 'Sabine Schröder' });
    await createUser(t.db, { name: 'Ehemalige Kollegin', active: false });
    const contact = await createContact(t.db, { last_name: 'Anton' });
    const [event] = await t.db('contact_events').insert({ contact_id: contact, kind: 'note', payload: '{}' }).returning('id');
    const notified = await t.db('notifications').insert([{}, {}, { read_at: t.db.fn.now() }].map((n) => ({ ...n, user_id: me.id, contact_id: contact, event_id: event.id }))).returning('id');
    await t.db('groups').insert({ name: 'Messe 2026', kind: 'static' });
    await t.db('competences').insert({ name: 'Vertrieb Süd' });
    const { agent } = await loginAs(buildApp(t.db), me.email);

    const { result: page, statements } = await withStatements(t.db, () => agent.get('/contacts'));

    // Besides the list's own statement (its rows name their competence and employees).
    const frame = statements.filter((sql) => !sql.includes('from "contacts"') && /notifications|groups|competences|users/.test(sql));
    expect(frame).toHaveLength(1);
    expect(frame[0]).toMatch(/from "notifications"[\s\S]*from "groups"[\s\S]*from users[\s\S]*from competences/);
    expect(page.text).toMatch(/class="bell has-unread"[^>]*>\s*Benachrichtigungen <span class="count">2<\/span>/);
    expect(page.text).toContain(`/notifications/poll?after=${notified[2].id}`);
    expect(page.text).toMatch(/<aside class="group-sidebar[\s\S]*>Messe 2026<\/span><span class="group-count">0<\/span>/);
    expect(page.text).toContain('>Vertrieb Süd</option>');
    expect(page.text).toContain(`>${me.name}</option>`);
    expect(page.text).not.toContain('Ehemalige Kollegin');
  });

  it('sends reads started together as one statement, apart for each request, and fails them together', async () => {
    const value = (sql: string) => t.db.select(t.db.raw(sql));
    const one = {};
    const other = {};
    const { result: read, statements } = await withStatements(t.db, () =>
      Promise.all([batchRead(one, t.db, value('1')), batchRead(other, t.db, value(`'B'`)), batchRead(one, t.db, value(`'zwei'`))]),
    );
    const failed = await Promise.allSettled([batchRead(one, t.db, value('1 / 0')), batchRead(one, t.db, value('2'))]);

    expect(read).toEqual([1, 'B', 'zwei']);
    expect(statements).toHaveLength(2);
    expect(failed.map((f) => (f.status === 'rejected' ? String(f.reason) : f.value))).toEqual([expect.stringMatching(/division by zero/), expect.stringMatching(/division by zero/)]);
  });
});

describe('page numbers', () => {
  const decode = (href: string) => href.replace(/&amp;/g, '&');
  const linkOf = (html: string, rel: string) => decode(html.match(new RegExp(`<a class="button" href="([^"]+)"[^>]*rel="${rel}"`))![1]);

  it('show in the pager and ride along with the cursor; "?page=" pages in without one, as the links do', async () => {
    const rows = Array.from({ length: 130 }, (_, i) => ({ last_name: `Seite ${String(i).padStart(3, '0')}`, status: 'customer', customer_number: i % 3 ? `K-${String(i).padStart(4, '0')}` : null, email: `p${i}@firma.de` }));
    await t.db('contacts').insert(rows);
    const agent = await member();
    const get = async (url: string) => (await agent.get(url).set('HX-Request', 'true')).text;
    for (const base of ['/contacts?', '/contacts?sort=-number&', '/contacts?q=firma&']) {
      const first = await get(base);
      expect(first).toContain('<span class="page-number">Seite 1 von 3</span>');
      const second = await get(linkOf(first, 'next'));
      expect(linkOf(first, 'next')).toMatch(/page=2/);
      expect(second).toContain('Seite 2 von 3');
      const third = await get(linkOf(second, 'next'));
      expect(third).toContain('Seite 3 von 3');
      // Typed or bookmarked: the same pages.
      expect(names(await get(`${base}page=2`))).toEqual(names(second));
      const typedThird = await get(`${base}page=3`);
      expect(names(typedThird)).toEqual(names(third));
      expect(typedThird).toContain('Seite 3 von 3');
      // Back from page 3 is page 2 again, numbered so.
      const back = await get(linkOf(typedThird, 'prev'));
      expect(names(back)).toEqual(names(second));
      expect(back).toContain('Seite 2 von 3');
      // Past the end: the last page, not an empty one.
      const beyond = await get(`${base}page=9`);
      expect(names(beyond)).toEqual(names(third));
      expect(beyond).toContain('Seite 3 von 3');
    }
    // Anything else is ignored like a tampered cursor.
    expect(await get('/contacts?page=abc')).toContain('Seite 1 von 3');
  });
});
