import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { listReads, toCount, type ListPlanning } from '../db/knex';
import { countByStatus, noteStatusCountRows, statusCountQuery, statusCountRowsQuery } from './counts';
import { countryCodes, effectiveStatuses, filterKeys, ListFilter, searchWords, type ListPosition, type Sort } from './schema';
import type { Status } from './status';
import { notifyResponsible } from '../notifications/queries';
import { ownContactsUnion, whereDirectlyAssigned, whereResponsible } from '../assignment/responsibility';
import { assignmentLabelColumns, contactTarget, labelOf, type AssignmentLabel, type LabelColumns } from '../assignment/queries';

export const PAGE_SIZE = 50;

/** `%`, `_` and `\` typed by a user are literal characters, never wildcards. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A group chosen in the sidebar, as the list needs it: members (static, temporary) or a saved filter (dynamic). */
export interface GroupScope {
  id: string;
  kind: 'static' | 'dynamic' | 'temporary';
  filter: ListFilter | null;
}

/**
 * Narrows a query on `contacts as c` to the filter. Every condition is served by
 * an index (see the contacts migration); search words must all occur, in any order.
 */
export function applyFilter(db: Db, query: Knex.QueryBuilder, filter: ListFilter, viewerId?: string, group?: GroupScope): Knex.QueryBuilder {
  if (group?.kind === 'dynamic' && group.filter) {
    applyFilter(db, query, group.filter, viewerId);
  } else if (group) {
    query.whereExists(db.select(db.raw('1')).from('group_members as gm').whereRaw('gm.contact_id = c.id').andWhere('gm.group_id', group.id));
  }
  // Inside a group, its members show whatever their status unless the filter names one.
  if (!group || filter.status?.length) query.whereIn('c.status', effectiveStatuses(filter) as Status[]);
  if (filter.assigned) {
    const user = assignedUser(filter, viewerId);
    if (filter.assigned_direct) whereDirectlyAssigned(query, db, user);
    else whereResponsible(query, db, user);
  }
  if (filter.competence) query.where('c.assignment', 'competence').andWhere('c.competence_id', filter.competence);
  // "Mueller" finds "Müller" (folded "muller") as well as "mueller@…".
  for (const word of searchWords(filter.q)) whereEitherSpelling(query, `c.search_text like '%' || kontakte_fold(?) || '%'`, escapeLike(word));
  if (filter.postal_code) query.where('c.postal_code', 'like', `${escapeLike(filter.postal_code)}%`);
  // "Koeln" finds Köln, as the search box finds "Mueller".
  if (filter.city) whereEitherSpelling(query, `c.city_key like kontakte_fold(?) || '%'`, escapeLike(filter.city));
  if (filter.country) {
    // Written in from the app's own list of countries, never the request's text: each country is a
    // statement of its own that keeps a plan for it (listPlanning). Any other value stays bound.
    const known = countryCodes.find((code) => code === filter.country);
    if (known) query.whereRaw(`c.country = '${known}'`);
    else query.where('c.country', filter.country);
  }
  if (filter.created_from) query.whereRaw(`c.created_at >= (?::date)::timestamp at time zone 'Europe/Berlin'`, [filter.created_from]);
  if (filter.created_to) query.whereRaw(`c.created_at < (?::date + 1)::timestamp at time zone 'Europe/Berlin'`, [filter.created_to]);
  // The generated flags, not the columns themselves: the list's indexes carry them (contact_filter_flags migration).
  // Written as true or false, not bound: the two are two statements, each keeping a plan of its own (listPlanning).
  if (filter.has_number) query.whereRaw(`c.has_number = ${filter.has_number === 'yes'}`);
  if (filter.has_email) query.whereRaw(`c.has_email = ${filter.has_email === 'yes'}`);
  return query;
}

/**
 * `condition` (one placeholder) for the text as typed, or, where it spells umlauts out ("Mueller"),
 * for it as typed or without them: one condition, the same statement, as before, for a plain word.
 */
function whereEitherSpelling(query: Knex.QueryBuilder, condition: string, typed: string): void {
  const umlauts = withoutUmlautSpelling(typed);
  if (umlauts === typed) query.whereRaw(condition, [typed]);
  else query.whereRaw(`(${condition} or ${condition})`, [typed, umlauts]);
}

/**
 * A word with umlauts spelt out ("Mueller", "Koenig", "Baeuerle"), as typed on
 * a keyboard without them, the way the search folds "Müller" ("muller"). An
 * "ae", "oe" or "ue" after a vowel is none ("Bauer", "Feuer", the "ue" of
 * "Baeuerle"). The word itself is searched too: "Manuel" stays found as written.
 */
