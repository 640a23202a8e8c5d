import { useTestDatabase } from './db';
import { buildApp, createUser, loginAs, type Agent } from './helpers';
import { createContact } from './factories';
import { foldStatusCounts } from '../src/contacts/counts';
import { LIST_COUNT_CAP } from '../src/contacts/queries';

const t = useTestDatabase();

async function member(): Promise<Agent> {
  const user = await createUser(t.db);
  return (await loginAs(buildApp(t.db), user.email)).agent;
}

/** What the list says above the table. */
function totalLine(html: string): string {
  return html.match(/<p class="result-count">([^<]*)/)![1].trim();
}

/** The per-status counts the database keeps, next to what counting the contacts gives; those not for all marked so. */
async function keptAndCounted(): Promise<{ kept: Record<string, number>; counted: Record<string, number> }> {
  const kept = await t.db('contact_status_counts').select('status', 'for_all').sum({ n: 'delta' }).groupBy('status', 'for_all').having(t.db.raw('sum(delta) <> 0'));
  const counted = await t.db('contacts').select('status', t.db.raw(`assignment = 'all' as for_all`)).count({ n: '*' }).groupByRaw('1, 2');
  const asRecord = (rows: { status?: string; for_all?: boolean; n?: string | number }[]) =>
    Object.fromEntries(rows.map((r) => [`${r.status}${r.for_all ? '' : ' (not for all)'}`, Number(r.n)]).sort());
  return { kept: asRecord(kept), counted: asRecord(counted) };
}

/** `n` contacts of one status in one statement, as an import would write them. */
async function insertMany(n: number, status: string, city: string): Promise<void> {
  await t.db.raw(`insert into contacts (last_name, status, city) select 'Massen ' || g, ?, ? from generate_series(1, ?) g`, [status, city, n]);
}

