import { Router, type Request, type Response, type NextFunction } from 'express';
import { z } from 'zod';
import type { Db } from '../db/knex';
import { batchRead, readValue } from '../db/batch';
import { NotFound } from '../web/errors';
import { RecordId } from '../web/validation';
import { deferLocal, deferLocalIfPage, flash, renderFragment, renderPage } from '../web/render';
import { redirect, trigger, varyOnHtmx, isHtmx } from '../web/htmx';
import { bellQuery, findNotification, listNotifications, markRead, newUnread } from './queries';
import { displayName } from '../contacts/format';
import { isSummary, notificationPath, summaryGroupName, summaryListPath, summaryText } from './summary';
import { openSummary } from './service';
import { listQueryString } from '../contacts/urls';

const PAGE = 30;
const Id = RecordId;
/** The newest notification the page has seen: 0 before the first. */
const Seen = z.union([z.literal('0'), RecordId]);
const helpers = { displayName, isSummary, summaryText };

/**
 * The unread count and the newest notification id for the layout's bell and
 * poller, on every full page: read beside the route's own queries, in one
 * statement with the rest of the page's frame (batchRead); the page waits for it (deferLocal).
 */
export function notificationLocals(db: Db) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.user && !isHtmx(req)) {
      const userId = req.user.id;
      // A page asked for: loaded beside the route's own reads. A form sent: only if it comes back as a page (its errors).
      if (req.method === 'GET') deferLocal(res, 'notifications', batchRead(res, db, bellQuery(db, userId)));
      else deferLocalIfPage(res, 'notifications', () => readValue(db, bellQuery(db, userId)));
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
    const after = Seen.safeParse(req.query.after);
    const userId = req.user!.id;
    const [fresh, notifications] = await Promise.all([
      after.success ? newUnread(db, userId, after.data) : Promise.resolve([]),
      readValue(db, bellQuery(db, userId)),
    ]);
    // A page showing activities (the start page) fetches what is new when something arrives.
    if (fresh.length) trigger(res, 'notificationsArrived');
    await renderFragment(res, 'notifications/_poll', { fresh, notifications, ...helpers });
  });

  router.post('/notifications/:id/open', async (req, res) => {
    const id = Id.safeParse(req.params.id);
    const found = id.success ? await findNotification(db, req.user!.id, id.data) : undefined;
    if (!found) {
      // A popup still on screen for a contact deleted since (its notifications went with it): say so on
      // the notifications page, not "Diese Seite gibt es nicht (mehr)".
      if (!id.success) throw new NotFound();
      flash(req, res, req.t('notifications.gone'), 'error');
      return redirect(req, res, `${res.locals.basePath}/notifications`);
    }
    await markRead(db, req.user!.id, [found.id]);
    if (isSummary(found) && found.action_last_event_id) {
      // The action's contacts that concern the employee, as a temporary group: said when they are not the ones counted.
      const opened = await openSummary(db, found.id, req.user!.id, summaryGroupName(req.t, found));
      if (opened) {
        if (opened.made && opened.members !== found.count) flash(req, res, req.t('notifications.summaryChanged', { told: found.count, now: opened.members }));
        return redirect(req, res, `${res.locals.basePath}/contacts${listQueryString({ group: opened.groupId })}`);
      }
      // None left for the employee (deleted, or assigned otherwise since): said, where the list it led to before
      // is one, or among the notifications (not on one contact's page, as if that one were meant).
      flash(req, res, req.t('notifications.summaryGone'), 'error');
      return redirect(req, res, `${res.locals.basePath}${summaryListPath(found, req.user!.id) ?? '/notifications'}`);
    }
    redirect(req, res, `${res.locals.basePath}${notificationPath(found, req.user!.id)}`);
  });

  router.post('/notifications/read', async (req, res) => {
    const marked = await markRead(db, req.user!.id, 'all');
    // Said, not only seen in the rows' colour (or not at all, with nothing unread).
    flash(req, res, req.t(marked === 0 ? 'notifications.noneUnread' : marked === 1 ? 'notifications.markedReadOne' : 'notifications.markedRead', { count: marked }));
    redirect(req, res, `${res.locals.basePath}/notifications`);
  });

  return router;
}