export function withoutUmlautSpelling(word: string): string {
  return word.replace(/(?<![aeiouyäöü])([aou])e/gi, '$1');
}

function assignedUser(filter: ListFilter, viewerId: string | undefined): string {
  const user = filter.assigned === 'me' ? viewerId : filter.assigned;
  if (!user) throw new Error('the filter "assigned=me" needs the viewer');
  return user;
}

/** The number sort's key of a contact without a customer number: after every number (the index's own expression, in SQL and as text). */
const NO_NUMBER = `E'\\U0010FFFF'`;
const NO_NUMBER_KEY = '\u{10FFFF}';

/** Each sort: the indexed key expression (identical to the index's) and how a cursor value is cast back. */
const sortKeys: Record<'name' | 'number' | 'created', { expr: string; cast: string }> = {
  name: { expr: 'c.sort_name', cast: 'text' },
  number: { expr: `(coalesce(lower(c.customer_number), ${NO_NUMBER}) collate "C")`, cast: 'text' },
  created: { expr: 'c.created_at', cast: 'timestamptz' },
};

export const listColumns = [
  'c.id',
  'c.salutation',
  'c.first_name',
  'c.last_name',
  'c.company',
  'c.email',
  'c.status',
  'c.customer_number',
  'c.city',
  'c.picture_updated_at',
] as const;

export interface ContactRow {
  id: string;
  salutation: string | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  email: string | null;
  status: Status;
  customer_number: string | null;
  city: string | null;
  picture_updated_at: Date | null;
}

/** A row of the list: the contact and its assignment label. */
export interface ListRow extends ContactRow {
  assignment: AssignmentLabel;
}

export interface ContactPage {
  rows: ListRow[];
  previous?: string;
  next?: string;
  hasPrevious: boolean;
  hasNext: boolean;
  /** The rows' sort keys, on the last page only (alignLastPage). */
  sortKeys?: string[];
  /** Which page this is, counted from the first (numberPage); unknown from the end without an exact total. */
  number?: number;
  /** How many pages there are, with an exact total. */
  pages?: number;
}

function encodeCursor(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}

/** A cursor that does not decode is treated as absent: the list starts from the top. */
export function decodeCursor(cursor: string | undefined): [string, string] | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && /^\d{1,18}$/.test(String(value[1]))) {
      return [value[0], String(value[1])];
    }
  } catch {
    // fall through
  }
  return undefined;
}

/**
 * One page of the list with keyset pagination: the first, a middle and the last
 * page all cost the same, at 100 contacts or 100,000.
 */
export async function findContactPage(
  db: Db,
  filter: ListFilter,
  position: ListPosition,
  options: { viewerId?: string; group?: GroupScope; limit?: number } = {},
): Promise<ContactPage> {
  return (await findContactPageCounting(db, filter, position, options)).page;
}

/**
 * findContactPage, and with `count` (a query of one column `n`, e.g.
 * cappedCountQuery) what it counted, in the same statement: one round trip
 * and one statement for PostgreSQL to plan instead of two. `counted` is
 * undefined when the page is empty (no row to carry it).
 */
async function findContactPageCounting(
  db: Db,
  filter: ListFilter,
  position: ListPosition,
  {
    viewerId,
    group,
    limit = PAGE_SIZE,
    count,
    statusCountRows = false,
  }: { viewerId?: string; group?: GroupScope; limit?: number; count?: Knex.QueryBuilder; statusCountRows?: boolean },
): Promise<{ page: ContactPage; counted?: number; statusCountRows?: number }> {
  const order = pageOrder(position);
  const { key, direction } = order;
  // Which contacts, from the index alone where it holds the filtered columns
  // (contacts_sort_name_covering); then only those rows are read, with their labels.
  // The limit is written into the statement, not bound: a plan kept for any limit (ListPlanning)
  // assumed a tenth of the contacts and joined all of them (90 instead of 0.5 ms).
  // Pages in by "?page=": each stretch walks as far, the rows passed over are left out once.
  const { offset } = order;
  const walk = (segment?: Segment) => {
    const part = applyFilter(db, db('contacts as c'), filter, viewerId, group)
      .select('c.id', db.raw(`${key.expr}::text as sort_key`))
      .orderByRaw(`${key.expr} ${direction}, c.id ${direction}`)
      .limit(limit + 1 + (segment ? offset : 0), { skipBinding: true });
    if (!segment && offset) part.offset(offset, { skipBinding: true });
    if (segment) part.whereRaw(segment.where(key.expr));
    if (segment ? segment.fromCursor : order.cursor) part.whereRaw(`(${key.expr}, c.id) ${order.backwards ? '<' : '>'} (?::${key.cast}, ?::bigint)`, order.cursor!);
    return part;
  };
  // Descending by number, the contacts without one are a stretch of the index walked on its own (numberSegments).
  const parts = order.numberless ? numberSegments(order).map(walk) : [walk()];
  const ids =
    parts.length === 1
      ? parts[0]
      : db
          .select('s.id', 's.sort_key')
          .from(db.raw(`((?) union all (?)) as s`, parts))
          .orderByRaw(orderOf(order, 's.sort_key collate "C"', 's.id'))
          .limit(limit + 1, { skipBinding: true })
          .offset(offset, { skipBinding: true });
  const query = db
    .select(...listColumns, ...assignmentLabelColumns(db, contactTarget, 'c'), 'p.sort_key')
    .from(ids.as('p'))
    .join('contacts as c', 'c.id', 'p.id')
    .orderByRaw(orderOf(order, key.expr, 'c.id'));
  if (count) query.select(db.raw('(?) as counted', [count]));
  if (statusCountRows) query.select(db.raw('(?) as status_count_rows', [statusCountRowsQuery(db)]));
  const fetched = await listReads<PageRow & { counted?: string; status_count_rows?: string }>(db, query, listPlanning(filter, group));
  const first = fetched[0];
  return {
    page: toPage(fetched, limit, order),
    counted: count && first ? toCount(first.counted) : undefined,
    statusCountRows: statusCountRows && first ? toCount(first.status_count_rows) : undefined,
  };
}

