import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Db } from '../db/knex';
import { requireAdmin } from '../web/auth';
import { NotFound } from '../web/errors';
import { redirect } from '../web/htmx';
import { flash, pageAddress, renderPage, renderPageOrFragment } from '../web/render';
import { parse, type FieldErrors } from '../web/validation';
import { findToken, listTokens } from './queries';
import { ApiTokenInput, RecordId } from './schema';
import { createToken, revoke } from './service';

function tokenId(req: Request): string {
  const id = RecordId.safeParse(req.params.id);
  if (!id.success) throw new NotFound();
  return id.data;
}

/**
 * Settings → API-Zugänge, mounted at /settings/api-tokens. Admins only,
 * guarded here as well as by the settings area, so the guard travels with the router.
 */
export function apiTokenRoutes(db: Db): Router {
  const router = Router();
  const listUrl = (res: Response) => `${res.locals.basePath}/settings/api-tokens`;

  /** The list with the form for a new token above it. */
  const list = async (req: Request, res: Response, status = 200, values = { name: '', create_token: randomUUID() }, errors: FieldErrors = {}) => {
    const tokens = await listTokens(db);
    await renderPage(res, 'integrations/index', { title: req.t('apiTokens.title'), nav: 'settings', tokens, values, errors, replaceUrl: pageAddress(res, '/settings/api-tokens') }, status);
  };

  router.use(requireAdmin);

  router.get('/', (req, res) => list(req, res));

  /**
   * Shows the new token right in the answer instead of redirecting: it is never
   * stored in plain text, not even for one request in the session.
   */
  router.post('/', async (req, res) => {
    const values = { name: typeof req.body.name === 'string' ? req.body.name : '', create_token: randomUUID() };
    const input = parse(ApiTokenInput, req.body, req.t);
    if (!input.ok) return list(req, res, 422, values, input.errors);
    const created = await createToken(db, input.data.name, req.user!.id, input.data.create_token);
    if (!created) {
      // The same form again (F5 on the page that showed the key): no second token, and the key is not shown again.
      flash(req, res, req.t('apiTokens.alreadyCreated', { name: input.data.name }), 'error');
      return redirect(req, res, listUrl(res));
    }
    const { token } = created;
    await renderPage(res, 'integrations/created', { title: req.t('apiTokens.createdTitle', { name: input.data.name }), nav: 'settings', name: input.data.name, token, replaceUrl: pageAddress(res, '/settings/api-tokens'), origin: `${req.protocol}://${req.get('host')}` }, 201);
  });

  // Asked first: the other module is cut off at once, and only a new token (set up there again) undoes it.
  router.get('/:id/revoke', async (req, res) => {
    const token = await findToken(db, tokenId(req));
    if (!token) throw new NotFound();
    await renderPageOrFragment(req, res, 'integrations/revoke', 'integrations/_revoke-dialog', { title: req.t('apiTokens.revokeTitle'), nav: 'settings', token });
  });

  router.post('/:id/revoke', async (req, res) => {
    const token = await revoke(db, tokenId(req));
    flash(req, res, req.t('apiTokens.revokedMessage', { name: token.name }));
    redirect(req, res, listUrl(res));
  });

  return router;
}
