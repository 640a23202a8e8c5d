import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../db/knex';
import { renderFragment, renderPageOrFragment } from '../web/render';
import { isHtmx } from '../web/htmx';
import { batchRead } from '../db/batch';
import { findActivities, myContactCountsQuery, toStatusCounts } from './queries';
import { displayName } from '../contacts/format';
import { statuses } from '../contacts/status';
import { RecordId } from '../web/validation';

const PAGE = 30;

const DashboardQuery = z.object({
  own: z.literal('1').optional().catch(undefined),
  before: RecordId.optional().catch(undefined),
  /** The activities newer than this one (0: all), for the page open since (dashboard/_refresh). */
  after: z.string().regex(/^\d{1,18}$/).optional().catch(undefined),
});

export function dashboardRoutes(db: Db): Router {
  const router = Router();

  // The start page: activities on my contacts (excluding my own unless asked), and my contacts per status
  // (read with the layout's bell: one statement).
  router.get('/', async (req, res) => {
    const query = DashboardQuery.parse(req.query);
    const userId = req.user!.id;
    if (query.after && isHtmx(req)) return newActivities(req, res, query.after, query.own === '1');
    const [activities, counts] = await Promise.all([
      findActivities(db, userId, { includeOwn: query.own === '1', beforeId: query.before, limit: PAGE + 1 }),
      // The fragment of older activities has no counts; the same page opened whole (a new tab, no JavaScript) has.
      isHtmx(req) ? undefined : batchRead(res, db, myContactCountsQuery(db, userId)).then(toStatusCounts),
    ]);
    await renderPageOrFragment(req, res, 'dashboard/index', 'dashboard/_activities', {
      title: req.t('dashboard.title'),
      nav: 'dashboard',
      activities: activities.slice(0, PAGE),
      more: activities.length > PAGE,
      own: query.own === '1',
      paged: Boolean(query.before),
      counts,
      statuses,
      displayName,
    });
  });

  /**
   * What happened since the page was opened, put on top of its list when a
   * notification arrives (the poll triggers notificationsArrived): the start
   * page stood still while the popups told of new activities. More than a
   * page of them, the list is read anew from the top instead.
   */
  async function newActivities(req: Request, res: Response, after: string, own: boolean) {
    const found = await findActivities(db, req.user!.id, { includeOwn: own, afterId: after, limit: PAGE + 1 });
    const whole = found.length > PAGE;
    const activities = whole ? await findActivities(db, req.user!.id, { includeOwn: own, limit: PAGE + 1 }) : found;
    if (whole) res.set('HX-Reswap', 'innerHTML');
    await renderFragment(res, 'dashboard/_new-activities', {
      activities: activities.slice(0, PAGE),
      more: whole && activities.length > PAGE,
      appending: !whole,
      newest: activities[0]?.id ?? after,
      own,
      displayName,
    });
  }

  return router;
}