/** Filters whose values the list's plan does not depend on: status (bound), the flags and the country (written into the statement). */
const plannedOnce = new Set<string>(['status', 'has_number', 'has_email', 'country']);

/**
 * How the page's statement is planned (ListPlanning): the list by status,
 * flags and country keeps its plan; any other filter's best plan depends on its values
 * (a common word or a rare one, a big group or a small one).
 */
function listPlanning(filter: ListFilter, group?: GroupScope): ListPlanning {
  return !group && narrowsOnlyBy(filter, plannedOnce) ? 'kept' : 'perCall';
}

/**
 * A page of a search (or another filter with few matches found through an
 * index of their own) and the number of its matches, from one pass over them:
 * the matches (up to `countUpTo` + 1, found by the trigram index) are counted
 * and the page is the first of them in list order. Searching by walking the
 * name index instead reads the rows of every contact passed on the way (a
 * common name: thousands), and counting found them all a second time.
 * `matched` is above `countUpTo` when there are more (the page is then not
 * the list's: ask findContactPage), and undefined when the page is empty.
 */
async function findSearchPage(
  db: Db,
  filter: ListFilter,
  position: ListPosition,
  { viewerId, group, countUpTo, limit = PAGE_SIZE }: { viewerId?: string; group?: GroupScope; countUpTo: number; limit?: number },
): Promise<{ page: ContactPage; matched?: number }> {
  const order = pageOrder(position);
  const { key } = order;
  const matches = applyFilter(db, db('contacts as c'), filter, viewerId, group)
    .select('c.id', db.raw(`${key.expr} as k`))
    .limit(countUpTo + 1);
  const ids = db('m')
    .select('m.id', db.raw('m.k::text as sort_key'))
    .orderByRaw(orderOf(order, 'm.k', 'm.id'))
    .limit(limit + 1);
  if (order.offset) ids.offset(order.offset);
  if (order.cursor) {
    const fromCursor = `(m.k, m.id) ${order.backwards ? '<' : '>'} (?::${key.cast}, ?::bigint)`;
    // The matches are sorted here, not walked in an index: the stretches after the cursor's are one condition.
    if (!order.numberless) ids.whereRaw(fromCursor, order.cursor);
    else ids.whereRaw(numberSegments(order).map((segment) => `(${segment.where('m.k')}${segment.fromCursor ? ` and ${fromCursor}` : ''})`).join(' or '), order.cursor);
  }
  const query = db
    .withMaterialized('m', matches)
    .select(...listColumns, ...assignmentLabelColumns(db, contactTarget, 'c'), 'p.sort_key', db.raw('(select count(*) from m) as matched'))
    .from(ids.as('p'))
    .join('contacts as c', 'c.id', 'p.id')
    .orderByRaw(orderOf(order, key.expr, 'c.id'));
  const fetched = await listReads<PageRow & { matched: string }>(db, query);
  return { page: toPage(fetched, limit, order), matched: fetched.length ? toCount(fetched[0].matched) : undefined };
}

type PageRow = ContactRow & LabelColumns & { sort_key: string };

