import { toLocalPath } from '../web/auth';
import { filterKeys, type ListQuery } from './schema';

/**
 * The list URL for a filter, with some parameters replaced: pagination, sort
 * links and "back to the list" all keep the rest of the filter.
 */
export function listQueryString(query: Partial<ListQuery>, overrides: Partial<Record<keyof ListQuery, string | undefined>> = {}): string {
  const merged: Record<string, unknown> = { ...query, ...overrides };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) {
    if (value === undefined || value === null || value === '') continue;
    if (key === 'sort' && value === 'name') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** An address of its own (`/groups/new?kind=dynamic`) carrying the list's filter after its own parameters. */
export function withListQuery(address: string, query: Partial<ListQuery>): string {
  const list = listQueryString(query).slice(1);
  return list ? `${address}${address.includes('?') ? '&' : '?'}${list}` : address;
}

/** Whether a filter narrows the list (not only a sort, a page or the group): then "Filter zurücksetzen" means something. */
export function narrowsList(query: Partial<ListQuery>): boolean {
  return filterKeys.some((key) => query[key] !== undefined);
}

/**
 * Where deleting one contact leads: the list it was opened from, as the page
 * remembered it (search, filters, page), or the plain list. Only an address
 * of the list itself; anything else (another page, another site) is ignored.
 */
export function listAddress(sent: unknown, basePath: string): string {
  const list = `${basePath}/contacts`;
  if (typeof sent !== 'string') return list;
  const local = toLocalPath(sent);
  return local === list || local.startsWith(`${list}?`) ? local : list;
}
