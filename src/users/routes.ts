import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { parse, type FieldErrors } from '../web/validation';
import { flash, renderPage } from '../web/render';
import { redirect } from '../web/htmx';
import { Invalid } from '../web/errors';
import { translator } from '../i18n';
import { LanguageChange, PasswordChange } from './schema';
import { changeLanguage, changePassword } from './service';

export function profileRoutes(db: Db): Router {
  const router = Router();

  const show = (req: Request, res: Response, status = 200, errors: FieldErrors = {}) =>
    renderPage(res, 'users/profile', { title: req.t('profile.title'), nav: 'profile', errors }, status);

  router.get('/profile', (req, res) => show(req, res));

  router.post('/profile/language', async (req, res) => {
    const form = parse(LanguageChange, req.body, req.t);
    if (!form.ok) return show(req, res, 422, form.errors);
    await changeLanguage(db, req.user!.id, form.data.language);
    flash(req, res, translator(form.data.language)('profile.languageSaved'));
    redirect(req, res, `${res.locals.basePath}/profile`);
  });

  router.post('/profile/password', async (req, res) => {
    const form = parse(PasswordChange, req.body, req.t);
    if (!form.ok) return show(req, res, 422, form.errors);
    try {
      await changePassword(db, req.user!.id, req.sessionID, form.data);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      const errors = Object.fromEntries(Object.entries(error.fieldErrors).map(([field, key]) => [field, req.t(key)]));
      return show(req, res, 422, errors);
    }
    flash(req, res, req.t('profile.passwordSaved'));
    redirect(req, res, `${res.locals.basePath}/profile`);
  });

  return router;
}