interface PageOrder {
  key: { expr: string; cast: string };
  direction: 'asc' | 'desc';
  backwards: boolean;
  fromEnd: boolean;
  after?: [string, string];
  before?: [string, string];
  cursor?: [string, string];
  /** Descending by number: where the contacts without a number come in the walk (numberSegments). */
  numberless?: 'first' | 'last';
  /** Rows passed over: "?page=3" without a cursor starts 100 rows in, in the index's order. */
  offset: number;
}

/** A stretch of the number index walked on its own: its condition, and whether the cursor lies in it (the stretches before it are left out). */
interface Segment {
  where: (key: string) => string;
  fromCursor: boolean;
}

/**
 * The number index holds the contacts without a number after every number,
 * which is right ascending; walked backwards for "Kundennummer absteigend",
 * it showed them first: thousands of rows without a number before the highest
 * one. Descending, the list walks two stretches of the same index instead:
 * the numbers from the highest down, then the contacts without one (newest
 * first); "Letzte Seite" and paging back walk them the other way round. A
 * cursor in the second stretch leaves the first out.
 */
function numberSegments(order: PageOrder): Segment[] {
  const numbered = { where: (key: string) => `${key} < ${NO_NUMBER}`, numberless: false };
  const without = { where: (key: string) => `${key} = ${NO_NUMBER}`, numberless: true };
  const walked = order.numberless === 'last' ? [numbered, without] : [without, numbered];
  const cursorAt = order.cursor ? walked.findIndex((s) => s.numberless === (order.cursor![0] === NO_NUMBER_KEY)) : -1;
  return walked.slice(Math.max(cursorAt, 0)).map((s, i) => ({ where: s.where, fromCursor: cursorAt >= 0 && i === 0 }));
}

/** The ORDER BY of a page, on the given key and id columns: the index's order, or the number stretches in walking order. */
function orderOf(order: PageOrder, key: string, id: string): string {
  const { direction, numberless } = order;
  const stretches = numberless ? `(${key} = ${NO_NUMBER}) ${numberless === 'last' ? 'asc' : 'desc'}, ` : '';
  return `${stretches}${key} ${direction}, ${id} ${direction}`;
}

/**
 * A cursor only if PostgreSQL can read its key as the sort's: a tampered one
 * (a date that is none, a NUL byte) is ignored like any other bad cursor,
 * where it was an error of the statement (500).
 */
function fitting(cursor: [string, string] | undefined, key: { cast: string }): [string, string] | undefined {
  if (!cursor || cursor[0].includes('\u0000')) return undefined;
  return key.cast !== 'timestamptz' || isTimestampText(cursor[0]) ? cursor : undefined;
}

/** PostgreSQL's text of a timestamptz ("2026-12-06 14:05:09.123456+00") with a real date and time. */
function isTimestampText(text: string): boolean {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/.exec(text);
  if (!match) return false;
  const [, date, hours, minutes, seconds, , offsetHours, offsetMinutes = '00'] = match;
  const day = new Date(`${date}T00:00:00Z`);
  // Year 0 does not exist for PostgreSQL, nor an offset beyond ±15:59.
  const realDay = !Number.isNaN(day.getTime()) && day.toISOString().startsWith(date) && !date.startsWith('0000');
  return realDay && Number(hours) < 24 && Number(minutes) < 60 && Number(seconds) < 60 && Number(offsetHours) <= 15 && Number(offsetMinutes) < 60;
}

/** Where a page starts and which way the index is walked: reading from the end walks it backwards and turns the rows round. */
function pageOrder(position: ListPosition): PageOrder {
  const sort = position.sort as Sort;
  const descending = sort.startsWith('-');
  const key = sortKeys[sort.replace('-', '') as keyof typeof sortKeys];
  const after = fitting(decodeCursor(position.after), key);
  const before = after ? undefined : fitting(decodeCursor(position.before), key);
  const fromEnd = Boolean(before) || (!after && position.last === '1');
  const backwards = descending !== fromEnd;
  const numberless = sort === '-number' ? (fromEnd ? 'first' : 'last') : undefined;
  const offset = !after && !before && !fromEnd && position.page && position.page > 1 ? (position.page - 1) * PAGE_SIZE : 0;
  return { key, direction: backwards ? 'desc' : 'asc', backwards, fromEnd, after, before, cursor: after ?? before, numberless, offset };
}

