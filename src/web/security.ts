import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { csrfSync } from 'csrf-sync';
import { HttpError } from './errors';

/**
 * Strict CSP: only the app's own scripts and styles, nothing inline. htmx is
 * configured for it in views/layout.ejs (no eval, no injected indicator styles).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        objectSrc: ["'none'"],
      },
    },
    // Intranet installations often run on plain HTTP behind the proxy: never force HTTPS from here.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  });
}

/** Synchronizer tokens in the session: forms send `_csrf`, htmx sends `X-CSRF-Token` (public/js/app.js). */
export const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const header = req.get('X-CSRF-Token');
    if (header) return header;
    // A multipart form (picture upload) is parsed after this check, so its plain-HTML form carries the token in the action URL.
    if (req.is('multipart/form-data')) return typeof req.query._csrf === 'string' ? req.query._csrf : undefined;
    return (req.body as { _csrf?: string } | undefined)?._csrf || undefined;
  },
});

export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/**
 * PostgreSQL cannot hold U+0000 in text, and a statement given one fails: a
 * query string or form (or API body) carrying one is refused with 400 before
 * any statement sees it. Nobody types one.
 */
export const refuseNulBytes: RequestHandler = (req, _res, next) => {
  next(holdsNul(req.query) || holdsNul(req.body) ? new HttpError(400, 'errors.nul') : undefined);
};

/** Whether a value (a query, a form, a JSON body) holds a NUL character anywhere, names included. */
export function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([name, inner]) => name.includes('\u0000') || holdsNul(inner));
  return false;
}
