import type { Request, Response } from 'express';
import { isHtmx, trigger, varyOnHtmx } from './htmx';

type Locals = Record<string, unknown>;

function renderView(res: Response, view: string, locals: Locals): Promise<string> {
  return new Promise((resolve, reject) => {
    res.render(view, locals, (error: Error | null, html?: string) => (error ? reject(error) : resolve(html ?? '')));
  });
}

type Settled = { name: string; value: unknown } | { name: string; error: unknown };

const deferredLocals = Symbol('locals still loading');

/**
 * A local the page around a route needs (the bell's count, the group sidebar),
 * loaded while the route does its own work instead of before it: renderPage
 * waits for it. Its failure is kept, not left unhandled, and thrown when the
 * page renders (once: an error page rendered after that does not wait for it).
 */
export function deferLocal(res: Response, name: string, work: Promise<unknown>): void {
  const pending = ((res.locals as Record<symbol, Promise<Settled>[]>)[deferredLocals] ??= []);
  pending.push(work.then((value) => ({ name, value }), (error: unknown) => ({ name, error })));
}

const lazyLocals = Symbol('locals loaded only for a page');

/**
 * A local the page around a route needs, loaded only if the answer is a whole
 * page after all: a form sent by POST usually redirects (and needs no bell),
 * but one sent back with its errors is a page like any other.
 */
export function deferLocalIfPage(res: Response, name: string, load: () => Promise<unknown>): void {
  ((res.locals as Record<symbol, Map<string, () => Promise<unknown>>>)[lazyLocals] ??= new Map()).set(name, load);
}

/**
 * Waits for the deferred locals and sets them. A failed one is thrown, or with
 * `skipFailed` (an error page: it shows without the bell's count rather than
 * not at all) left unset.
 */
export async function settleDeferredLocals(res: Response, { skipFailed = false } = {}): Promise<void> {
  const locals = res.locals as Record<symbol, Promise<Settled>[] | Map<string, () => Promise<unknown>> | undefined>;
  const lazy = locals[lazyLocals] as Map<string, () => Promise<unknown>> | undefined;
  if (lazy) {
    delete locals[lazyLocals];
    for (const [name, load] of lazy) deferLocal(res, name, load());
  }
  const pending = locals[deferredLocals] as Promise<Settled>[] | undefined;
  if (!pending) return;
  delete locals[deferredLocals];
  for (const settled of await Promise.all(pending)) {
    if ('value' in settled) res.locals[settled.name] = settled.value;
    else if (!skipFailed) throw settled.error;
  }
}

/**
 * The address a page sent back to a form (its messages, a conflict) puts in the address bar: the page's own
 * (app.js replaces it), not the form's. A form's address, reloaded, sends the form again, Back to it asks
 * "Erneut senden?", and some are 404 to a GET (/groups/4/assignment). Undefined when the page was asked for.
 */
export function pageAddress(res: Response, path: string): string | undefined {
  return res.req.method === 'POST' ? `${res.locals.basePath}${path}` : undefined;
}

/** A whole page: the view's HTML inside views/layout.ejs. */
export async function renderPage(res: Response, view: string, locals: Locals = {}, status = 200): Promise<void> {
  await settleDeferredLocals(res);
  const body = await renderView(res, view, locals);
  const html = await renderView(res, 'layout', { ...locals, body });
  res.status(status).type('html').send(html);
}

/** A fragment (a `_partial.ejs`) on its own, for htmx swaps. */
export async function renderFragment(res: Response, view: string, locals: Locals = {}, status = 200): Promise<void> {
  const html = await renderView(res, view, locals);
  res.status(status).type('html').send(html);
}

/**
 * One URL, two renderings (STYLE habit 1): htmx asks for the fragment, every other
 * request gets the page, which includes the same fragment.
 */
export async function renderPageOrFragment(
  req: Request,
  res: Response,
  page: string,
  fragment: string,
  locals: Locals,
  status = 200,
): Promise<void> {
  varyOnHtmx(res);
  if (isHtmx(req)) await renderFragment(res, fragment, locals, status);
  else await renderPage(res, page, locals, status);
}

/** A message on the page being rendered now (a refusal answered with the page itself, not a redirect). */
export function sayOnPage(res: Response, text: string, kind: 'success' | 'error' = 'error'): void {
  res.locals.messages = [...(res.locals.messages ?? []), { text, kind }];
}

/** Messages shown once on the next page (after a redirect) or as an htmx event. */
export function flash(req: Request, res: Response, message: string, kind: 'success' | 'error' = 'success'): void {
  if (isHtmx(req)) trigger(res, 'showMessage', { text: message, kind });
  else flashForNextPage(req, message, kind);
}

/** A message for the next page this session loads: after a redirect, or an htmx answer that reloads the page (HX-Refresh). */
export function flashForNextPage(req: Request, message: string, kind: 'success' | 'error' = 'success'): void {
  if (req.session) req.session.flash = [...(req.session.flash ?? []), { text: message, kind }];
}
