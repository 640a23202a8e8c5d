import querystring from 'node:querystring';
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
    // The page a form was sent from, to the app itself only (never to other sites, as helmet's no-referrer):
    // a form sent after the session ended goes back to that page after the login (loginUrl).
    referrerPolicy: { policy: 'same-origin' },
  });
}

/** The one form sent as multipart: the picture upload (src/contacts/routes.ts). */
const multipartRoute = /^\/contacts\/[^/]+\/picture$/;

/** Synchronizer tokens in the session: forms send `_csrf`, htmx sends `X-CSRF-Token` (public/js/app.js). */
export const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const header = req.get('X-CSRF-Token');
    if (header) return header;
    // The picture upload is parsed after this check, so its plain-HTML form carries the token in the action
    // URL. Nowhere else: a token in a URL ends up in logs and the browser's history.
    if (req.is('multipart/form-data')) return multipartRoute.test(req.path) && typeof req.query._csrf === 'string' ? req.query._csrf : undefined;
    return (req.body as { _csrf?: string } | undefined)?._csrf || undefined;
  },
});

/**
 * The app's forms post `application/x-www-form-urlencoded` (the picture upload
 * multipart). Anything else (JSON, text, multipart elsewhere) is refused with
 * 415 before it reaches a route, which would otherwise find no form at all (a
 * 500); a post without a body is an empty form (the route says what is missing).
 */
export const formBodiesOnly: RequestHandler = (req, _res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const form = !req.headers['content-type'] || req.is('application/x-www-form-urlencoded') || (req.is('multipart/form-data') && multipartRoute.test(req.path));
  if (!form) return next(new HttpError(415, 'errors.formExpected'));
  req.body ??= {};
  next();
};

/**
 * Characters nobody sees and nobody means to type: control characters other
 * than tab and line breaks; the format characters (Unicode's Cf: zero-width
 * space, soft hyphen, word joiner, byte order mark, the bidirectional
 * overrides and isolates, with which a name can be made to read backwards);
 * and the blank Hangul fillers. Pasted from elsewhere, they were stored as typed:
 * a last name of one zero-width space passed "Nachname oder Firma", and
 * "K-00004" with one behind it was a second customer number that looks the
 * same. They are taken out of every form and API body before validation (a
 * clerk cannot find them to remove them). NUL is refused instead (refuseNulBytes).
 *
 * Kept where they draw or spell something (keptSequence): the joiner inside an
 * emoji (👩‍💻), a complete subdivision flag (🏴 of Scotland), the joiners and
 * non-joiners between letters of the scripts that need them (the Persian
 * surname علی‌زاده, Sinhala ශ්‍රී), and the direction marks in text with
 * right-to-left letters. One pass, each character looked at once: a pattern
 * that looked back over earlier characters took seconds for a long body.
 */
const joinerScripts =
  '\\p{Script=Arabic}\\p{Script=Syriac}\\p{Script=Thaana}\\p{Script=Nko}\\p{Script=Devanagari}\\p{Script=Bengali}\\p{Script=Gurmukhi}\\p{Script=Gujarati}' +
  '\\p{Script=Oriya}\\p{Script=Tamil}\\p{Script=Telugu}\\p{Script=Kannada}\\p{Script=Malayalam}\\p{Script=Sinhala}\\p{Script=Mongolian}';
const keptSequence = [
  // A pictograph (with a skin tone or U+FE0F) and the joiner to the next one.
  '\\p{Extended_Pictographic}[\\u{1F3FB}-\\u{1F3FF}\\uFE0F]?\\u200D(?=\\p{Extended_Pictographic})',
  // 🏴, the region's code in tag letters, and the cancel tag that ends it.
  '\\u{1F3F4}[\\u{E0030}-\\u{E0039}\\u{E0061}-\\u{E007A}]{2,6}\\u{E007F}',
  // A letter or mark of such a script, and the (non-)joiner to the next one.
  `[${joinerScripts}][\\u200C\\u200D](?=[${joinerScripts}])`,
].join('|');
const invisible = new RegExp(`(${keptSequence})|[\\u0001-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u034F\\u115F\\u1160\\u3164\\uFFA0]|\\p{Cf}`, 'gu');
const combiningMark = /\p{M}/u;
const directionMark = /^[\u200E\u200F\u061C]$/;
const rightToLeft = /(?=\p{L})[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;

function withoutInvisible(text: string): string {
  let rtl: boolean | undefined;
  return text.replace(invisible, (found: string, kept: string | undefined) => {
    if (kept !== undefined) return kept;
    return directionMark.test(found) && (rtl ??= rightToLeft.test(text)) ? found : '';
  });
}

/**
 * What is typed, without invisible characters, and composed (NFC) where it holds
 * combining marks: "Ö" typed as "O" and a combining diaeresis (as macOS writes file
 * names and some programs paste) is the same "Ö", so the same customer number, name
 * and search. Text without marks is left as it is: NFC would also swap the CJK
 * compatibility ideographs of some Korean and Japanese names for others.
 * Line breaks are one character, as the field counted them while typing: a browser
 * sends each as CR LF, and a note of 4,982 characters with 94 lines, let through
 * by maxlength="5000", was refused as longer than 5,000.
 */
export function withoutInvisibleCharacters<T>(value: T): T {
  if (typeof value === 'string') {
    const visible = withoutInvisible(value).replace(/\r\n?/g, '\n');
    return (combiningMark.test(visible) ? visible.normalize('NFC') : visible) as T;
  }
  if (Array.isArray(value)) return value.map(withoutInvisibleCharacters) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, keptExactly(name) ? inner : withoutInvisibleCharacters(inner)])) as T;
  return value;
}

/**
 * Fields compared with what is stored, as they were: a password (changed, an old one would stop matching),
 * and what an edit form showed (`seen_name`, `status_seen` …: changed, a name stored with such a character
 * would look changed meanwhile at every save, and could never be saved again).
 */
function keptExactly(name: string): boolean {
  return name.includes('password') || name.startsWith('seen_') || name.endsWith('_seen');
}

/**
 * The query string is cleaned the same way (Express's query parser): a list's filter read from the address
 * and the same filter posted with the selection must be one filter, or the ticks were kept for another.
 */
export function parseQueryString(text: string): Record<string, unknown> {
  return withoutInvisibleCharacters(querystring.parse(text));
}

export const stripInvisibleCharacters: RequestHandler = (req, _res, next) => {
  if (req.body && typeof req.body === 'object') req.body = withoutInvisibleCharacters(req.body);
  next();
};

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
  if (holdsNul(req.query) || holdsNul(req.body)) return next(new HttpError(400, 'errors.nul'));
  // Only JSON can carry half of a UTF-16 pair ("\ud800"); PostgreSQL refuses it in a JSON column (a 500).
  if (holds(req.body, (text) => loneSurrogate.test(text))) return next(new HttpError(400, 'errors.loneSurrogate'));
  next();
};

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a value (a query, a form, a JSON body) holds a NUL character anywhere, names included. */
export function holdsNul(value: unknown): boolean {
  return holds(value, (text) => text.includes('\u0000'));
}

function holds(value: unknown, test: (text: string) => boolean): boolean {
  if (typeof value === 'string') return test(value);
  if (Array.isArray(value)) return value.some((inner) => holds(inner, test));
  if (value && typeof value === 'object') return Object.entries(value).some(([name, inner]) => test(name) || holds(inner, test));
  return false;
}
