import { Router } from 'express';
import type { Db } from '../db/knex';
import { parse } from '../web/validation';
import { renderPage } from '../web/render';
import { csrf } from '../web/security';
import { establishSession, endSession, forgetLoggedIn, markLoggedIn, toLocalPath } from '../web/auth';
import { redirect } from '../web/htmx';
import { LoginInput } from './schema';
import { authenticate } from './service';
import { dropTemporaryGroups } from '../groups/service';

export function authRoutes(db: Db): Router {
  const router = Router();

  router.get('/login', async (req, res) => {
    if (req.user) return res.redirect(303, `${res.locals.basePath}/`);
    // The one form shown before logging in: its token starts the session.
    res.locals.csrfToken = csrf.generateToken(req);
    await renderPage(res, 'auth/login', {
      title: req.t('login.title'),
      values: { email: '', next: typeof req.query.next === 'string' ? req.query.next : '' },
      errors: {},
      notice: req.query.bye === '1' ? req.t('login.loggedOut') : req.query.ended === '1' ? req.t('login.sessionEnded') : undefined,
    });
  });

  router.post('/login', csrf.csrfSynchronisedProtection, async (req, res) => {
    const form = parse(LoginInput, req.body, req.t);
    const values = { email: String(req.body.email ?? ''), next: String(req.body.next ?? '') };
    const again = (status: number, errors: Record<string, string>) => {
      res.locals.csrfToken = csrf.generateToken(req);
      return renderPage(res, 'auth/login', { title: req.t('login.title'), values, errors }, status);
    };
    if (!form.ok) return again(422, form.errors);

    const user = await authenticate(db, form.data.email, form.data.password, req.ip ?? 'unknown');
    if (!user) return again(401, { _form: req.t('login.failed') });
    if (user === 'deactivated') return again(403, { _form: req.t('login.deactivated') });
    await establishSession(req, user);
    markLoggedIn(res);
    const next = form.data.next ? toLocalPath(form.data.next) : '';
    const base = res.locals.basePath as string;
    redirect(req, res, next.startsWith(`${base}/`) ? next : `${base}/`);
  });

  // Logged out already (timed out, say): there is nothing to protect, and a stale form is no error then.
  router.post('/logout', (req, res, next) => (req.user ? csrf.csrfSynchronisedProtection(req, res, next) : next()), async (req, res) => {
    if (req.user) await dropTemporaryGroups(db, req.user.id, req.sessionID);
    await endSession(req);
    res.clearCookie('kontakte.sid', { path: (res.locals.basePath as string) || '/' });
    forgetLoggedIn(res);
    redirect(req, res, `${res.locals.basePath}/login?bye=1`);
  });

  /**
   * Whether this browser is (still, or again) logged in, and the token its page
   * must send: asked by public/js/app.js before a plain form is sent, and when
   * a tab whose session had ended is looked at again. Another tab's login gives
   * a new session, whose token the page did not have.
   */
  router.get('/session', (req, res) => {
    res.set('Cache-Control', 'no-store');
    // Who, too: a page of one employee must not be sent with the token of another who logged in since.
    res.json(req.user ? { loggedIn: true, userId: req.user.id, name: req.user.name, csrfToken: csrf.generateToken(req) } : { loggedIn: false });
  });

  return router;
}
