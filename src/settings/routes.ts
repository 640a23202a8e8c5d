import { Router } from 'express';
import type { Db } from '../db/knex';
import { requireAdmin } from '../web/auth';
import { employeeRoutes } from '../users/routes';
import { auditRoutes } from '../audit/routes';

/**
 * The settings area. One guard in front of everything under /settings, so no
 * settings page or action can be reached by a member, however it is added.
 */
export function settingsRoutes(db: Db): Router {
  const router = Router();
  router.use('/settings', requireAdmin);
  router.get('/settings', (_req, res) => res.redirect(303, `${res.locals.basePath}/settings/users`));
  router.use(employeeRoutes(db));
  router.use(auditRoutes(db));
  return router;
}
