import express, { Router, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import pinoHttp from 'pino-http';
import { loggedUrl } from './logger';
import type { Config } from './config';
import type { Db } from './db/knex';
import { assetUrls, publicDir, viewsDir } from './web/assets';
import { strictPartial } from './web/partials';
import { breakableEmail, escapeForView } from './web/html';
import { currentUser, requireLogin } from './web/auth';
import { errorHandler, notFound } from './web/error-handler';
import { csrf, formBodiesOnly, noStore, parseQueryString, refuseNulBytes, securityHeaders, stripInvisibleCharacters } from './web/security';
import { sessionMiddleware } from './web/session';
import { authRoutes } from './auth/routes';
import { dashboardRoutes } from './dashboard/routes';
import { profileRoutes } from './users/routes';
import { contactRoutes } from './contacts/routes';
import { groupRoutes } from './groups/routes';
import { bulkRoutes } from './contacts/bulk-routes';
import type { JobQueue } from './jobs/queue';
import { notificationLocals, notificationRoutes } from './notifications/routes';
import { settingsRoutes } from './settings/routes';
import { competenceRoutes } from './competences/routes';
import { apiTokenRoutes } from './integrations/routes';
import { messageApi } from './integrations/api';
import { numberCircleRoutes } from './numbers/routes';
import { avatar, fieldText, type Pictured } from './contacts/format';
import { assignmentLabel } from './assignment/label';
import { editableFields } from './contacts/schema';

export interface AppDeps {
  db: Db;
  config: Config;
  logger?: Logger;
  /** The background job queue (pg-boss); without it, every bulk action runs in the request. */
  jobs?: JobQueue;
}

/** Builds the whole app without listening or connecting: tests build it on their own database. */
export function createApp({ db, config, logger = pino({ level: 'silent' }), jobs }: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Pages are never cached (no-store), so hashing every body for an ETag is wasted work; static files keep theirs.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  // Express's own simple parser (node:querystring), with invisible characters taken out as from forms.
  app.set('query parser', parseQueryString);
  app.set('view engine', 'ejs');
  app.set('views', viewsDir);
  // Includes are written from the views folder ("/contacts/_row"): EJS then resolves
  // them without asking the file system whether a relative path exists, which it
  // otherwise does for every include, 150 times for one page of the list.
  app.set('view options', { root: viewsDir, escape: escapeForView });
  app.locals.basePath = config.basePath;
  app.locals.asset = assetUrls(config.basePath);
  app.locals.url = (p: string) => `${config.basePath}${p}`;
  app.locals.avatar = (contact: Pictured, options?: { large?: boolean; alt?: string }) => avatar(config.basePath, contact, options);
  app.locals.assignmentLabel = assignmentLabel;
  app.locals.fieldText = fieldText;
  app.locals.breakableEmail = breakableEmail;
  // Changes listed in the form's order (the history's payload is JSON, whose keys PostgreSQL sorts its own way).
  app.locals.fieldOrder = editableFields;
  app.locals.contactRows = strictPartial(
    'contacts/_rows',
    ['rows', 'createdId', 'selection', 'isSelected', 'displayName', 't', 'url', 'avatar', 'assignmentLabel'],
    { cache: app.enabled('view cache') },
  );
  // The filter form loops over every employee and country on each full page of the list: strict too.
  app.locals.filterForm = strictPartial(
    'contacts/_filters',
    ['raw', 'errors', 'query', 'options', 'statuses', 'countryCodes', 'listQueryString', 't', 'url'],
    { cache: app.enabled('view cache') },
  );
  app.locals.notificationPollSeconds = config.notificationPollSeconds;

  const router = Router();
  router.use((_req, res, next) => {
    res.locals.basePath = config.basePath;
    next();
  });
  // One line per request at level info (the access log). Above it (LOG_LEVEL=warn, say, where
  // the proxy keeps the access log) nothing would be written, yet pino-http would still
  // build a child logger and its bindings for every request: then it is left out.
  if (logger.isLevelEnabled('info')) {
    router.use(
      pinoHttp({
        logger,
        autoLogging: { ignore: (req) => req.url?.includes('/static/') ?? false },
        // What an operator needs per request, and no headers: pino binds the request to a
        // child logger on every request, whatever the level, and copying, redacting and
        // serialising all headers there cost more than rendering a page of the list.
        wrapSerializers: false,
        serializers: {
          req: (req: Request) => ({ id: req.id, method: req.method, url: loggedUrl(req.originalUrl ?? req.url) }),
          res: (res: Response) => ({ statusCode: res.statusCode }),
        },
      }),
    );
  }
  router.use(securityHeaders());

  router.get('/healthz', async (_req, res) => {
    try {
      await db.raw('select 1').timeout(2000);
      res.set('Cache-Control', 'no-store').json({ status: 'ok' });
    } catch {
      res.status(503).set('Cache-Control', 'no-store').json({ status: 'database unavailable' });
    }
  });
  router.use('/static', express.static(publicDir, { maxAge: '365d', immutable: true, index: false }));
  // Other modules call the API with a token of their own: no session, no CSRF, JSON answers.
  router.use('/api', messageApi(db, logger));

  router.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 2000 }));
  router.use(refuseNulBytes);
  router.use(formBodiesOnly);
  router.use(stripInvisibleCharacters);
  router.use(sessionMiddleware(db, config, logger));
  router.use(currentUser(db, config));
  router.use((req, res, next) => {
    // For a logged-in employee (or a session that holds one already), not for every request: a
    // token changes the session, and a changed session is stored, so every request without a
    // session (a redirect to the login, a 401 to htmx, an error page) wrote a row into "session".
    // The login form makes its own (src/auth/routes.ts).
    res.locals.csrfToken = req.user || req.session?.csrfToken ? csrf.generateToken(req) : '';
    res.locals.messages = req.session?.flash ?? [];
    if (req.session?.flash) delete req.session.flash;
    next();
  });
  // The login's own posts check the token there; everything else asks for a login first. A session that
  // ended while a form was being filled in is told as such (src/web/auth.ts), not as a stale form: the
  // CSRF check came first, and "Das Formular ist abgelaufen" sent the clerk to reload, losing the input.
  router.use(authRoutes(db));
  router.use(requireLogin, csrf.csrfSynchronisedProtection, noStore, notificationLocals(db));
  router.use(dashboardRoutes(db));
  router.use(profileRoutes(db));
  router.use(bulkRoutes(db, jobs));
  router.use(groupRoutes(db));
  router.use(contactRoutes(db));
  router.use(notificationRoutes(db));
  router.use(settingsRoutes(db));
  router.use('/settings/competences', competenceRoutes(db));
  router.use('/settings/api-tokens', apiTokenRoutes(db));
  router.use('/settings/number-circles', numberCircleRoutes(db));

  router.use(notFound);
  router.use(errorHandler(logger));

  app.use(config.basePath || '/', router);
  return app;
}
