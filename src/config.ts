import ms from 'ms';
import { z } from 'zod';

/** Raised when the environment does not describe a runnable gateway; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const parsed = ms(value as ms.StringValue);
      if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 20m, 24h or 30d, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveNumber = (fallback: number) => z.coerce.number({ message: 'expected a number' }).positive('expected a positive number').default(fallback);

const integerList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((s) => !/^-?\d+$/.test(s));
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `expected comma-separated numeric Telegram ids, got "${bad.join(', ')}"` });
      return z.NEVER;
    }
    return items.map(Number);
  });

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_PRETTY: z.string().optional(),
    INSTANCE_ID: z.string().min(1).optional(),

    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number({ message: 'expected a port number' }).int().min(0).max(65535).default(3000),
    PUBLIC_URL: z.url({ message: 'expected an absolute URL such as https://support.example.com' }).optional(),

    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// or mongodb+srv:// URI').optional(),
    DATA_DIR: z.string().default('./data'),

    REOPEN_WINDOW: duration('24h'),

    OUTBOX_LEASE: duration('60s'),
    OUTBOX_POLL_INTERVAL: duration('250ms'),
    OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(12),
    OUTBOX_SEND_TIMEOUT: duration('30s'),

    TELEGRAM_BOT_TOKEN: z.string().regex(/^\d+:[\w-]+$/, 'expected a bot token like 123456:ABC-DEF').optional(),
    OPERATOR_CHAT_ID: z.string().regex(/^-\d+$/, 'expected the operator group id, a negative number like -1001234567890').transform(Number).optional(),
    TELEGRAM_API_ROOT: z.url({ message: 'expected an absolute URL' }).default('https://api.telegram.org'),
    TELEGRAM_WEBHOOK_URL: z.url({ message: 'expected an absolute https URL' }).optional(),
    TELEGRAM_WEBHOOK_SECRET: z.string().regex(/^[\w-]{16,256}$/, 'expected 16-256 characters of A-Z, a-z, 0-9, _ or -').optional(),
    ADMIN_TELEGRAM_IDS: integerList,
    RELAY_MERGE_WINDOW: duration('0ms'),
    DASHBOARD_INTERVAL: duration('5s'),

    RATE_TELEGRAM_PER_CHAT_PER_SECOND: positiveNumber(1),
    RATE_TELEGRAM_PER_GROUP_PER_MINUTE: positiveNumber(20),
    RATE_TELEGRAM_GLOBAL_PER_SECOND: positiveNumber(30),

    SHUTDOWN_TIMEOUT: duration('15s'),
    COMPANY_NAME: z.string().default('our'),
    // @section email variables
    // @section webchat variables
    // @section vk variables
    // @section whatsapp variables
    // @section messenger variables
    // @section jobs variables
    // @section stats variables
  })
  .superRefine((env, ctx) => {
    // @section email checks
    // @section webchat checks
    // @section vk checks
    // @section whatsapp checks
    // @section messenger checks
    // @section jobs checks
    // @section stats checks

    if (env.TELEGRAM_BOT_TOKEN && env.OPERATOR_CHAT_ID === undefined) {
      ctx.addIssue({ code: 'custom', path: ['OPERATOR_CHAT_ID'], message: 'required when TELEGRAM_BOT_TOKEN is set: the operator group id' });
    }
    if (env.OPERATOR_CHAT_ID !== undefined && !env.TELEGRAM_BOT_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['TELEGRAM_BOT_TOKEN'], message: 'required when OPERATOR_CHAT_ID is set' });
    }
    if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_SECRET'], message: 'required when TELEGRAM_WEBHOOK_URL is set: Telegram sends it back on every update' });
    }
  });

type Env = z.output<typeof schema>;

export interface Config {
  env: Env['NODE_ENV'];
  instanceId: string;
  log: { level: Env['LOG_LEVEL']; pretty: boolean };
  http: { host: string; port: number; publicUrl?: string };
  database: { uri?: string; dataDir: string };
  conversations: { reopenWindowMs: number };
  outbox: { leaseMs: number; pollIntervalMs: number; maxAttempts: number; sendTimeoutMs: number };
  telegram?: {
    token: string;
    operatorChatId: number;
    apiRoot: string;
    webhook?: { url: string; secret: string };
    adminIds: number[];
    relayMergeWindowMs: number;
    dashboardIntervalMs: number;
  };
  rateLimits: { telegramPerChatPerSecond: number; telegramPerGroupPerMinute: number; telegramGlobalPerSecond: number };
  shutdownTimeoutMs: number;
  companyName: string;
  // @section email config type
  // @section webchat config type
  // @section vk config type
  // @section whatsapp config type
  // @section messenger config type
  // @section jobs config type
  // @section stats config type
}

/** Parses the environment once; throws ConfigError naming every missing or invalid variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const blankAsUnset = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(blankAsUnset);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`));
  }
  const env = result.data;
  return {
    env: env.NODE_ENV,
    instanceId: env.INSTANCE_ID ?? `gw-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY ? ['true', '1', 'yes'].includes(env.LOG_PRETTY) : env.NODE_ENV === 'development' },
    http: { host: env.HOST, port: env.PORT, publicUrl: env.PUBLIC_URL },
    database: { uri: env.MONGODB_URI, dataDir: env.DATA_DIR },
    conversations: { reopenWindowMs: env.REOPEN_WINDOW },
    outbox: { leaseMs: env.OUTBOX_LEASE, pollIntervalMs: env.OUTBOX_POLL_INTERVAL, maxAttempts: env.OUTBOX_MAX_ATTEMPTS, sendTimeoutMs: env.OUTBOX_SEND_TIMEOUT },
    telegram:
      env.TELEGRAM_BOT_TOKEN && env.OPERATOR_CHAT_ID !== undefined
        ? {
            token: env.TELEGRAM_BOT_TOKEN,
            operatorChatId: env.OPERATOR_CHAT_ID,
            apiRoot: env.TELEGRAM_API_ROOT,
            webhook: env.TELEGRAM_WEBHOOK_URL && env.TELEGRAM_WEBHOOK_SECRET ? { url: env.TELEGRAM_WEBHOOK_URL, secret: env.TELEGRAM_WEBHOOK_SECRET } : undefined,
            adminIds: env.ADMIN_TELEGRAM_IDS,
            relayMergeWindowMs: env.RELAY_MERGE_WINDOW,
            dashboardIntervalMs: env.DASHBOARD_INTERVAL,
          }
        : undefined,
    rateLimits: {
      telegramPerChatPerSecond: env.RATE_TELEGRAM_PER_CHAT_PER_SECOND,
      telegramPerGroupPerMinute: env.RATE_TELEGRAM_PER_GROUP_PER_MINUTE,
      telegramGlobalPerSecond: env.RATE_TELEGRAM_GLOBAL_PER_SECOND,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT,
    companyName: env.COMPANY_NAME,
    // @section email config value
    // @section webchat config value
    // @section vk config value
    // @section whatsapp config value
    // @section messenger config value
    // @section jobs config value
    // @section stats config value
  };
}
