import type { Request, Response } from 'express';
import { isHtmx, trigger, varyOnHtmx } from './htmx';

type Locals = Record<string, unknown>;

function renderView(res: Response, view: string, locals: Locals): Promise<string> {
  return new Promise((resolve, reject) => {
    res.render(view, locals, (error: Error | null, html?: string) => (error ? reject(error) : resolve(html ?? '')));
  });
}

/** A whole page: the view's HTML inside views/layout.ejs. */
export async function renderPage(res: Response, view: string, locals: Locals = {}, status = 200): Promise<void> {
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

/** Messages shown once on the next page (after a redirect) or as an htmx event. */
export function flash(req: Request, res: Response, message: string, kind: 'success' | 'error' = 'success'): void {
  if (isHtmx(req)) {
    trigger(res, 'showMessage', { text: message, kind });
  } else if (req.session) {
    req.session.flash = [...(req.session.flash ?? []), { text: message, kind }];
  }
}
