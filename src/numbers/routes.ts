import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { requireAdmin } from '../web/auth';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { redirect } from '../web/htmx';
import { flash, pageAddress, sayOnPage, renderFragment, renderPage, renderPageOrFragment } from '../web/render';
import { parse, serviceFieldErrors, type FieldErrors } from '../web/validation';
import { findCircle, type Circle } from './queries';
import { CircleCreate, CircleId, CircleInput, CircleSeen, PreviewInput } from './schema';
import {
  activateCircle,
  CircleChanged,
  createCircle,
  deactivateCircle,
  formatNumber,
  listCirclesWithPreview,
  previewNumber,
  removeCircle,
  updateCircleSettings,
} from './service';

/** The form's fields as typed, to fill it in again. */
type CircleValues = Record<'name' | 'prefix' | 'suffix' | 'digits' | 'next_value' | 'shown_next_value' | 'target', string> &
  Record<'is_default' | 'active', boolean> & { create_token?: string };

function valuesFrom(body: Record<string, unknown> | undefined): CircleValues {
  const value = (field: string) => (typeof body?.[field] === 'string' ? (body[field] as string) : '');
  return {
    name: value('name'),
    prefix: value('prefix'),
    suffix: value('suffix'),
    digits: value('digits'),
    next_value: value('next_value'),
    shown_next_value: value('shown_next_value'),
    target: value('target'),
    is_default: body?.is_default !== undefined,
    active: body?.active !== undefined,
  };
}


/** What the edit form showed of the settings, as its hidden `seen_*` fields carry it (CircleSeen). */
type SeenFields = Record<'name' | 'prefix' | 'suffix' | 'digits' | 'target' | 'is_default' | 'active', string>;

function seenFields(circle: Circle): SeenFields {
  return { name: circle.name, prefix: circle.prefix, suffix: circle.suffix, digits: String(circle.digits), target: circle.target, is_default: String(circle.is_default), active: String(circle.active) };
}

/** The seen fields of a form sent back, to carry them on through a 422. */
function seenFieldsOf(body: Record<string, unknown>): SeenFields {
  const keys = ['name', 'prefix', 'suffix', 'digits', 'target', 'is_default', 'active'] as const;
  return Object.fromEntries(keys.map((k) => [k, String(body[`seen_${k}`])])) as SeenFields;
}

/** The id in the URL; one that cannot be a circle's is as unknown as a missing one. */
function circleId(req: Request): string {
  const id = CircleId.safeParse(req.params.id);
  if (!id.success) throw new NotFound();
  return id.data;
}

/**
 * Settings → Nummernkreise, mounted at /settings/number-circles. Admins only,
 * guarded here as well as by the settings area, so the guard travels with the router.
 */