describe('the list total', () => {
  it('stays exact through creating, editing, status changes, bulk updates and deletes, before and after folding', async () => {
    const anfang = await createContact(t.db, { last_name: 'Anfang', status: 'prospect' });
    await createContact(t.db, { last_name: 'Kundin', status: 'customer' });
    await insertMany(30, 'inbox', 'Eingangstadt');
    await t.db('contacts').where({ id: anfang }).update({ city: 'Nur ein Ort' });
    await t.db('contacts').where({ id: anfang }).update({ status: 'archived', previous_status: 'prospect' });
    await t.db('contacts').where({ city: 'Eingangstadt' }).andWhere('id', '<=', t.db.raw('(select min(id) + 9 from contacts where city = ?)', ['Eingangstadt'])).update({ status: 'customer' });
    await t.db('contacts').whereRaw('id in (select id from contacts where status = ? order by id limit 5)', ['inbox']).delete();
    await t.db('contacts').whereRaw('id in (select id from contacts where status = ? order by id limit 5)', ['inbox']).delete();
    // Assigned by name and back: what is for all is kept apart (the start page, "Mir zugewiesen").
    await t.db('contacts').whereRaw('id in (select id from contacts where status = ? order by id limit 4)', ['customer']).update({ assignment: 'users' });
    await t.db('contacts').whereRaw('id in (select id from contacts where assignment = ? order by id limit 1)', ['users']).update({ assignment: 'all' });
    await t.db('contacts').whereRaw('id in (select id from contacts where assignment = ? order by id desc limit 1)', ['users']).update({ status: 'archived', previous_status: 'customer' });

    let { kept, counted } = await keptAndCounted();
    expect(kept).toEqual(counted);
    expect(counted).toEqual({ archived: 1, 'archived (not for all)': 1, customer: 8, 'customer (not for all)': 2, inbox: 10 });
    const agent = await member();
    expect(totalLine((await agent.get('/contacts')).text)).toBe('10 Kontakte');
    expect(totalLine((await agent.get('/contacts?status=inbox&status=archived')).text)).toBe('12 Kontakte');

    // A fold of the previous version (per status only, during a rolling upgrade) cannot write rows without the kind.
    await expect(t.db('contact_status_counts').insert({ status: 'customer', delta: 1 })).rejects.toThrow(/for_all/);

    await foldStatusCounts(t.db);
    ({ kept, counted } = await keptAndCounted());
    expect(kept).toEqual(counted);
    expect(await t.db('contact_status_counts').count({ n: '*' }).first()).toEqual({ n: '5' });
    expect(totalLine((await agent.get('/contacts?status=archived')).text)).toBe('2 Kontakte');
  });

  it('folds the kept counts once a list has read more than a hundred of their rows', async () => {
    for (let i = 0; i < 105; i++) await createContact(t.db, { last_name: `Einzeln ${i}`, status: i % 2 ? 'customer' : 'prospect' });
    expect(Number((await t.db('contact_status_counts').count({ n: '*' }).first())!.n)).toBeGreaterThan(100);
    const agent = await member();
    expect(totalLine((await agent.get('/contacts')).text)).toBe('105 Kontakte');
    let rows = Infinity;
    for (let tries = 0; tries < 50 && rows > 4; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      rows = Number((await t.db('contact_status_counts').count({ n: '*' }).first())!.n);
    }
    expect(rows).toBeLessThanOrEqual(4);
    expect(totalLine((await agent.get('/contacts')).text)).toBe('105 Kontakte');
  });

  it('says "Mehr als 10.000 Kontakte" for a filter matching more, and counts exactly on request', async () => {
    await insertMany(LIST_COUNT_CAP + 7, 'customer', 'Großstadt');
    await insertMany(3, 'customer', 'Kleinstadt');
    const agent = await member();

    const capped = await agent.get('/contacts?city=gro');
    expect(totalLine(capped.text)).toBe('Mehr als 10.000 Kontakte');
    expect(capped.text).toContain('href="/contacts?city=gro&amp;count=exact"');
    expect(capped.text).toContain('genau zählen');

    const exact = await agent.get('/contacts?city=gro&count=exact').set('HX-Request', 'true');
    expect(totalLine(exact.text)).toBe('10.007 Kontakte');
    expect(exact.text).not.toContain('genau zählen');
    // A mangled count parameter in a bookmark is ignored rather than answered with a form error nobody can fix.
    const mangled = await agent.get('/contacts?city=gro&count=alles');
    expect(mangled.status).toBe(200);
    expect(totalLine(mangled.text)).toBe('Mehr als 10.000 Kontakte');

    // The sidebar counts a dynamic group up to 1,000 and says so beyond; a status-only one is exact however big;
    // groups with the same filter (whatever its key order) show the same count.
    const [big] = await t.db('groups').insert({ name: 'Großstädter', kind: 'dynamic', filter: JSON.stringify({ city: 'gro' }) }).returning('id');
    const [all] = await t.db('groups').insert({ name: 'Alle Kunden', kind: 'dynamic', filter: JSON.stringify({ status: ['customer'] }) }).returning('id');
    const [small] = await t.db('groups').insert({ name: 'Kleinstädter', kind: 'dynamic', filter: JSON.stringify({ city: 'klein', status: ['customer'] }) }).returning('id');
    const [same] = await t.db('groups').insert({ name: 'Kleinstädter (Kopie)', kind: 'dynamic', filter: JSON.stringify({ status: ['customer'], city: 'klein' }) }).returning('id');
    const counts = (await agent.get('/groups/counts').set('HX-Request', 'true')).text;
    expect(counts).toMatch(new RegExp(`id="group-count-${big.id}" hx-swap-oob="true" title="Mehr als 1.000 Kontakte">1.000\\+</span>`));
    expect(counts).toContain(`id="group-count-${all.id}" hx-swap-oob="true">10.010</span>`);
    expect(counts).toContain(`id="group-count-${small.id}" hx-swap-oob="true">3</span>`);
    expect(counts).toContain(`id="group-count-${same.id}" hx-swap-oob="true">3</span>`);
    // The group's own list counts further, as any list does.
    expect(totalLine((await agent.get(`/contacts?group=${big.id}`)).text)).toBe('Mehr als 10.000 Kontakte');

    // A search matching more than the list counts: "more", and the page is the list's first, in name order.
    const searched = await agent.get('/contacts?q=massen');
    expect(totalLine(searched.text)).toBe('Mehr als 10.000 Kontakte');
    expect([...searched.text.matchAll(/<td><a href="\/contacts\/\d+">([^<]+)<\/a>/g)].slice(0, 3).map((m) => m[1])).toEqual(['Massen 1', 'Massen 1', 'Massen 10']);
    expect(totalLine((await agent.get('/contacts?q=massen&count=exact')).text)).toBe('10.010 Kontakte');

    // Unfiltered, the total comes from the kept counts: exact however many.
    expect(totalLine((await agent.get('/contacts')).text)).toBe('10.010 Kontakte');
    expect(totalLine((await agent.get('/contacts?city=klein')).text)).toBe('3 Kontakte');
  });
});