function toPage(fetched: PageRow[], limit: number, { fromEnd, after, before, offset }: PageOrder): ContactPage {
  const more = fetched.length > limit;
  const rows = fetched.slice(0, limit);
  if (fromEnd) rows.reverse();

  const page: ContactPage = {
    // Spelled out: a rest pattern over 15 columns, 50 times, was a tenth of a millisecond per page.
    rows: rows.map((r) => ({
      id: String(r.id),
      salutation: r.salutation,
      first_name: r.first_name,
      last_name: r.last_name,
      company: r.company,
      email: r.email,
      status: r.status,
      customer_number: r.customer_number,
      city: r.city,
      picture_updated_at: r.picture_updated_at,
      assignment: labelOf(r),
    })),
    hasPrevious: fromEnd ? more : Boolean(after) || offset > 0,
    hasNext: fromEnd ? Boolean(before) : more,
  };
  if (rows.length) {
    page.previous = encodeCursor(rows[0].sort_key, String(rows[0].id));
    page.next = encodeCursor(rows[rows.length - 1].sort_key, String(rows[rows.length - 1].id));
  }
  if (fromEnd && !before) page.sortKeys = rows.map((r) => r.sort_key);
  return page;
}

/**
 * "Letzte Seite" reads the last PAGE_SIZE matches from the end. With an exact
 * total it shows only what whole pages from the start leave (321 contacts: the
 * last 21), as paging forward gets there; all 50 repeated 29 of the page
 * before. The statement stays the same (its limit is part of its plan).
 */
function alignLastPage(found: { page: ContactPage; total: ListTotal }): { page: ContactPage; total: ListTotal } {
  const { page, total } = found;
  const keep = ((total.n - 1) % PAGE_SIZE) + 1;
  // No total (0) beside rows: a contact deleted between the page and its count (an exact count runs apart).
  if (!page.sortKeys || total.capped || total.n < 1 || page.rows.length <= keep) return found;
  const drop = page.rows.length - keep;
  const rows = page.rows.slice(drop);
  return { total, page: { ...page, rows, hasPrevious: true, previous: encodeCursor(page.sortKeys[drop], rows[0].id) } };
}

export async function countContacts(db: Db, filter: ListFilter, viewerId?: string, group?: GroupScope): Promise<number> {
  if (countedByStatus(filter, group)) return countByStatus(db, effectiveStatuses(filter));
  return toCount((await countQuery(db, filter, viewerId, group).first())?.n);
}

/**
 * The filter's matches counted (up to `cap` + 1 when given: above the cap
 * means "more"), as a query with one column `n`, to run alone or as a
 * subquery. Status-only filters are summed from the kept per-status counts.
 * So are the contacts for all of "Mir zugewiesen" (or another employee's
 * contacts) narrowed by nothing but status; the employee's own, by name and
 * by competence, are counted through their own indexes (ownContactsUnion).
 * Tested contact by contact, every active contact was walked whenever the
 * employee had fewer than the cap: one responsible for 4,000 of 80,000 waited
 * 11.6 ms for the list's statement, counted by kind of assignment 4.8 ms.
 * With any other filter beside it, the one condition is kept: that filter's
 * narrower index is walked once, not once per part (a city: 5 instead of 15 ms).
 */
function countQuery(db: Db, filter: ListFilter, viewerId?: string, group?: GroupScope, cap?: number): Knex.QueryBuilder {
  if (countedByStatus(filter, group)) return statusCountQuery(db, effectiveStatuses(filter));
  // The cap written in, as the page's limit is (findContactPageCounting).
  const upToCap = (matches: Knex.QueryBuilder) => (cap === undefined ? matches : matches.limit(cap + 1, { skipBinding: true }));
  if (!group && filter.assigned && !filter.assigned_direct && narrowsOnlyBy(filter, countedByAssignment)) {
    const rest: ListFilter = { ...filter, assigned: undefined };
    const own = ownContactsUnion(() => applyFilter(db, db('contacts as c'), rest).select(db.raw('1')), db, assignedUser(filter, viewerId));
    const ownCounted = db.count({ n: '*' }).from(upToCap(db.select(db.raw('1')).from(db.raw('(?) as r', [own]))).as('m'));
    const forAll = statusCountQuery(db, effectiveStatuses(filter), { forAll: true });
    if (cap === undefined) return db.select(db.raw('(?) + (?) as n', [forAll, ownCounted]));
    // Past the cap with those for all alone, their own are not counted at all (PostgreSQL runs a
    // subquery of a branch not taken never).
    return db.select(db.raw(`case when (?) > ${cap} then (?) else (?) + (?) end as n`, [forAll, forAll, forAll, ownCounted]));
  }
  return db.count({ n: '*' }).from(upToCap(applyFilter(db, db('contacts as c'), filter, viewerId, group).select(db.raw('1'))).as('m'));
}

const countedByAssignment = new Set<string>(['status', 'assigned']);

/**
 * The list counts exactly up to this many matches and says "mehr als 10.000"
 * beyond: counting 80,000 matches on every page costs more than the page itself
 * and tells a clerk nothing a bigger number would. Unfiltered and status-only
 * lists are always exact (kept per status by the database), and "genau zählen"
 * (`count=exact`) counts any filter on request.
 */
