import express, { Router, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import { languageFromHeader, translator, type MessageKey } from '../i18n';
import { HttpError, NotFound, isDatabaseUnavailable } from '../web/errors';
import { noStore, refuseNulBytes, stripInvisibleCharacters } from '../web/security';
import { fieldErrors, type FieldErrors } from '../web/validation';
import { IdempotencyKey, IncomingMessage, RecordId } from './schema';
import { authenticate, receiveMessage } from './service';

/** Every answer is JSON: `{ error }`, with `fields` when the body was invalid. */
function fail(res: Response, status: number, key: MessageKey, fields?: FieldErrors): void {
  const t = translator(languageFromHeader(res.req.get('Accept-Language')));
  res.status(status).json({ error: t(key), ...(fields && { fields }) });
}

/** Bearer token or nothing: checked before the body is even read, so an unknown caller cannot make the app parse 16 KB. */
function requireToken(db: Db): RequestHandler {
  return async (req, res, next) => {
    const integration = await authenticate(db, req.get('Authorization'));
    if (!integration) {
      res.set('WWW-Authenticate', 'Bearer realm="kontakte"');
      return fail(res, 401, 'apiTokens.api.unauthorized');
    }
    res.locals.integration = integration;
    next();
  };
}

function apiErrors(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const status = (error as { status?: number })?.status;
    if (error instanceof NotFound) return fail(res, 404, 'apiTokens.api.contactNotFound');
    // An address that does not decode (/api/contacts/%FF/messages) names no contact; it is no fault of the body.
    if (error instanceof URIError) return fail(res, 404, 'apiTokens.api.contactNotFound');
    if (status === 413) return fail(res, 413, 'apiTokens.api.tooLarge');
    // A NUL character in valid JSON (refuseNulBytes) is said as such; anything else at 400 is JSON that does not parse.
    if (error instanceof HttpError && error.status === 400) return fail(res, 400, error.messageKey);
    if (status === 400) return fail(res, 400, 'apiTokens.api.malformed');
    if (status === 415) return fail(res, 415, 'apiTokens.api.notJson');
    if (isDatabaseUnavailable(error)) {
      res.set('Retry-After', '5');
      return fail(res, 503, 'apiTokens.api.unavailable');
    }
    logger.error({ err: error, url: req.originalUrl }, 'api request failed');
    fail(res, 500, 'apiTokens.api.failed');
  };
}

/**
 * The API for other modules, mounted at /api before sessions and CSRF: callers
 * authenticate with a per-integration token (Settings → API-Zugänge), not a
 * cookie, so a browser cannot be tricked into calling it.
 */
export function messageApi(db: Db, logger: Logger): Router {
  const router = Router();
  router.use(noStore);

  router.post('/contacts/:id/messages', requireToken(db), express.json({ limit: '16kb' }), refuseNulBytes, stripInvisibleCharacters, async (req, res) => {
    const id = RecordId.safeParse(req.params.id);
    if (!id.success) throw new NotFound();
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) return fail(res, 400, 'apiTokens.api.notObject');
    const t = translator(languageFromHeader(req.get('Accept-Language')));
    const message = IncomingMessage.safeParse(req.body);
    if (!message.success) return fail(res, 400, 'apiTokens.api.invalid', fieldErrors(message.error, t));
    const key = IdempotencyKey.safeParse(req.get('Idempotency-Key'));
    if (!key.success) return fail(res, 400, 'apiTokens.api.badKey');
    const received = await receiveMessage(db, id.data, message.data, res.locals.integration, key.data);
    if ('keyReused' in received) return fail(res, 422, 'apiTokens.api.keyReused');
    // A retry gets the first answer again, marked as such.
    if (received.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(201).json({ id: received.id });
  });

  router.use((_req, res) => fail(res, 404, 'apiTokens.api.notFound'));
  router.use(apiErrors(logger));
  return router;
}
