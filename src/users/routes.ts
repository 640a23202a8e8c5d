import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { parse, serviceFieldErrors, type FieldErrors } from '../web/validation';
import { flash, pageAddress, renderPage, renderPageOrFragment } from '../web/render';
import { redirect } from '../web/htmx';
import { Conflict, Invalid, NotFound, TooManyRequests } from '../web/errors';
import { checkOwnPassword } from '../auth/service';
import { translator } from '../i18n';
import { findEmployee, hasOtherActiveAdmin, listEmployees, soleResponsibility } from './queries';
import { EmployeeChange, EmployeeId, EmployeeInput, EmployeeSeen, LanguageChange, NotificationsChange, PasswordChange } from './schema';
import { changeBrowserNotifications, changeLanguage, changePassword, createEmployee, deactivateEmployee, deactivationRefusal, EmployeeChanged, reactivateEmployee, updateEmployee } from './service';

export function profileRoutes(db: Db): Router {
  const router = Router();

  const show = (req: Request, res: Response, status = 200, errors: FieldErrors = {}) =>
    renderPage(res, 'users/profile', { title: req.t('profile.title'), nav: 'profile', errors, replaceUrl: pageAddress(res, '/profile') }, status);

  router.get('/profile', (req, res) => show(req, res));

  router.post('/profile/language', async (req, res) => {
    const form = parse(LanguageChange, req.body, req.t);
    if (!form.ok) return show(req, res, 422, form.errors);
    await changeLanguage(db, req.user!.id, form.data.language);
    flash(req, res, translator(form.data.language)('profile.languageSaved'));
    redirect(req, res, `${res.locals.basePath}/profile`);
  });

  router.post('/profile/notifications', async (req, res) => {
    const form = parse(NotificationsChange, req.body, req.t);
    if (!form.ok) return show(req, res, 422, form.errors);
    await changeBrowserNotifications(db, req.user!.id, form.data.browser_notifications);
    flash(req, res, req.t(form.data.browser_notifications ? 'profile.notificationsOn' : 'profile.notificationsOff'));
    redirect(req, res, `${res.locals.basePath}/profile`);
  });

  router.post('/profile/password', async (req, res) => {
    const form = parse(PasswordChange, req.body, req.t);
    const user = req.user!;
    const ip = req.ip ?? 'unknown';
    try {
      if (!form.ok) {
        // Every mistake at once: a wrong current password was told only after the new one was fixed, and all
        // three fields were typed again each round.
        const current = req.body.current_password;
        const wrong = typeof current === 'string' && current !== '' && !form.errors.current_password && !(await checkOwnPassword(db, user, current, ip));
        return show(req, res, 422, wrong ? { ...form.errors, current_password: req.t('profile.wrongPassword') } : form.errors);
      }
      await changePassword(db, user, { id: req.sessionID, ip }, form.data);
    } catch (error) {
      // Guessed too often: said at the field, as the login says it.
      if (error instanceof TooManyRequests) return show(req, res, 429, { current_password: req.t(error.messageKey) });
      if (!(error instanceof Invalid)) throw error;
      return show(req, res, 422, serviceFieldErrors(error, req.t));
    }
    flash(req, res, req.t('profile.passwordSaved'));
    redirect(req, res, `${res.locals.basePath}/profile`);
  });

  return router;
}

/** The form's fields as typed, to fill it in again; passwords are never sent back. */
type EmployeeValues = Record<'name' | 'email' | 'role' | 'language', string>;

function valuesFrom(body: Record<string, unknown> | undefined): EmployeeValues {
  const value = (field: string) => (typeof body?.[field] === 'string' ? (body[field] as string) : '');
  return { name: value('name'), email: value('email'), role: value('role'), language: value('language') };
}


/**
 * A form sent back keeps no password (none is ever sent to the browser): one
 * typed is asked for again at its field. Left empty without a word, an edit
 * saved next was "Gespeichert" with the password unchanged (the hint says an
 * empty field keeps it).
 */
function retypePassword(req: Request, errors: FieldErrors): FieldErrors {
  const typed = req.method === 'POST' && typeof req.body.password === 'string' && req.body.password !== '';
  return typed && !errors.password ? { ...errors, password: req.t('employees.passwordAgain') } : errors;
}

/** The id in the URL; one that cannot be an employee's is as unknown as a missing one. */
function employeeId(req: Request): string {
  const id = EmployeeId.safeParse(req.params.id);
  if (!id.success) throw new NotFound();
  return id.data;
}