export const LIST_COUNT_CAP = 10_000;

/** The total a list shows: exact, or `capped` (more than LIST_COUNT_CAP, and `n` is the cap). */
export interface ListTotal {
  n: number;
  capped: boolean;
}

/**
 * The page and the total a list shows, in one statement where it can:
 * - a search (or "nur direkte Zuweisung") finds its matches once for both
 *   (findSearchPage); with more than the list counts, the page is the usual one;
 * - otherwise the total (per-status sums, or a count up to the cap) is a
 *   subquery of the page query;
 * - an exact count, or a "more than" remembered (cappedCounts), leaves the
 *   page query alone.
 * An empty page carries no total; behind a cursor it is counted on its own.
 */
export async function findListPage(
  db: Db,
  filter: ListFilter,
  position: ListPosition,
  options: { viewerId?: string; group?: GroupScope; exact?: boolean },
): Promise<{ page: ContactPage; total: ListTotal }> {
  const found = alignLastPage(await findPageAndTotal(db, filter, position, options));
  // "?page=" past the end (a bookmark of a list that shrank): its last page, not an empty one.
  const paged = !position.after && !position.before && position.last !== '1' && (position.page ?? 1) > 1;
  if (paged && !found.page.rows.length) return findListPage(db, filter, { ...position, page: undefined, last: '1' }, options);
  return numberPage(found, position);
}

/**
 * The page's number for the pager, carried by its links beside the cursor
 * ("?after=…&page=3"): from the start it is the page asked for, from the end
 * the count of pages (known with an exact total).
 */
function numberPage(found: { page: ContactPage; total: ListTotal }, position: ListPosition): { page: ContactPage; total: ListTotal } {
  const { page, total } = found;
  const pages = total.capped ? undefined : Math.max(1, Math.ceil(total.n / PAGE_SIZE));
  const fromEnd = position.last === '1' && !position.after && !position.before;
  const fromStart = !position.after && !position.before && !fromEnd;
  const number = fromEnd ? pages : fromStart ? (position.page ?? 1) : position.page;
  return { total, page: { ...page, pages, number: number && pages ? Math.min(number, pages) : number } };
}

async function findPageAndTotal(
  db: Db,
  filter: ListFilter,
  position: ListPosition,
  { viewerId, group, exact = false }: { viewerId?: string; group?: GroupScope; exact?: boolean },
): Promise<{ page: ContactPage; total: ListTotal }> {
  const scope = { viewerId, group };
  const key = countKey(filter, viewerId, group);
  const remembered = !exact && cappedCounts(db).has(key);
  const pageOnly = async () => findContactPage(db, filter, position, scope);
  const countedAlone = async (page: ContactPage) =>
    page.rows.length || position.after || position.before ? countForList(db, filter, scope) : { n: 0, capped: false };

  if (remembered) return { page: await pageOnly(), total: { n: LIST_COUNT_CAP, capped: true } };
  if (exact) {
    const [page, total] = await Promise.all([pageOnly(), countForList(db, filter, { ...scope, exact })]);
    return { page, total };
  }
  // A search, or only the contacts assigned to one employee by name: few matches, found through
  // their own index (trigram, assignees), so finding them once for page and count beats walking the list.
  if (filter.q?.trim() || (filter.assigned && filter.assigned_direct)) {
    const { page, matched } = await findSearchPage(db, filter, position, { ...scope, countUpTo: LIST_COUNT_CAP });
    if (matched === undefined) return { page, total: await countedAlone(page) };
    const total = rememberIfCapped(db, key, listTotal(matched, filter, group));
    return { page: total.capped ? await pageOnly() : page, total };
  }
  const byStatus = countedByStatus(filter, group);
  const found = await findContactPageCounting(db, filter, position, { ...scope, count: cappedCountQuery(db, filter, viewerId, group), statusCountRows: byStatus });
  if (found.counted === undefined) return { page: found.page, total: await countedAlone(found.page) };
  // Whoever reads the per-status sums says whether they want folding.
  if (byStatus) noteStatusCountRows(db, found.statusCountRows ?? 0);
  return { page: found.page, total: rememberIfCapped(db, key, listTotal(found.counted, filter, group)) };
}

export async function countForList(db: Db, filter: ListFilter, { viewerId, group, exact = false }: { viewerId?: string; group?: GroupScope; exact?: boolean }): Promise<ListTotal> {
  // Status-only counts go through countByStatus, which also keeps the kept counts folded.
  if (exact || countedByStatus(filter, group)) return { n: await countContacts(db, filter, viewerId, group), capped: false };
  const key = countKey(filter, viewerId, group);
  if (cappedCounts(db).has(key)) return { n: LIST_COUNT_CAP, capped: true };
  return rememberIfCapped(db, key, listTotal(toCount((await cappedCountQuery(db, filter, viewerId, group).first())?.n), filter, group));
}

