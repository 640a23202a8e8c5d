import type { Request, Response } from 'express';

/**
 * An htmx request that wants a fragment. History restores (back button after the
 * cache was emptied) want the whole page, so they do not count.
 */
export function isHtmx(req: Request): boolean {
  return req.get('HX-Request') === 'true' && req.get('HX-History-Restore-Request') !== 'true';
}

/** The target element an htmx request will swap into (without the `#`). */
export function htmxTarget(req: Request): string | undefined {
  return isHtmx(req) ? req.get('HX-Target') || undefined : undefined;
}

/** One URL, two renderings: caches and the browser history must keep them apart. */
export function varyOnHtmx(res: Response): void {
  res.vary('HX-Request');
}

/**
 * Sends the browser elsewhere: a 303 for plain forms, HX-Redirect for htmx.
 * The session is saved first: express-session flushes the headers before its
 * own save finishes, and a browser following the 303 at once would otherwise
 * miss the flash message set just before.
 */
export function redirect(req: Request, res: Response, location: string): void {
  if (isHtmx(req)) {
    // A message meant for this page would vanish with the navigation: it shows on the next page instead.
    const message = takeTrigger(res, 'showMessage') as { text: string; kind: 'success' | 'error' } | undefined;
    const go = () => res.set('HX-Redirect', location).status(204).end();
    if (message && req.session) {
      req.session.flash = [...(req.session.flash ?? []), message];
      req.session.save(go);
    } else {
      go();
    }
  } else if (req.session) {
    req.session.save(() => res.redirect(303, location));
  } else {
    res.redirect(303, location);
  }
}

/** Adds a client-side event to the response's HX-Trigger header (app.js and htmx listen for them). */
export function trigger(res: Response, name: string, detail: unknown = true): void {
  const existing = res.get('HX-Trigger');
  const events = existing ? JSON.parse(existing) : {};
  events[name] = detail;
  res.set('HX-Trigger', asciiJson(events));
}

/** Removes an event from the response's HX-Trigger header and returns its detail. */
function takeTrigger(res: Response, name: string): unknown {
  const existing = res.get('HX-Trigger');
  if (!existing) return undefined;
  const events = JSON.parse(existing);
  const detail = events[name];
  delete events[name];
  if (Object.keys(events).length) res.set('HX-Trigger', asciiJson(events));
  else res.removeHeader('HX-Trigger');
  return detail;
}

/** Header values must be ASCII; JSON escapes keep umlauts and "…" intact for htmx. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
