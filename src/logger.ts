import pino, { type Logger } from 'pino';
import type { Config } from './config';

export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  return pino({
    level: config.logLevel,
    redact: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'],
    transport: config.logFormat === 'pretty' ? { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } : undefined,
  });
}

/** A request's address as the logs show it: the picture form's CSRF token (in its URL, src/web/security.ts) left out. */
export function loggedUrl(url: string): string {
  return url.replace(/([?&]_csrf=)[^&]*/g, '$1…');
}