function rememberIfCapped(db: Db, key: string, total: ListTotal): ListTotal {
  if (total.capped) cappedCounts(db).remember(key);
  return total;
}

/** How long a "Mehr als 10.000" stays remembered (see cappedCounts). */
const CAPPED_COUNT_TTL_MS = 30_000;

/**
 * Filters found to match more than LIST_COUNT_CAP, remembered for
 * CAPPED_COUNT_TTL_MS per database handle, so that paging through such a list
 * does not count 10,001 contacts again for every page: the most expensive
 * count the list makes, and the answer that changes least ("more than
 * 10,000"). Exact totals are never remembered. Any change this process writes
 * to contacts, assignments, competences or groups forgets them all; a change
 * made by another app instance shows within the TTL.
 */
interface CappedCounts {
  has(key: string): boolean;
  remember(key: string): void;
}

const cappedCountsByDb = new WeakMap<Db, CappedCounts>();
const CAPPED_COUNTS_KEPT = 500;
const writesToListedData = /^\s*(with\b[\s\S]*\b)?(insert|update|delete|truncate)\b[\s\S]*\b(contacts|contact_assignees|competence_members|competences|group_members|groups|users)\b/i;

function cappedCounts(db: Db): CappedCounts {
  let counts = cappedCountsByDb.get(db);
  if (!counts) {
    const seen = new Map<string, number>();
    db.on('query', (query: { method?: string; sql?: string }) => {
      if (query.method !== 'select' && query.method !== 'first' && seen.size && writesToListedData.test(query.sql ?? '')) seen.clear();
    });
    counts = {
      has(key) {
        const at = seen.get(key);
        if (at === undefined) return false;
        if (Date.now() - at <= CAPPED_COUNT_TTL_MS) return true;
        seen.delete(key);
        return false;
      },
      remember(key) {
        seen.delete(key);
        seen.set(key, Date.now());
        // Oldest first in a Map: keep it small.
        if (seen.size > CAPPED_COUNTS_KEPT) seen.delete(seen.keys().next().value!);
      },
    };
    cappedCountsByDb.set(db, counts);
  }
  return counts;
}

/** The filter's own fields (no sort or page position), whose view (the responsibility filter depends on it) and group. */
function countKey(filter: ListFilter, viewerId: string | undefined, group: GroupScope | undefined): string {
  const own = Object.fromEntries(filterKeys.filter((key) => filter[key] !== undefined).map((key) => [key, filter[key]]));
  return JSON.stringify([own, viewerId ?? null, group ? [group.id, group.kind, group.filter] : null]);
}

/** What cappedCountQuery counted, as the list shows it: above the cap means "more", except for the exact per-status sums. */
export function listTotal(counted: number, filter: ListFilter, group?: GroupScope, cap = LIST_COUNT_CAP): ListTotal {
  return !countedByStatus(filter, group) && counted > cap ? { n: cap, capped: true } : { n: counted, capped: false };
}

/**
 * The filter's matches counted up to `cap` + 1 (a result above the cap means
 * "more"), as a query with one column `n`; status-only filters are summed
 * from the per-status counts instead, exactly. Runs alone or as a subquery.
 */
export function cappedCountQuery(db: Db, filter: ListFilter, viewerId?: string, group?: GroupScope, cap = LIST_COUNT_CAP): Knex.QueryBuilder {
  return countQuery(db, filter, viewerId, group, cap);
}


/**
 * True when the list's total is a sum of the per-status counts, exactly: no
 * group, and a filter that narrows by status only (or not at all).
 */
function countedByStatus(filter: ListFilter, group?: GroupScope): boolean {
  return !group && narrowsOnlyBy(filter, byStatusOnly);
}

const byStatusOnly = new Set<string>(['status']);

/** True when the filter sets none of its fields but `keys` (or none at all). */
function narrowsOnlyBy(filter: ListFilter, keys: ReadonlySet<string>): boolean {
  return filterKeys.every((key) => keys.has(key) || filter[key] === undefined);
}

export interface Contact extends ContactRow {
  phone: string | null;
  mobile: string | null;
  website: string | null;
  street: string | null;
  postal_code: string | null;
  country: string;
  birthday: string | null;
  notes: string | null;
  previous_status: 'prospect' | 'customer' | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  created_by_name: string | null;
  created_by_active: boolean | null;
}

