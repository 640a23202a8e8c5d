import type { Request } from 'express';
import { ListPosition, type ListQuery } from './schema';

/**
 * The employee's ticked contacts, kept in the session so that it survives
 * paging within the same filter. `key` names the filter (and group) it belongs
 * to; a different filter starts an empty selection.
 */
export interface Selection {
  key: string;
  ids: string[];
  all: boolean;
  /** With `all`: the matches unticked one by one since (every match but these). */
  except?: string[];
}

// Where in the list (sort, cursor, page number, "genau zählen"), from the schema itself: a list of its own
// here missed the page's number when it was added, and paging lost the selection.
const positionParams = new Set<string>(ListPosition.keyof().options);

export function selectionKey(query: Partial<ListQuery>): string {
  const entries = Object.entries(query)
    .filter(([k, v]) => !positionParams.has(k) && v !== undefined && !(Array.isArray(v) && !v.length))
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

export function currentSelection(req: Request, query: Partial<ListQuery>): Selection {
  const key = selectionKey(query);
  const stored = req.session.selection;
  return stored && stored.key === key ? stored : { key, ids: [], all: false };
}

/**
 * A selection kept for another filter than the one shown: the list says so
 * ("2 Kontakte sind bei einer anderen Suche … ausgewählt") with the way back to
 * it, instead of leaving the ticks to vanish without a word. Ticking here starts
 * a new selection (as before).
 */
export interface OtherSelection {
  count: number;
  all: boolean;
  /** The list's query string of the filter it belongs to ("?q=m%C3%BCller"). */
  queryString: string;
  /** The group it was made in, if any: it may be gone since. */
  group?: string;
}

export function otherSelection(req: Request, current: Selection): OtherSelection | undefined {
  const stored = req.session.selection;
  if (!stored || stored.key === current.key || !(stored.ids.length || stored.all)) return undefined;
  const params = new URLSearchParams();
  // The key is selectionKey's: the filter's fields and values, sorted.
  for (const [name, value] of JSON.parse(stored.key) as [string, unknown][]) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return { count: stored.ids.length, all: stored.all, queryString: text ? `?${text}` : '', group: params.get('group') ?? undefined };
}

export function saveSelection(req: Request, selection: Selection): void {
  req.session.selection = selection.ids.length || selection.all ? selection : undefined;
}

/** After a bulk action: nothing selected any more, whatever the filter. */
export function clearSelection(req: Request): void {
  saveSelection(req, { key: '', ids: [], all: false, except: [] });
}

export function isSelected(selection: Selection, id: string): boolean {
  return selection.all ? !selection.except?.includes(id) : selection.ids.includes(id);
}
