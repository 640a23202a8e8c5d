import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { requireAdmin } from '../web/auth';
import { Conflict, Invalid, NotFound } from '../web/errors';
import { redirect } from '../web/htmx';
import { flash, renderFragment, renderPage, renderPageOrFragment } from '../web/render';
import { parse, serviceFieldErrors, type FieldErrors } from '../web/validation';
import { findCircle } from './queries';
import { CircleId, CircleInput, PreviewInput } from './schema';
import {
  activateCircle,
  createCircle,
  deactivateCircle,
  listCirclesWithPreview,
  previewNumber,
  removeCircle,
  updateCircleSettings,
} from './service';

/** The form's fields as typed, to fill it in again. */
type CircleValues = Record<'name' | 'prefix' | 'suffix' | 'digits' | 'next_value' | 'shown_next_value' | 'target', string> &
  Record<'is_default' | 'active', boolean>;

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
    if (refusal) res.locals.messages = [...(res.locals.messages ?? []), { text: refusal, kind: 'error' }];
    const circles = await listCirclesWithPreview(db);
    await renderPage(res, 'numbers/index', { title: req.t('numbers.title'), nav: 'settings', circles }, status);
  };

  const form = async (req: Request, res: Response, locals: { id?: string; values: CircleValues; errors?: FieldErrors }, status = 200) => {
    const preview = await previewOf(locals.values);
    const title = req.t(locals.id ? 'numbers.editTitle' : 'numbers.newTitle');
    await renderPage(res, locals.id ? 'numbers/edit' : 'numbers/new', { title, nav: 'settings', errors: {}, preview, ...locals }, status);
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
      },
    }),
  );

  router.get('/preview', async (req, res) => {
    await renderFragment(res, 'numbers/_preview', { preview: await previewOf(req.query) });
  });

  router.post('/', async (req, res) => {
    const values = valuesFrom(req.body);
    const input = parse(CircleInput, req.body, req.t);
    if (!input.ok) return form(req, res, { values, errors: input.errors }, 422);
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
    });
  });

  router.post('/:id', async (req, res) => {
    const id = circleId(req);
    const values = valuesFrom(req.body);
    const input = parse(CircleInput, req.body, req.t);
    if (!input.ok) return form(req, res, { id, values, errors: input.errors }, 422);
    try {
      await updateCircleSettings(db, id, input.data);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return form(req, res, { id, values, errors: serviceFieldErrors(error, req.t) }, 422);
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