export async function findContact(db: Db | Knex.Transaction, id: number | string, options: { lock?: boolean } = {}): Promise<Contact | undefined> {
  const query = db('contacts as c')
    .leftJoin('users as u', 'u.id', 'c.created_by')
    .select(
      ...listColumns,
      'c.phone',
      'c.mobile',
      'c.website',
      'c.street',
      'c.postal_code',
      'c.country',
      db.raw(`to_char(c.birthday, 'YYYY-MM-DD') as birthday`),
      'c.notes',
      'c.previous_status',
      'c.version',
      'c.created_at',
      'c.updated_at',
      'u.name as created_by_name',
      'u.active as created_by_active',
    )
    .where('c.id', id)
    .first();
  if (options.lock) query.forUpdate('c');
  const row = await query;
  return row ? { ...row, id: String(row.id) } : undefined;
}

/** Who holds a customer number (case-insensitively), for the "already taken" message. */
export async function findNumberHolder(db: Db | Knex.Transaction, number: string, exceptId?: string): Promise<ContactRow | undefined> {
  const query = db('contacts as c').select(...listColumns).whereRaw('lower(c.customer_number) = lower(?)', [number.trim()]);
  if (exceptId) query.whereNot('c.id', exceptId);
  return query.first();
}

export interface ContactEvent {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  created_at: Date;
  actor_id: string | null;
  actor_name: string | null;
  actor_active: boolean | null;
}

/** Records a history event and notifies the responsible employees, in the caller's transaction. */
export async function insertEvent(
  db: Db | Knex.Transaction,
  event: { contact_id: string | number; actor_id: string | null; kind: string; payload?: Record<string, unknown> },
): Promise<string> {
  const [row] = await db('contact_events')
    .insert({ ...event, payload: JSON.stringify(event.payload ?? {}) })
    .returning('id');
  await notifyResponsible(db, [row.id], { reassigned: event.kind === 'assigned' });
  return String(row.id);
}

/** Whether this note (the form's token and its text) is in the contact's history already. */
export async function noteSentBefore(db: Db | Knex.Transaction, contactId: string, token: string, text: string): Promise<boolean> {
  const row = await db('contact_events').select('id').where({ contact_id: contactId, kind: 'note' }).whereRaw(`payload->>'token' = ? and payload->>'text' = ?`, [token, text]).first();
  return Boolean(row);
}

export async function listEvents(db: Db, contactId: string, limit: number, beforeId?: string): Promise<ContactEvent[]> {
  const query = db('contact_events as e')
    .leftJoin('users as u', 'u.id', 'e.actor_id')
    .select('e.id', 'e.kind', 'e.payload', 'e.created_at', 'e.actor_id', 'u.name as actor_name', 'u.active as actor_active')
    .where('e.contact_id', contactId)
    // In the order they were written, which is also what "older" pages by (before an id).
    .orderBy('e.id', 'desc')
    .limit(limit);
  if (beforeId) query.where('e.id', '<', beforeId);
  return query;
}

/** Field changes recorded since a version (edits, and numbers given by "Nummer erzeugen"): who changed which field meanwhile. */
export async function changesSince(db: Db, contactId: string, version: number): Promise<ContactEvent[]> {
  return db('contact_events as e')
    .leftJoin('users as u', 'u.id', 'e.actor_id')
    .select('e.id', 'e.kind', 'e.payload', 'e.created_at', 'e.actor_id', 'u.name as actor_name', 'u.active as actor_active')
    .where('e.contact_id', contactId)
    .whereIn('e.kind', ['updated', 'number_assigned'])
    .andWhereRaw(`(e.payload ->> 'version')::int > ?`, [version])
    .orderBy('e.id');
}

/**
 * Who deleted a contact, and when, from the audit log that permanent deletion writes (its
 * payload lists the contacts): undefined for an id never used, or deleted before the log.
 */
export async function findDeletion(db: Db, contactId: string): Promise<{ actor: string | null; at: Date } | undefined> {
  return db('audit_log as a')
    .leftJoin('users as u', 'u.id', 'a.actor_id')
    .where('a.action', 'contacts_deleted')
    .whereRaw(`a.payload -> 'contacts' @> jsonb_build_array(jsonb_build_object('id', ?::bigint))`, [contactId])
    .orderBy('a.id', 'desc')
    .first('u.name as actor', 'a.created_at as at');
}

/** Who changed the contact's status last (their name), or null: for "… hat den Status inzwischen geändert". */
export async function lastStatusActor(db: Db | Knex.Transaction, contactId: string): Promise<string | null> {
  const last = await db('contact_events as e')
    .leftJoin('users as u', 'u.id', 'e.actor_id')
    .where({ 'e.contact_id': contactId, 'e.kind': 'status' })
    .orderBy('e.id', 'desc')
    .first('u.name');
  return last?.name ?? null;
}
