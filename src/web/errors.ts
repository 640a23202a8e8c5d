import type { MessageKey, Params } from '../i18n';

/**
 * Typed errors thrown by services; the one error handler (web/error-handler.ts)
 * turns each into a page or an htmx fragment with its status code.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly messageKey: MessageKey,
    readonly params?: Params,
  ) {
    super(messageKey);
  }
}

export class NotFound extends HttpError {
  constructor(messageKey: MessageKey = 'errors.404', params?: Params) {
    super(404, messageKey, params);
  }
}

export class Forbidden extends HttpError {
  constructor(messageKey: MessageKey = 'errors.403', params?: Params) {
    super(403, messageKey, params);
  }
}

export class Conflict extends HttpError {
  constructor(messageKey: MessageKey = 'errors.409', params?: Params) {
    super(409, messageKey, params);
  }
}

/** Input that passed the form's shape but breaks a rule only the service can check; `params` fill the field messages. */
export class Invalid extends HttpError {
  constructor(
    readonly fieldErrors: Record<string, MessageKey>,
    messageKey: MessageKey = 'errors.422',
    params?: Params,
  ) {
    super(422, messageKey, params);
  }
}

export class TooManyRequests extends HttpError {
  constructor(messageKey: MessageKey = 'errors.429') {
    super(429, messageKey);
  }
}

const connectionErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
]);

/** True when the database cannot be reached: the request answers 503 and the pool heals by itself. */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed: errors from node internals may come from another realm (test VMs).
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: string; message?: string };
  if (code && connectionErrorCodes.has(code)) return true;
  return typeof message === 'string' && /Knex: Timeout acquiring a connection|Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(
    message,
  );
}
