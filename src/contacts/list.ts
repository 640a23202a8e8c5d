import type { Request } from 'express';
import { holdsNul } from '../web/security';
import type { Db } from '../db/knex';
import { NotFound } from '../web/errors';
import { ListQuery } from './schema';
import { countForList, findContact, findListPage, type ListTotal, type Contact, type ContactPage, type GroupScope } from './queries';
import { contactTarget, loadAssignments, type AssignmentLabel } from '../assignment/queries';
import { findGroupScope } from '../groups/queries';
import { currentSelection, otherSelection, type OtherSelection, type Selection } from './selection';

export interface ListLocals {
  query: ListQuery;
  page: ContactPage;
  total: ListTotal;
  group?: GroupScope & { name: string };
  selection: Selection;
  /** Ticks kept for another filter (the bar says so). */
  otherSelection?: OtherSelection;
  created?: Contact & { assignment: AssignmentLabel };
  /** Nothing found among prospects and customers: how many match in the inbox or the archive. */
  elsewhere?: ListTotal;
}

/** Everything the results fragment needs for one list query: page (rows with their assignment labels), total, group, selection. */
export async function loadList(db: Db, req: Request, query: ListQuery, createdId?: string): Promise<ListLocals> {
  const viewerId = req.user!.id;
  const group = query.group ? await findGroupScope(db, query.group, viewerId) : undefined;
  if (query.group && !group) throw new NotFound('groups.gone');
  const selection = currentSelection(req, query);
  const [{ page, total }, contact] = await Promise.all([
    // "Alle … Treffer ausgewählt" names the exact number.
    findListPage(db, query, query, { viewerId, group, exact: query.count === 'exact' || selection.all }),
    createdId ? findContact(db, createdId) : undefined,
  ]);
  // A contact just created shows on top of the page, labelled like the rows.
  const created = contact ? { ...contact, assignment: (await loadAssignments(db, contactTarget, [contact.id])).get(contact.id)! } : undefined;
  // A search that finds nobody among the active contacts says so for the inbox and the archive too:
  // "0 Kontakte" for an archived customer invited a second one. Counted only then.
  const searchedActiveOnly = query.q?.trim() && !query.status?.length && !group && !query.after && !query.before;
  const elsewhere = !page.rows.length && !created && searchedActiveOnly ? await countForList(db, { ...query, status: [...otherStatuses] }, { viewerId }) : undefined;
  return { query, page, total, group, selection, otherSelection: await selectionElsewhere(db, req, selection), created, elsewhere: elsewhere?.n ? elsewhere : undefined };
}

/** Ticks kept for another filter, unless they were made in a group gone since (deleted, or a temporary one expired): then they go too. */
async function selectionElsewhere(db: Db, req: Request, current: Selection): Promise<OtherSelection | undefined> {
  const other = otherSelection(req, current);
  if (!other?.group || (await findGroupScope(db, other.group, req.user!.id))) return other;
  req.session.selection = undefined;
  return undefined;
}

const otherStatuses = ['inbox', 'archived'] as const;

/**
 * The list behind a dialog, as its page showed it, after the dialog's write (a contact created, a bulk
 * action): the write is done, so nothing about that page may fail the answer. A group deleted meanwhile
 * (by a colleague, or a temporary one gone with its session) shows the whole list instead.
 */
export async function loadListBehindDialog(db: Db, req: Request, createdId?: string): Promise<ListLocals> {
  const query = queryOfCurrentPage(req);
  try {
    return await loadList(db, req, query, createdId);
  } catch (error) {
    if (!(error instanceof NotFound) || !query.group) throw error;
    return loadList(db, req, { ...query, group: undefined }, createdId);
  }
}

/** The list query of the page an htmx request came from, for answers that refresh the list behind a dialog. */
function queryOfCurrentPage(req: Request): ListQuery {
  // A header is no form: one that is no address at all (a 500 after the write) means the plain list.
  let current: URL;
  try {
    current = new URL(req.get('HX-Current-URL') ?? 'http://local/contacts', 'http://local');
  } catch {
    return ListQuery.parse({});
  }
  const params: Record<string, string | string[]> = {};
  for (const key of new Set(current.searchParams.keys())) {
    const values = current.searchParams.getAll(key);
    params[key] = values.length > 1 ? values : values[0];
  }
  // A header is no form: what PostgreSQL could not take (a NUL) means the plain list, not a 500 after the write.
  const parsed = holdsNul(params) ? undefined : ListQuery.safeParse(params);
  return parsed?.success ? parsed.data : ListQuery.parse({});
}