export function numberCircleRoutes(db: Db): Router {
  const router = Router();
  const listUrl = (res: Response) => `${res.locals.basePath}/settings/number-circles`;

  /** The list; a refused action shows it again with the reason (409) instead of an error page. */
  const list = async (req: Request, res: Response, status = 200, refusal?: string) => {
    if (refusal) sayOnPage(res, refusal);
    const circles = await listCirclesWithPreview(db);
    await renderPage(res, 'numbers/index', { title: req.t('numbers.title'), nav: 'settings', circles }, status);
  };

  const form = async (req: Request, res: Response, locals: { id?: string; values: CircleValues; errors?: FieldErrors; seen?: SeenFields; conflict?: string }, status = 200) => {
    const preview = await previewOf(locals.values);
    const title = req.t(locals.id ? 'numbers.editTitle' : 'numbers.newTitle');
    const replaceUrl = pageAddress(res, locals.id ? `/settings/number-circles/${locals.id}/edit` : '/settings/number-circles/new');
    await renderPage(res, locals.id ? 'numbers/edit' : 'numbers/new', { title, nav: 'settings', errors: {}, preview, replaceUrl, ...locals }, status);
  };

  /** The number a circle with these settings would give next; none while the settings are invalid. */
  const previewOf = async (values: Record<string, unknown>) => {
    const input = PreviewInput.safeParse(values);
    return input.success ? previewNumber(db, input.data) : undefined;
  };

  router.use(requireAdmin);

  router.get('/', (req, res) => list(req, res));

  router.get('/new', (req, res) =>
    form(req, res, {
      values: {
        name: '',
        prefix: '',
        suffix: '',
        digits: '5',
        next_value: '1',
        shown_next_value: '',
        target: req.query.target === 'groups' ? 'groups' : 'contacts',
        is_default: false,
        active: true,
        create_token: randomUUID(),
      },
    }),
  );

  router.get('/preview', async (req, res) => {
    await renderFragment(res, 'numbers/_preview', { preview: await previewOf(req.query) });
  });

  router.post('/', async (req, res) => {
    const values = { ...valuesFrom(req.body), create_token: req.body.create_token || randomUUID() };
    const input = parse(CircleCreate, req.body, req.t);
    if (!input.ok) return form(req, res, { values, errors: input.errors }, 422);
    // Sent twice (a double click, a POST sent again): the second finds the circle the first made, and says the same.
    await createCircle(db, input.data);
    flash(req, res, req.t('numbers.created', { name: input.data.name }));
    redirect(req, res, listUrl(res));
  });

  router.get('/:id/edit', async (req, res) => {
    const id = circleId(req);
    const circle = await findCircle(db, id);
    if (!circle) throw new NotFound();
    const nextValue = String(circle.next_value);
    await form(req, res, {
      id,
      values: { ...circle, digits: String(circle.digits), next_value: nextValue, shown_next_value: nextValue },
      seen: seenFields(circle),
    });
  });

  router.post('/:id', async (req, res) => {
    const id = circleId(req);
    const values = valuesFrom(req.body);
    const input = parse(CircleInput, req.body, req.t);
    const shown = CircleSeen.safeParse(req.body);
    const seen = shown.success ? seenFieldsOf(req.body) : undefined;
    if (!input.ok) return form(req, res, { id, values, errors: input.errors, seen }, 422);
    try {
      await updateCircleSettings(db, id, input.data, shown.success ? shown.data : undefined);
    } catch (error) {
      if (error instanceof CircleChanged) {
        // The input stays, but where the admin left a field alone it shows what is saved now; the form's
        // basis is what is saved now, so saving again is deliberate.
        const { current, untouched } = error;
        const now = seenFields(current);
        const kept = Object.fromEntries(untouched.map((field) => [field, field === 'is_default' || field === 'active' ? current[field] : now[field]]));
        const flags = `${current.is_default ? req.t('numbers.changedFlags.default') : ''}${current.active ? '' : req.t('numbers.changedFlags.inactive')}`;
        const conflict = req.t('numbers.changedMeanwhile', { name: current.name, next: formatNumber(current, current.next_value), target: req.t(`numbers.targets.${current.target}`), flags });
        return form(req, res, { id, values: { ...values, ...kept }, seen: now, conflict }, 409);
      }
      if (!(error instanceof Invalid)) throw error;
      return form(req, res, { id, values, errors: serviceFieldErrors(error, req.t), seen }, 422);
    }
    flash(req, res, req.t('numbers.saved', { name: input.data.name }));
    redirect(req, res, listUrl(res));
  });

  router.post('/:id/activate', async (req, res) => {
    const circle = await activateCircle(db, circleId(req));
    flash(req, res, req.t('numbers.activated', { name: circle.name }));
    redirect(req, res, listUrl(res));
  });

  router.post('/:id/deactivate', async (req, res) => {
    try {
      const circle = await deactivateCircle(db, circleId(req));
      flash(req, res, req.t('numbers.deactivated', { name: circle.name }));
    } catch (error) {
      if (!(error instanceof Conflict)) throw error;
      return list(req, res, 409, req.t(error.messageKey, error.params));
    }
    redirect(req, res, listUrl(res));
  });

  /** The confirmation: a dialog for htmx, a page of its own without JavaScript. */
  router.get('/:id/delete', async (req, res) => {
    const circle = await findCircle(db, circleId(req));
    if (!circle) throw new NotFound();
    await renderPageOrFragment(req, res, 'numbers/delete', 'numbers/_delete-dialog', { title: req.t('numbers.deleteTitle'), nav: 'settings', circle });
  });

  router.post('/:id/delete', async (req, res) => {
    try {
      const circle = await removeCircle(db, circleId(req));
      flash(req, res, req.t('numbers.deleted', { name: circle.name }));
    } catch (error) {
      if (!(error instanceof Conflict)) throw error;
      return list(req, res, 409, req.t(error.messageKey, error.params));
    }
    redirect(req, res, listUrl(res));
  });

  return router;
}