/** Settings → Mitarbeiter. Mounted inside the settings area, which admits admins only. */
export function employeeRoutes(db: Db): Router {
  const router = Router();
  const listUrl = (res: Response) => `${res.locals.basePath}/settings/users`;

  const newForm = (req: Request, res: Response, values: EmployeeValues, status = 200, errors: FieldErrors = {}) =>
    renderPage(res, 'users/new', { title: req.t('employees.new'), nav: 'settings', values, errors: retypePassword(req, errors), replaceUrl: pageAddress(res, '/settings/users/new') }, status);

  const editForm = (req: Request, res: Response, id: string, values: EmployeeValues, status = 200, errors: FieldErrors = {}, more: { seen?: EmployeeSeen; conflict?: string } = {}) =>
    renderPage(res, 'users/edit', { title: req.t('employees.editTitle'), nav: 'settings', id, values, errors: retypePassword(req, errors), replaceUrl: pageAddress(res, `/settings/users/${id}/edit`), ...more }, status);

  router.get('/settings/users', async (req, res) => {
    const employees = await listEmployees(db);
    await renderPage(res, 'users/index', { title: req.t('employees.title'), nav: 'settings', employees });
  });

  router.get('/settings/users/new', (req, res) =>
    newForm(req, res, { name: '', email: '', role: 'member', language: 'de' }),
  );

  router.post('/settings/users', async (req, res) => {
    const values = valuesFrom(req.body);
    const form = parse(EmployeeInput, req.body, req.t);
    if (!form.ok) return newForm(req, res, values, 422, form.errors);
    try {
      await createEmployee(db, form.data);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return newForm(req, res, values, 422, serviceFieldErrors(error, req.t));
    }
    flash(req, res, req.t('employees.created', { name: form.data.name }));
    redirect(req, res, listUrl(res));
  });

  router.get('/settings/users/:id/edit', async (req, res) => {
    const id = employeeId(req);
    const employee = await findEmployee(db, id);
    if (!employee) throw new NotFound();
    const shown = { name: employee.name, email: employee.email, role: employee.role, language: employee.language };
    await editForm(req, res, id, shown, 200, {}, { seen: shown });
  });

  router.post('/settings/users/:id', async (req, res) => {
    const id = employeeId(req);
    const values = valuesFrom(req.body);
    const form = parse(EmployeeChange, req.body, req.t);
    const seenForm = EmployeeSeen.safeParse(req.body);
    const seen = seenForm.success ? seenForm.data : undefined;
    if (!form.ok) return editForm(req, res, id, values, 422, form.errors, { seen });
    try {
      await updateEmployee(db, id, form.data, req.sessionID, seen);
    } catch (error) {
      // Refusals keep the form and everything typed into it.
      if (error instanceof EmployeeChanged) {
        // Based now on what is saved, so saving again is a deliberate overwrite.
        // Fields the admin had left alone show what is saved now: sent again as they were, they undid the other change.
        const { current, untouched } = error;
        const conflict = req.t('employees.changedMeanwhile', { ...current, role: req.t(`profile.roles.${current.role}`), language: req.t(`profile.languages.${current.language}`) });
        const merged = { ...values, ...Object.fromEntries(untouched.map((f) => [f, current[f]])) };
        return editForm(req, res, id, merged, 409, {}, { seen: current, conflict });
      }
      if (error instanceof Invalid) return editForm(req, res, id, values, 422, serviceFieldErrors(error, req.t), { seen });
      if (error instanceof Conflict) return editForm(req, res, id, values, 409, { role: req.t(error.messageKey) }, { seen });
      throw error;
    }
    flash(req, res, req.t('employees.saved', { name: form.data.name }));
    // An admin who just gave up the role may no longer see the settings.
    const demotedSelf = id === req.user!.id && form.data.role !== 'admin';
    redirect(req, res, demotedSelf ? `${res.locals.basePath}/` : listUrl(res));
  });

  router.get('/settings/users/:id/deactivate', async (req, res) => {
    const employee = await findEmployee(db, employeeId(req));
    if (!employee) throw new NotFound();
    // Refused before asking: one's own account, or the last active admin (the POST refuses them too).
    const refusal = deactivationRefusal(employee, await hasOtherActiveAdmin(db, employee.id), req.user!.id);
    const sole = refusal ? undefined : await soleResponsibility(db, employee.id);
    await renderPageOrFragment(req, res, 'users/deactivate', 'users/_deactivate-dialog', { title: req.t('employees.deactivateTitle'), nav: 'settings', employee, refusal, sole });
  });

  router.post('/settings/users/:id/deactivate', async (req, res) => {
    const employee = await deactivateEmployee(db, employeeId(req), req.user!.id);
    flash(req, res, req.t('employees.deactivated', { name: employee.name }));
    redirect(req, res, listUrl(res));
  });

  router.post('/settings/users/:id/reactivate', async (req, res) => {
    const employee = await reactivateEmployee(db, employeeId(req));
    flash(req, res, req.t('employees.reactivated', { name: employee.name }));
    redirect(req, res, listUrl(res));
  });

  return router;
}
