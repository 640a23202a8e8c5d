/**
 * Deterministic, German-looking demo contacts: the demo seed takes a few hundred,
 * the benchmark 100,000. Same seed, same data.
 */
const firstNames = ['Anna', 'Max', 'Sophie', 'Lukas', 'Marie', 'Paul', 'Lena', 'Jonas', 'Emma', 'Felix', 'Mia', 'Leon', 'Hannah', 'Finn', 'Lea', 'Elias', 'Clara', 'Noah', 'Johanna', 'Ben', 'Jürgen', 'Sabine', 'Klaus', 'Ute', 'Günther', 'Birgit', 'Dieter', 'Heike', 'Wolfgang', 'Petra', 'Özlem', 'Mehmet', 'Zoë', 'René', 'Chloé', 'Björn', 'Käthe', 'Jörg', 'Gisela', 'Horst'];
const lastNames = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Schmitt', 'Werner', 'Schmitz', 'Krause', 'Meier', 'Lehmann', 'Schmid', 'Schulze', 'Maier', 'Köhler', 'Herrmann', 'König', 'Walter', 'Mayer', 'Huber', 'Kaiser', 'Fuchs', 'Peters', 'Lang', 'Scholz', 'Möller', 'Weiß', 'Jung', 'Hahn', 'Vogel', 'Yılmaz', 'Öztürk', 'Nowak', 'Dvořák', 'Łukasik'];
const companyStems = ['Bäckerei', 'Autohaus', 'Steuerkanzlei', 'Metallbau', 'Elektro', 'Zahnarztpraxis', 'Gärtnerei', 'Spedition', 'Druckerei', 'Ingenieurbüro', 'Malerbetrieb', 'Sanitär', 'Apotheke', 'Brauerei', 'Schreinerei', 'Optik', 'Reisebüro', 'Hotel', 'Weingut', 'Kfz-Werkstatt'];
const companyForms = ['GmbH', 'GmbH & Co. KG', 'KG', 'e.K.', 'AG', 'OHG', 'UG (haftungsbeschränkt)'];
const cities: [string, string, string][] = [
  ['10115', 'Berlin', 'DE'], ['20095', 'Hamburg', 'DE'], ['80331', 'München', 'DE'], ['50667', 'Köln', 'DE'], ['60311', 'Frankfurt am Main', 'DE'],
  ['70173', 'Stuttgart', 'DE'], ['40213', 'Düsseldorf', 'DE'], ['04109', 'Leipzig', 'DE'], ['44135', 'Dortmund', 'DE'], ['45127', 'Essen', 'DE'],
  ['28195', 'Bremen', 'DE'], ['01067', 'Dresden', 'DE'], ['30159', 'Hannover', 'DE'], ['90402', 'Nürnberg', 'DE'], ['47051', 'Duisburg', 'DE'],
  ['33602', 'Bielefeld', 'DE'], ['53111', 'Bonn', 'DE'], ['48143', 'Münster', 'DE'], ['76133', 'Karlsruhe', 'DE'], ['68159', 'Mannheim', 'DE'],
  ['86150', 'Augsburg', 'DE'], ['65183', 'Wiesbaden', 'DE'], ['79098', 'Freiburg im Breisgau', 'DE'], ['93047', 'Regensburg', 'DE'], ['97070', 'Würzburg', 'DE'],
  ['1010', 'Wien', 'AT'], ['5020', 'Salzburg', 'AT'], ['8001', 'Zürich', 'CH'], ['3011', 'Bern', 'CH'], ['1011', 'Amsterdam', 'NL'],
];
const streets = ['Hauptstraße', 'Schulstraße', 'Gartenstraße', 'Bahnhofstraße', 'Dorfstraße', 'Bergstraße', 'Birkenweg', 'Lindenstraße', 'Kirchstraße', 'Waldstraße', 'Ringstraße', 'Schillerstraße', 'Goethestraße', 'Am Mühlbach', 'Königsallee'];

/** A small seeded PRNG (mulberry32), so runs are repeatable. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FakeContact {
  salutation: string | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  email: string | null;
  phone: string | null;
  mobile: string | null;
  website: string | null;
  street: string | null;
  postal_code: string | null;
  city: string | null;
  country: string;
  birthday: string | null;
  customer_number: string | null;
  status: 'inbox' | 'prospect' | 'customer' | 'archived';
  previous_status: 'prospect' | 'customer' | null;
  created_at: string;
}

const ascii = (s: string) =>
  s.toLowerCase().replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss').normalize('NFD').replace(/[^a-z0-9]+/g, '');

/**
 * The i-th fake contact. Statuses: 10 % inbox, 40 % prospect, 40 % customer,
 * 10 % archived; about half have a customer number `K-` + i (five digits, as the demo number circle formats them).
 */
export function fakeContact(i: number, rand: () => number, now = Date.now()): FakeContact {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const isCompanyOnly = rand() < 0.15;
  const first = pick(firstNames);
  const last = pick(lastNames);
  const company = isCompanyOnly || rand() < 0.5 ? `${pick(companyStems)} ${pick(lastNames)} ${pick(companyForms)}` : null;
  const [postal, city, country] = pick(cities);
  const r = rand();
  const status = r < 0.1 ? 'inbox' : r < 0.5 ? 'prospect' : r < 0.9 ? 'customer' : 'archived';
  const domain = company ? `${ascii(company.split(' ').slice(0, 2).join(''))}.de` : pick(['web.de', 'gmx.de', 't-online.de', 'posteo.de', 'mailbox.org']);
  return {
    salutation: isCompanyOnly ? null : pick(['mr', 'ms', 'ms', 'mr', 'mx'] as const),
    first_name: isCompanyOnly ? null : first,
    last_name: isCompanyOnly ? null : last,
    company,
    email: rand() < 0.85 ? `${isCompanyOnly ? 'info' : `${ascii(first)}.${ascii(last)}${i % 7 === 0 ? i : ''}`}@${domain}` : null,
    phone: rand() < 0.8 ? `+49 ${Math.floor(30 + rand() * 900)} ${Math.floor(100000 + rand() * 8999999)}` : null,
    mobile: rand() < 0.4 ? `+49 15${Math.floor(1 + rand() * 8)} ${Math.floor(1000000 + rand() * 8999999)}` : null,
    website: company && rand() < 0.6 ? `www.${domain}` : null,
    street: rand() < 0.9 ? `${pick(streets)} ${Math.floor(1 + rand() * 120)}` : null,
    postal_code: postal,
    city,
    country,
    birthday: !isCompanyOnly && rand() < 0.3 ? `${1950 + Math.floor(rand() * 50)}-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}` : null,
    customer_number: status !== 'inbox' && rand() < 0.5 ? `K-${String(i + 1).padStart(5, '0')}` : null,
    status,
    previous_status: status === 'archived' ? pick(['prospect', 'customer'] as const) : null,
    created_at: new Date(now - Math.floor(rand() * 3 * 365 * 24 * 3600 * 1000)).toISOString(),
  };
}
