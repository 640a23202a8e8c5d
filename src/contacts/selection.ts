import type { Request } from 'express';
import type { ListQuery } from './schema';

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

const positionParams = new Set(['sort', 'after', 'before', 'last', 'count']);

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
