import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/knex';
import { renderPageOrFragment } from '../web/render';
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
});

export function dashboardRoutes(db: Db): Router {
  const router = Router();

  // The start page: activities on my contacts (excluding my own unless asked), and my contacts per status
  // (read with the layout's bell: one statement).
  router.get('/', async (req, res) => {
    const query = DashboardQuery.parse(req.query);
    const userId = req.user!.id;
    const fragment = isHtmx(req);
    const [activities, counts] = await Promise.all([
      findActivities(db, userId, { includeOwn: query.own === '1', beforeId: query.before, limit: PAGE + 1 }),
      // The fragment of older activities has no counts; the same page opened whole (a new tab, no JavaScript) has,
      // and so has the first page read anew on a notification: a reassignment changes them.
      fragment && query.before ? undefined : batchRead(res, db, myContactCountsQuery(db, userId)).then(toStatusCounts),
    ]);
    // The first page as a fragment is what the page reads anew when a notification arrives (dashboard/_refresh);
    // older ones are paged in below it ("Ältere Aktivitäten"), and then the page is left as it is.
    await renderPageOrFragment(req, res, 'dashboard/index', query.before ? 'dashboard/_older-activities' : 'dashboard/_refreshed', {
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

  return router;
}
