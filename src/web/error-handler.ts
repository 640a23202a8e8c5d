import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { loggedUrl } from '../logger';
import { languageFromHeader, translator, type MessageKey } from '../i18n';
import { HttpError, NotFound, isDatabaseUnavailable } from './errors';
import { isHtmx } from './htmx';
import { renderFragment, renderPage, settleDeferredLocals } from './render';
import { csrf } from './security';

export const notFound: RequestHandler = () => {
  throw new NotFound();
};

interface Described {
  status: number;
  messageKey: MessageKey;
  params?: Record<string, string | number>;
}

function describe(error: unknown): Described {
  if (error instanceof HttpError) return { status: error.status, messageKey: error.messageKey, params: error.params };
  const e = error as { code?: string; status?: number; statusCode?: number; type?: string };
  if (e?.code === 'EBADCSRFTOKEN') return { status: 403, messageKey: 'errors.csrf' };
  if (isDatabaseUnavailable(error)) return { status: 503, messageKey: 'errors.503' };
  const status = e?.status ?? e?.statusCode;
  if (status === 413 || e?.code === 'LIMIT_FILE_SIZE') return { status: 413, messageKey: 'errors.413' };
  if (status && status >= 400 && status < 500) return { status: 400, messageKey: 'errors.400' };
  return { status: 500, messageKey: 'errors.500' };
}

/**
 * The one error handler: a German (or English) page for full requests, a small
 * message fragment for htmx, never a stack trace.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return async (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const { status, messageKey, params } = describe(error);
    if (status >= 500) logger.error({ err: error, url: loggedUrl(req.originalUrl) }, 'request failed');
    else logger.debug({ status, url: loggedUrl(req.originalUrl), messageKey }, 'request refused');

    const t = req.t ?? translator(languageFromHeader(req.get('Accept-Language')));
    res.locals.t ??= t;
    res.locals.lang ??= req.language ?? 'de';
    res.locals.csrfToken ??= '';
    if (status === 503) res.set('Retry-After', '5');
    // A stale token of a logged-in employee (they logged in again in another tab, which began a new
    // session): an htmx form keeps what was typed, so it gets the session's token (public/js/app.js puts
    // it into the page) and is simply sent again. Only a page of that same employee (X-Page-User): one of
    // another employee, who logged out and someone else in, is told so and gets nothing.
    const pageUser = messageKey === 'errors.csrf' && req.user && isHtmx(req) ? req.get('X-Page-User') : undefined;
    const staleToken = pageUser !== undefined && pageUser === req.user!.id;
    if (staleToken) res.set('X-CSRF-Token', csrf.generateToken(req)).set('X-CSRF-User', req.user!.id);
    const message = staleToken ? t('errors.csrfRetry') : pageUser !== undefined ? t('errors.otherUser', { name: req.user!.name }) : t(messageKey, params);
    const locals = { title: t('errors.title'), status, message };
    try {
      if (isHtmx(req)) {
        res.set('HX-Retarget', '#messages').set('HX-Reswap', 'innerHTML');
        await renderFragment(res, 'errors/_message', locals, status);
      } else {
        await settleDeferredLocals(res, { skipFailed: true });
        await renderPage(res, 'errors/show', locals, status);
      }
    } catch (renderError) {
      logger.error({ err: renderError }, 'error page failed to render');
      res.status(status).type('text').send(locals.message);
    }
  };
}
