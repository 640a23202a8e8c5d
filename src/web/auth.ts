import type { Request, RequestHandler, Response } from 'express';
import type { Db } from '../db/knex';
import type { Config } from '../config';
import { findActiveUser, findActiveUserByEmail, type CurrentUser } from '../users/queries';
import { dateFormatter, dateTimeFormatter, languageFromHeader, translator } from '../i18n';
import { Forbidden } from './errors';
import { isHtmx, trigger } from './htmx';
import { ABSOLUTE_TIMEOUT_MS, IDLE_TIMEOUT_MS, sessionEmployee } from './session';

/** Starts a fresh session for the employee: a new id, so a planted cookie is worthless. */
export function establishSession(req: Request, user: CurrentUser): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((error) => {
      if (error) return reject(error);
      req.session.userId = user.id;
      req.session.loginAt = Date.now();
      req.session.lastActiveAt = Date.now();
      req.session.save((saveError) => (saveError ? reject(saveError) : resolve()));
    });
  });
}

/** Drops the stored session but keeps an empty one for the rest of the request (CSRF token, login form). */
function freshSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
}

export function endSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((error) => (error ? reject(error) : resolve())));
}

/**
 * Who is asking: the employee of the session (still active, within 12 h of
 * logging in), or one named by the single-sign-on header of the trusted proxy.
 * Sets the request's language and translator either way.
 */
export function currentUser(db: Db, config: Config): RequestHandler {
  return async (req, res, next) => {
    let user: CurrentUser | undefined;
    if (req.session?.userId) {
      const now = Date.now();
      const expired =
        !req.session.loginAt ||
        now - req.session.loginAt > ABSOLUTE_TIMEOUT_MS ||
        now - (req.session.lastActiveAt ?? req.session.loginAt) > IDLE_TIMEOUT_MS;
      if (!expired) {
        // Usually the session's own query brought the employee along; else ask.
        const known = sessionEmployee(req);
        user = known === undefined ? await findActiveUser(db, req.session.userId) : (known ?? undefined);
      }
      if (!user) await freshSession(req);
      // Background polls keep the cookie alive but are not activity: an open tab alone never prevents the idle logout.
      else if (!isBackgroundPoll(req) && activityDue(req.sessionID, req.session.lastActiveAt, now)) req.session.lastActiveAt = now;
    }
    if (!user && config.authProxyHeader && cameThroughTrustedProxy(req)) {
      const email = req.get(config.authProxyHeader);
      const ssoUser = email ? await findActiveUserByEmail(db, email) : undefined;
      if (ssoUser) {
        await establishSession(req, ssoUser);
        user = ssoUser;
      }
    }
    req.user = user;
    req.language = user?.language ?? languageFromHeader(req.get('Accept-Language'));
    req.t = translator(req.language);
    res.locals.user = user;
    res.locals.t = req.t;
    res.locals.lang = req.language;
    res.locals.formatDateTime = dateTimeFormatter(req.language);
    res.locals.formatDate = dateFormatter(req.language);
    next();
  };
}

/** How often activity is recorded: the session is saved for it (and its cookie renewed). */
const ACTIVITY_EVERY_MS = 60_000;
const activityRecorded = new Map<string, number>();

/**
 * Whether this request records the session's activity: when the stored time is
 * a minute old and no other request of the session on this instance has just
 * done so. Requests of one session often come together (a page and the htmx
 * loads it starts); each saw the same stored time, and each saved the session:
 * one row updated by all of them in turn, every response waiting for its turn
 * (under load a stall of a few hundred milliseconds once a minute).
 */
function activityDue(sid: string, storedAt: number | undefined, now: number): boolean {
  if (now - Math.max(storedAt ?? 0, activityRecorded.get(sid) ?? 0) <= ACTIVITY_EVERY_MS) return false;
  activityRecorded.delete(sid);
  activityRecorded.set(sid, now);
  // Oldest first: drop what is past its minute once there are many.
  if (activityRecorded.size > 10_000) {
    for (const [key, at] of activityRecorded) {
      if (now - at <= ACTIVITY_EVERY_MS) break;
      activityRecorded.delete(key);
    }
  }
  return true;
}

function isBackgroundPoll(req: Request): boolean {
  return req.path === '/notifications/poll';
}

/** Express's compiled trust-proxy function, asked about the socket's peer. */
function cameThroughTrustedProxy(req: Request): boolean {
  const trust = req.app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  const peer = req.socket.remoteAddress;
  return Boolean(peer && trust(peer, 0));
}

/**
 * Set when an employee logs in with the form, cleared when they log out: a
 * session cookie alone says nothing (the login form makes one for its CSRF
 * token). Holds no secret and grants nothing.
 */
const LOGGED_IN_COOKIE = 'kontakte.was';

export function markLoggedIn(res: Response): void {
  // Secure behind HTTPS, as the session cookie is (secure: 'auto').
  res.cookie(LOGGED_IN_COOKIE, '1', { httpOnly: true, sameSite: 'lax', secure: res.req.secure, path: (res.locals.basePath as string) || '/', maxAge: 30 * 24 * 3600 * 1000 });
}

export function forgetLoggedIn(res: Response): void {
  res.clearCookie(LOGGED_IN_COOKIE, { path: (res.locals.basePath as string) || '/' });
}

function withQuery(url: string, query: string): string {
  return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
}

export function loginUrl(req: Request, res: Response): string {
  const base = res.locals.basePath as string;
  // Back to the page, never to a form's own address (/contacts/3/notes: a 404 to GET, and the picture's
  // carries its CSRF token): for a form sent without htmx, the page it was sent from.
  const wanted = isHtmx(req) ? req.get('HX-Current-URL') : req.method === 'GET' ? req.originalUrl : req.get('Referer');
  const next = wanted && !/\/log(in|out)\b/.test(wanted) ? `?next=${encodeURIComponent(toLocalPath(wanted))}` : '';
  return `${base}/login${next}`;
}

/**
 * Keeps only path and query, so `next` can never point at another host: a
 * path that starts with two slashes ("/.//evil.example/" becomes one) would be
 * read by the browser as a host, so leading slashes are made one.
 */
export function toLocalPath(url: string): string {
  try {
    const parsed = new URL(url, 'http://local');
    return parsed.pathname.replace(/^\/+/, '/') + parsed.search;
  } catch {
    return '/';
  }
}

export const requireLogin: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  // This browser was logged in and did not log out: the login page says the session ended (idle or
  // absolute timeout, deactivated, password reset, logged out elsewhere), not just "Anmelden".
  const ended = req.get('cookie')?.includes(`${LOGGED_IN_COOKIE}=`) ?? false;
  const location = withQuery(loginUrl(req, res), ended ? 'ended=1' : '');
  if (isHtmx(req)) {
    // Neither the login page pasted into a fragment nor a jump to it: the page may hold what the clerk typed
    // (a form just sent, or one being filled in while the notifications were polled). public/js/app.js keeps
    // it and offers the login in a new tab, or goes to the login when nothing would be lost.
    trigger(res, 'sessionEnded', { loginUrl: location, sent: req.method !== 'GET' });
    res.set('HX-Reswap', 'none').status(401).end();
  } else {
    res.redirect(303, location);
  }
};

export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (req.user?.role !== 'admin') throw new Forbidden();
  next();
};