describe('a remembered "Mehr als 10.000"', () => {
  it('spares paging through a big filter its count, and is forgotten with any change written here', async () => {
    await insertMany(LIST_COUNT_CAP + 5, 'customer', 'Großstadt');
    const agent = await member();
    expect(totalLine((await agent.get('/contacts?city=gro')).text)).toBe('Mehr als 10.000 Kontakte');

    // Another app instance (a connection of its own, unseen by this one) deletes ten of them.
    const connection = await t.db.client.acquireConnection();
    try {
      await connection.query(`delete from contacts where id in (select id from contacts where city = 'Großstadt' order by id limit 10)`);
    } finally {
      await t.db.client.releaseConnection(connection);
    }
    // Within CAPPED_COUNT_TTL_MS this instance still says "more"; the exact count never guesses.
    expect(totalLine((await agent.get('/contacts?city=gro&after=' + Buffer.from(JSON.stringify(['m', '1'])).toString('base64url'))).text)).toBe('Mehr als 10.000 Kontakte');
    expect(totalLine((await agent.get('/contacts?city=gro&count=exact')).text)).toBe('9.995 Kontakte');
    // Another filter, or another employee, is counted on its own.
    expect(totalLine((await agent.get('/contacts?city=groß')).text)).toBe('9.995 Kontakte');
    expect(totalLine((await (await member()).get('/contacts?city=gro')).text)).toBe('9.995 Kontakte');

    // A change written through this instance forgets what it remembered.
    await createContact(t.db, { last_name: 'Neu', city: 'Kleinstadt' });
    expect(totalLine((await agent.get('/contacts?city=gro')).text)).toBe('9.995 Kontakte');
  });
});

describe('list rows', () => {
  it('print names, initials and assignees as text, never as markup', async () => {
    const evil = await createUser(t.db, { name: 'Eve <img src=x onerror=alert(1)>' });
    const [team] = await t.db('competences').insert({ name: 'Team "<b>"' }).returning('id');
    const byName = await createContact(t.db, { first_name: '<script>', last_name: 'alert("x")', company: "O'Brien & Söhne" });
    const byTeam = await createContact(t.db, { last_name: '<i>Kursiv</i>' });
    await t.db('contacts').where({ id: byName }).update({ assignment: 'users' });
    await t.db('contact_assignees').insert({ contact_id: byName, user_id: evil.id });
    await t.db('contacts').where({ id: byTeam }).update({ assignment: 'competence', competence_id: team.id });

    const res = await (await member()).get('/contacts').set('HX-Request', 'true');
    expect(res.text).not.toMatch(/<script>|<img src=x|<b>|<i>Kursiv/);
    expect(res.text).toContain('&lt;script&gt; alert(&#34;x&#34;)');
    expect(res.text).toContain('Eve &lt;img src=x onerror=alert(1)&gt;');
    expect(res.text).toContain('Team &#34;&lt;b&gt;&#34;');
    expect(res.text).toMatch(/class="avatar avatar-c\d" aria-hidden="true">&lt;A<\/span>/);
  });
});
