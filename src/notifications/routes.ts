import { Router, type Request, type Response, type NextFunction } from 'express';
import { z } from 'zod';
import type { Db } from '../db/knex';
import { NotFound } from '../web/errors';
import { deferLocal, renderFragment, renderPage } from '../web/render';
import { redirect, varyOnHtmx, isHtmx } from '../web/htmx';
import { findNotification, latestId, listNotifications, markRead, newUnread, unreadCount } from './queries';
import { displayName } from '../contacts/format';
import { isSummary, notificationPath, summaryText } from './summary';

const PAGE = 30;
const Id = z.string().regex(/^\d{1,18}$/);
const helpers = { displayName, isSummary, summaryText };

/**
 * The unread count and the newest notification id for the layout's bell and
 * poller; one indexed query on every full page.
 */
export function notificationLocals(db: Db) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.user && !isHtmx(req) && req.method === 'GET') {
      // Two index look-ups (notifications_unread, notifications_user_id_id_index) rather than
      // visiting every notification the employee ever had, read or not, on every page.
      // Loaded beside the route's own queries; the page waits for it (deferLocal).
      const user = req.user.id;
      const counted = db
        .select({
          unread: db('notifications').count('*').where({ user_id: user }).whereNull('read_at'),
          latest: db('notifications').select(db.raw('coalesce(max(id), 0)')).where({ user_id: user }),
        })
        .first()
        .then((row) => ({ unread: Number(row?.unread ?? 0), latest: String(row?.latest ?? 0) }));
      deferLocal(res, 'notifications', counted);
    }
    next();
  };
}

export function notificationRoutes(db: Db): Router {
  const router = Router();

  router.get('/notifications', async (req, res) => {
    const before = Id.safeParse(req.query.before);
    const rows = await listNotifications(db, req.user!.id, PAGE + 1, before.success ? before.data : undefined);
    const locals = { title: req.t('notifications.title'), nav: 'notifications', items: rows.slice(0, PAGE), more: rows.length > PAGE, ...helpers };
    varyOnHtmx(res);
    if (isHtmx(req)) await renderFragment(res, 'notifications/_items', locals);
    else await renderPage(res, 'notifications/index', locals);
  });

  // Polled by the layout (every NOTIFICATION_POLL_SECONDS, 20 s by default): the bell's count, and popups for what is new since `after`.
  router.get('/notifications/poll', async (req, res) => {
    const after = Id.safeParse(req.query.after);
    const userId = req.user!.id;
    const [fresh, unread, latest] = await Promise.all([
      after.success ? newUnread(db, userId, after.data) : Promise.resolve([]),
      unreadCount(db, userId),
      latestId(db, userId),
    ]);
    await renderFragment(res, 'notifications/_poll', { fresh, notifications: { unread, latest }, ...helpers });
  });

  router.post('/notifications/:id/open', async (req, res) => {
    const id = Id.safeParse(req.params.id);
    const found = id.success ? await findNotification(db, req.user!.id, id.data) : undefined;
    if (!found) throw new NotFound();
    await markRead(db, req.user!.id, [found.id]);
    redirect(req, res, `${res.locals.basePath}${notificationPath(found)}`);
  });

  router.post('/notifications/read', async (req, res) => {
    await markRead(db, req.user!.id, 'all');
    redirect(req, res, `${res.locals.basePath}/notifications`);
  });

  return router;
}
