import { z } from 'zod';

/**
 * Every environment variable the app reads, parsed once at start-up.
 * The README documents each of them; keep the two in step.
 */
const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const EnvSchema = z
  .object({
    NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
    PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
    HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
    DATABASE_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    EMBEDDED_PG_DIR: optionalString,
    SESSION_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
    BASE_PATH: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must look like /crm (no trailing slash)')
        .optional(),
    ),
    TRUST_PROXY: optionalString,
    AUTH_PROXY_HEADER: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name such as X-Remote-User')
        .optional(),
    ),
    ADMIN_EMAIL: z.preprocess(emptyToUndefined, z.email().optional()),
    ADMIN_PASSWORD: z.preprocess(emptyToUndefined, z.string().min(10, 'must be at least 10 characters').optional()),
    DEMO_DATA: z.preprocess(emptyToUndefined, z.stringbool().optional()),
    LOG_LEVEL: z.preprocess(
      emptyToUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    LOG_FORMAT: z.preprocess(emptyToUndefined, z.enum(['json', 'pretty']).optional()),
    SESSION_CACHE: z.preprocess(emptyToUndefined, z.stringbool().default(true)),
    NOTIFICATION_POLL_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(600).default(20)),
  })
  .superRefine((env, ctx) => {
    if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'ADMIN_EMAIL and ADMIN_PASSWORD go together' });
    }
    if (env.NODE_ENV === 'production' && !env.SESSION_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SESSION_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    if (env.AUTH_PROXY_HEADER && !env.TRUST_PROXY) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_PROXY_HEADER'], message: 'needs TRUST_PROXY, or anyone could send it' });
    }
    // With "true" or a hop count every peer counts as the proxy: any client could log in as anyone.
    if (env.AUTH_PROXY_HEADER && env.TRUST_PROXY && /^(true|\d+)$/.test(env.TRUST_PROXY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_PROXY_HEADER'],
        message: "needs TRUST_PROXY to name the proxy's addresses (10.0.0.5, loopback): with true or a hop count anyone could send it",
      });
    }
  });

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  databaseUrl?: string;
  embeddedPgDir?: string;
  sessionSecret: string;
  basePath: string;
  trustProxy: boolean | number | string;
  authProxyHeader?: string;
  admin?: { email: string; password: string };
  demoData: boolean;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  /** Keep sessions read in memory, forgotten on any change (src/web/session-cache.ts). */
  sessionCache: boolean;
  /** How often an open page asks for new notifications. */
  notificationPollSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Express's trust-proxy setting: "true", a hop count, or addresses/subnets. */
function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

const DEV_SESSION_SECRET = 'kontakte-development-secret-not-for-production';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    embeddedPgDir: e.EMBEDDED_PG_DIR,
    sessionSecret: e.SESSION_SECRET ?? DEV_SESSION_SECRET,
    basePath: e.BASE_PATH ?? '',
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    authProxyHeader: e.AUTH_PROXY_HEADER?.toLowerCase(),
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : undefined,
    demoData: e.DEMO_DATA ?? e.NODE_ENV !== 'production',
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    sessionCache: e.SESSION_CACHE,
    notificationPollSeconds: e.NOTIFICATION_POLL_SECONDS,
  };
}
