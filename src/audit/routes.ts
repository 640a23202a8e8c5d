import { Router } from 'express';
import type { Db } from '../db/knex';
import { renderPage } from '../web/render';
import { RecordId } from '../web/validation';

const PAGE = 50;
const Before = RecordId.optional().catch(undefined);

/** Settings → Protokoll: what permanent deletion left behind (admins only, guarded under /settings). */
export function auditRoutes(db: Db): Router {
  const router = Router();
  router.get('/settings/audit-log', async (req, res) => {
    const before = Before.parse(req.query.before);
    const query = db('audit_log as l')
      .leftJoin('users as u', 'u.id', 'l.actor_id')
      .select('l.id', 'l.action', 'l.count', 'l.payload', 'l.created_at', 'u.name as actor_name')
      .orderBy('l.id', 'desc')
      .limit(PAGE + 1);
    if (before) query.where('l.id', '<', before);
    const rows = await query;
    await renderPage(res, 'audit/index', { title: req.t('audit.title'), nav: 'settings', entries: rows.slice(0, PAGE), more: rows.length > PAGE });
  });
  return router;
}
