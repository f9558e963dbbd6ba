import { OPERATOR_LANGUAGES } from './i18n/operator-texts.js';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import ms from 'ms';
import { z } from 'zod';

/** Raised when the environment does not describe a runnable gateway; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function toMs(value: string, ctx: z.RefinementCtx, also = ''): number {
  const parsed = ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 20m, 24h or 30d${also}, got "${value}"` });
    return z.NEVER;
  }
  return parsed;
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => toMs(value, ctx));

/** A duration, or `off` (null): off by default. */
const durationOrOff = () =>
  z
    .string()
    .default('off')
    .transform((value, ctx) => (value === 'off' ? null : toMs(value, ctx, ' or off')));

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

/** A size in bytes, or with kb/mb/gb, up to `max` when given. */
const byteSize = (fallback: string, max = Infinity) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
      const bytes = m ? Math.floor(Number(m[1]) * { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb' | 'gb']) : NaN;
      if (!(bytes > 0 && bytes <= max)) {
        ctx.addIssue({ code: 'custom', message: `expected a size${max < Infinity ? ` up to ${Math.floor(max / 1024 ** 2)}mb` : ''} like 10mb, 512kb or 1048576, got "${value}"` });
        return z.NEVER;
      }
      return bytes;
    });

/** What @BotFather hands out: the bot's id, a colon, a secret. */
export const BOT_TOKEN_PATTERN = /^\d+:[\w-]+$/;

const port = (fallback: number) => z.coerce.number({ message: 'expected a port number' }).int().min(1).max(65535).default(fallback);

/** One support mailbox: `EMAIL_<name>` for the first, `EMAIL_2_<name>` … `EMAIL_9_<name>` for more. */
const mailboxSchema = z.object({
  ADDRESS: z.email({ message: 'expected the support e-mail address, like support@example.com' }).optional(),
  DISPLAY_NAME: z.string().optional(),
  IMAP_HOST: z.string().min(1).optional(),
  IMAP_PORT: port(993),
  IMAP_SECURE: boolean(true),
  IMAP_USER: z.string().min(1).optional(),
  IMAP_PASSWORD: z.string().optional(),
  IMAP_MAILBOX: z.string().min(1).default('INBOX'),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: port(587),
  SMTP_SECURE: boolean(false),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().optional(),
});
const MAILBOX_PREFIXES = ['EMAIL_', ...Array.from({ length: 8 }, (_, i) => `EMAIL_${i + 2}_`)];
const REQUIRED_MAILBOX_FIELDS = ['ADDRESS', 'IMAP_HOST', 'SMTP_HOST'] as const;

export interface MailboxConfig {
  address: string;
  displayName?: string;
  imap: { host: string; port: number; secure: boolean; user: string; password?: string; mailbox: string };
  smtp: { host: string; port: number; secure: boolean; user?: string; password?: string };
}

/** The configured mailboxes, in prefix order; a mailbox with only some of its required variables is a problem. */
function parseMailboxes(env: Record<string, string | undefined>): { mailboxes: MailboxConfig[]; problems: string[] } {
  const mailboxes: MailboxConfig[] = [];
  const problems: string[] = [];
  const fields = Object.keys(mailboxSchema.shape);
  for (const prefix of MAILBOX_PREFIXES) {
    const own = Object.fromEntries(fields.filter((field) => env[prefix + field] !== undefined).map((field) => [field, env[prefix + field]]));
    if (!REQUIRED_MAILBOX_FIELDS.some((field) => own[field])) continue;
    const missing = REQUIRED_MAILBOX_FIELDS.filter((field) => !own[field]);
    const together = REQUIRED_MAILBOX_FIELDS.map((field) => prefix + field).join(', ');
    problems.push(...missing.map((field) => `${prefix}${field}: required for the e-mail channel: ${together} go together`));
    const parsed = mailboxSchema.safeParse(own);
    if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => `${prefix}${issue.path.join('.')}: ${issue.message}`));
    if (!parsed.success || missing.length > 0) continue;
    const m = parsed.data;
    if (mailboxes.some((other) => other.address.toLowerCase() === m.ADDRESS!.toLowerCase())) {
      problems.push(`${prefix}ADDRESS: ${m.ADDRESS} is configured twice`);
      continue;
    }
    mailboxes.push({
      address: m.ADDRESS!,
      displayName: m.DISPLAY_NAME,
      imap: { host: m.IMAP_HOST!, port: m.IMAP_PORT, secure: m.IMAP_SECURE, user: m.IMAP_USER ?? m.ADDRESS!, password: m.IMAP_PASSWORD, mailbox: m.IMAP_MAILBOX },
      smtp: { host: m.SMTP_HOST!, port: m.SMTP_PORT, secure: m.SMTP_SECURE, user: m.SMTP_USER, password: m.SMTP_PASSWORD },
    });
  }
  return { mailboxes, problems };
}

export interface Contacts {
  phone?: string;
  email?: string;
  otherChannels?: string;
}

const CONTACT_FIELDS = { PHONE: 'phone', EMAIL: 'email', OTHER_CHANNELS: 'otherChannels' } as const;

/** `SUPPORT_PHONE_RU` and the like: a language's own contacts, over the general ones for its customers. */
function parseContactsByLanguage(env: Record<string, string | undefined>): { byLanguage: Record<string, Contacts>; problems: string[] } {
  const byLanguage: Record<string, Contacts> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    const match = /^SUPPORT_(PHONE|EMAIL|OTHER_CHANNELS)_([A-Z]{2})$/.exec(name);
    if (!match || !value) continue;
    if (match[1] === 'EMAIL' && !z.email().safeParse(value).success) {
      problems.push(`${name}: expected an e-mail address, like support@example.com`);
      continue;
    }
    const language = match[2]!.toLowerCase();
    byLanguage[language] = { ...byLanguage[language], [CONTACT_FIELDS[match[1] as keyof typeof CONTACT_FIELDS]]: value };
  }
  return { byLanguage, problems };
}

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_PRETTY: z.string().optional(),
    INSTANCE_ID: z.string().min(1).optional(),

    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number({ message: 'expected a port number' }).int().min(0).max(65535).default(3000),
    PUBLIC_URL: z.url({ message: 'expected an absolute URL such as https://support.example.com' }).optional(),
    HTTP_HEADERS_TIMEOUT: duration('10s'),
    HTTP_REQUEST_TIMEOUT: duration('60s'),
    HTTP_KEEP_ALIVE_TIMEOUT: duration('5s'),
    ADMIN_TOKEN: z.string().regex(/^[\x21-\x7e]{16,256}$/, 'expected 16-256 printable characters without spaces, e.g. the output of `openssl rand -hex 24`').optional(),

    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// or mongodb+srv:// URI').optional(),
    DATA_DIR: z.string().default('./data'),

    REOPEN_WINDOW: duration('24h'),

    OUTBOX_LEASE: duration('60s'),
    OUTBOX_POLL_INTERVAL: duration('250ms'),
    OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(12),
    OUTBOX_SEND_TIMEOUT: duration('30s'),

    TELEGRAM_BOT_TOKEN: z.string().regex(BOT_TOKEN_PATTERN, 'expected a bot token like 123456:ABC-DEF').optional(),
    OPERATOR_CHAT_ID: z.string().regex(/^-\d+$/, 'expected the operator group id, a negative number like -1001234567890').transform(Number).optional(),
    TELEGRAM_API_ROOT: z.url({ message: 'expected an absolute URL' }).default('https://api.telegram.org'),
    TELEGRAM_WEBHOOK_URL: z.url({ message: 'expected an absolute https URL' }).optional(),
    TELEGRAM_WEBHOOK_SECRET: z.string().regex(/^[\w-]{16,256}$/, 'expected 16-256 characters of A-Z, a-z, 0-9, _ or -').optional(),
    ADMIN_TELEGRAM_IDS: integerList,
    TELEGRAM_HELPER_BOT_TOKENS: z
      .string()
      .default('')
      .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
      .refine((tokens) => tokens.every((t) => BOT_TOKEN_PATTERN.test(t)), { message: 'expected comma-separated bot tokens like 123456:ABC-DEF' }),
    DASHBOARD_INTERVAL: duration('5s'),
    TOPIC_RENAME_DELAY: duration('15s'),

    RATE_TELEGRAM_PER_CHAT_PER_SECOND: positiveNumber(1),
    RATE_TELEGRAM_PER_GROUP_PER_MINUTE: positiveNumber(20),
    RATE_TELEGRAM_GLOBAL_PER_SECOND: positiveNumber(30),

    SHUTDOWN_TIMEOUT: duration('15s'),
    COMPANY_NAME: z.string().default('our'),
    OPERATOR_LANGUAGE: z.enum(OPERATOR_LANGUAGES as [string, ...string[]], { message: `expected one of ${OPERATOR_LANGUAGES.join(', ')}` }).default('en'),
    AUTO_ASSIGN: z.enum(['off', 'round_robin', 'least_loaded'], { message: 'expected off, round_robin or least_loaded' }).default('off'),
    SUPPORT_PHONE: z.string().min(1).optional(),
    SUPPORT_EMAIL: z.email({ message: 'expected an e-mail address, like support@example.com' }).optional(),
    SUPPORT_OTHER_CHANNELS: z.string().min(1).optional(),
    MAX_OPEN_PER_OPERATOR: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(1, 'expected 1 or more').default(5),
    // @section email variables
    EMAIL_POLL_INTERVAL: duration('60s'),
    EMAIL_MAX_ATTACHMENT_SIZE: z.coerce.number({ message: 'expected a size in bytes' }).int().positive('expected a size in bytes').default(10 * 1024 * 1024),
    // @section webchat variables
    WEBCHAT_ENABLED: boolean(true),
    WEBCHAT_SECRET: z.string().min(32, 'expected at least 32 characters, e.g. the output of `openssl rand -hex 32`').optional(),
    WEBCHAT_ALLOWED_ORIGINS: z
      .string()
      .default('*')
      .transform((v) => v.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean))
      .refine((origins) => origins.every((o) => o === '*' || /^https?:\/\/[^/\s?#]+$/i.test(o)), { message: 'expected * or comma-separated origins like https://www.example.com,https://shop.example.com' }),
    WEBCHAT_ASK_CONTACT: boolean(false),
    // Files are stored in one database document each, which may not exceed 16 MB.
    WEBCHAT_MAX_FILE_SIZE: byteSize('10mb', 15 * 1024 * 1024),
    WEBCHAT_ALLOWED_FILE_TYPES: z
      .string()
      .default('image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain')
      .transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
      .refine((types) => types.every((t) => /^[\w.+-]+\/(\*|[\w.+-]+)$/.test(t)), { message: 'expected comma-separated MIME types like image/png,image/*,application/pdf' }),
    WEBCHAT_RATE_PER_MINUTE: positiveNumber(20),
    WEBCHAT_IP_RATE_PER_MINUTE: positiveNumber(120),
    WEBCHAT_TOKEN_TTL: duration('30d'),
    WEBCHAT_TABS_PER_VISITOR: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(1, 'expected 1 or more').default(5),
    WEBCHAT_IP_CONNECTS_PER_MINUTE: positiveNumber(60),
    WEBCHAT_HISTORY_MESSAGES: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(1, 'expected 1 or more').max(200, 'expected at most 200').default(50),
    WEBCHAT_UNSENT_UPLOAD_TTL: duration('1h'),
    WEBCHAT_UPLOAD_BYTES_PER_HOUR: byteSize('50mb'),
    WEBCHAT_IP_UPLOAD_BYTES_PER_HOUR: byteSize('200mb'),
    // @section vk variables
    VK_TOKEN: z.string().min(1).optional(),
    VK_GROUP_ID: z.coerce.number({ message: 'expected the numeric community id' }).int().positive('expected the numeric community id').optional(),
    VK_API_BASE_URL: z.url({ message: 'expected an absolute URL' }).default('https://api.vk.com/method'),
    VK_CONFIRMATION_CODE: z.string().min(1).optional(),
    VK_CALLBACK_SECRET: z.string().min(1).optional(),
    // @section whatsapp variables
    WHATSAPP_CLOUD_TOKEN: z.string().min(1).optional(),
    WHATSAPP_CLOUD_PHONE_NUMBER_ID: z.string().regex(/^\d+$/, 'expected the numeric phone number id from the WhatsApp Manager').optional(),
    WHATSAPP_CLOUD_APP_SECRET: z.string().min(1).optional(),
    WHATSAPP_CLOUD_VERIFY_TOKEN: z.string().min(1).optional(),
    WHATSAPP_WEB_ENABLED: boolean(false),
    WHATSAPP_CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
    // Unset: the adapter's defaults (docs/whatsapp.md).
    WHATSAPP_CATCH_UP_CHATS: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(0, 'expected 0 or more').optional(),
    WHATSAPP_CATCH_UP_MESSAGES: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(1, 'expected 1 or more').optional(),
    // @section messenger variables
    MESSENGER_PAGE_TOKEN: z.string().min(1).optional(),
    MESSENGER_APP_SECRET: z.string().min(1).optional(),
    MESSENGER_VERIFY_TOKEN: z.string().min(1).optional(),
    GRAPH_API_BASE_URL: z.url({ message: 'expected an absolute URL such as https://graph.facebook.com/v21.0' }).default('https://graph.facebook.com/v21.0'),
    // @section jobs variables
    REMIND_AFTER: duration('20m'),
    REMIND_MAX: z.coerce.number({ message: 'expected a whole number' }).int().min(0).max(10).default(1),
    AUTO_CLOSE_AFTER: duration('24h'),
    FIRST_RESPONSE_SLA: duration('5m'),
    ESCALATE_AFTER: duration('15m'),
    SURVEY_DELAY: duration('1m'),
    SURVEY_REPLY_WINDOW: duration('24h'),
    ARCHIVE_AFTER: duration('30d'),
    RETENTION_AFTER: durationOrOff(),
    FORGET_KEYWORD: z.string().default('off').transform((value) => (value.trim() === 'off' ? null : value.trim())),
    BUSINESS_HOURS: z
      .string()
      .optional()
      .refine(
        (v) =>
          v === undefined ||
          v.split(';').map((s) => s.trim()).filter(Boolean).every((entry) => {
            const m = /^((?:mon|tue|wed|thu|fri|sat|sun)(?:-(?:mon|tue|wed|thu|fri|sat|sun))?(?:,(?:mon|tue|wed|thu|fri|sat|sun)(?:-(?:mon|tue|wed|thu|fri|sat|sun))?)*)\s+(.+)$/i.exec(entry);
            return m !== null && m[2]!.split(/\s*,\s*/).every((r) => {
              const t = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/.exec(r.trim());
              return t !== null && Number(t[1]) * 60 + Number(t[2]) < Number(t[3]) * 60 + Number(t[4]) && Number(t[3]) * 60 + Number(t[4]) <= 1440;
            });
          }),
        { message: 'expected a weekly schedule like "mon-fri 09:00-18:00; sat 10:00-14:00" (start before end, no overnight ranges)' },
      ),
    BUSINESS_TIMEZONE: z.string().default('UTC'),
    HOLIDAYS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .refine((days) => days.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d))), { message: 'expected comma-separated dates like 2026-12-25,2027-01-01' }),
    JOBS_LEADER_LEASE: duration('30s'),
    JOBS_POLL_INTERVAL: duration('5s'),
    // @section stats variables
    REPORT_DAILY_AT: z.string().regex(/^(off|([01]\d|2[0-3]):[0-5]\d)$/, 'expected a time of day like 09:00, or off').default('09:00'),
    REPORT_WEEKLY_DAY: z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'off'], { message: 'expected a weekday like mon, or off' }).default('mon'),
    REPORT_TIMEZONE: z
      .string()
      .default('UTC')
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'expected an IANA time zone like Europe/Moscow or UTC'),
  })
  .superRefine((env, ctx) => {
    // @section email checks (mailboxes: parseMailboxes)
    if (env.HTTP_HEADERS_TIMEOUT > env.HTTP_REQUEST_TIMEOUT) {
      ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT'], message: 'expected at most HTTP_REQUEST_TIMEOUT: the headers are part of the request' });
    }
    // @section webchat checks
    if (env.WEBCHAT_ENABLED && !env.WEBCHAT_SECRET && env.NODE_ENV === 'production') {
      ctx.addIssue({ code: 'custom', path: ['WEBCHAT_SECRET'], message: 'required in production while the web chat is on: it signs visitor sessions (set WEBCHAT_ENABLED=false to turn the web chat off)' });
    }
    // @section vk checks
    if (env.VK_TOKEN && env.VK_GROUP_ID === undefined) {
      ctx.addIssue({ code: 'custom', path: ['VK_GROUP_ID'], message: 'required when VK_TOKEN is set: the id of the community the token belongs to' });
    }
    if (env.VK_GROUP_ID !== undefined && !env.VK_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['VK_TOKEN'], message: 'required when VK_GROUP_ID is set: a community access token with the messages permission' });
    }
    if (env.VK_CONFIRMATION_CODE && !env.VK_CALLBACK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['VK_CALLBACK_SECRET'], message: 'required when VK_CONFIRMATION_CODE is set: without it anyone could post fake events to the Callback API' });
    }
    // @section whatsapp checks
    {
      const cloud = { WHATSAPP_CLOUD_TOKEN: env.WHATSAPP_CLOUD_TOKEN, WHATSAPP_CLOUD_PHONE_NUMBER_ID: env.WHATSAPP_CLOUD_PHONE_NUMBER_ID, WHATSAPP_CLOUD_APP_SECRET: env.WHATSAPP_CLOUD_APP_SECRET, WHATSAPP_CLOUD_VERIFY_TOKEN: env.WHATSAPP_CLOUD_VERIFY_TOKEN };
      if (Object.values(cloud).some(Boolean)) {
        for (const [name, value] of Object.entries(cloud)) {
          if (!value) ctx.addIssue({ code: 'custom', path: [name], message: 'required for the WhatsApp Business Cloud API: WHATSAPP_CLOUD_TOKEN, WHATSAPP_CLOUD_PHONE_NUMBER_ID, WHATSAPP_CLOUD_APP_SECRET and WHATSAPP_CLOUD_VERIFY_TOKEN go together' });
        }
        if (env.WHATSAPP_WEB_ENABLED) {
          ctx.addIssue({ code: 'custom', path: ['WHATSAPP_WEB_ENABLED'], message: 'only one WhatsApp adapter can run at a time: set WHATSAPP_WEB_ENABLED=false to use the Cloud API, or unset the WHATSAPP_CLOUD_* variables to use WhatsApp Web' });
        }
      }
    }
    // @section messenger checks
    {
      const messenger = { MESSENGER_PAGE_TOKEN: env.MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET: env.MESSENGER_APP_SECRET, MESSENGER_VERIFY_TOKEN: env.MESSENGER_VERIFY_TOKEN };
      if (Object.values(messenger).some(Boolean)) {
        for (const [name, value] of Object.entries(messenger)) {
          if (!value) ctx.addIssue({ code: 'custom', path: [name], message: 'required for Facebook Messenger: MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET and MESSENGER_VERIFY_TOKEN go together' });
        }
      }
    }
    // @section jobs checks
    if (env.REMIND_AFTER < 15 * 60_000 || env.REMIND_AFTER > 30 * 60_000) {
      ctx.addIssue({ code: 'custom', path: ['REMIND_AFTER'], message: 'must be between 15m and 30m, as the support guideline says' });
    }
    if (env.ESCALATE_AFTER <= env.FIRST_RESPONSE_SLA) {
      ctx.addIssue({ code: 'custom', path: ['ESCALATE_AFTER'], message: 'must be longer than FIRST_RESPONSE_SLA: it is the second, louder alert' });
    }
    try {
      new Intl.DateTimeFormat('en', { timeZone: env.BUSINESS_TIMEZONE });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['BUSINESS_TIMEZONE'], message: `expected an IANA time zone like Europe/Berlin, got "${env.BUSINESS_TIMEZONE}"` });
    }
    if (env.JOBS_LEADER_LEASE < 3_000) {
      ctx.addIssue({ code: 'custom', path: ['JOBS_LEADER_LEASE'], message: 'must be at least 3s: the leader renews it every third of that' });
    }
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
  /** Timeouts: a client slower than these is dropped (headersTimeoutMs ≤ requestTimeoutMs). */
  /** `adminToken`: lets requests from elsewhere than this machine see the status page and /metrics. */
  http: { host: string; port: number; publicUrl?: string; headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; adminToken?: string };
  database: { uri?: string; dataDir: string };
  conversations: { reopenWindowMs: number };
  outbox: { leaseMs: number; pollIntervalMs: number; maxAttempts: number; sendTimeoutMs: number };
  telegram?: {
    token: string;
    operatorChatId: number;
    apiRoot: string;
    webhook?: { url: string; secret: string };
    adminIds: number[];
    /** Further bots in the operator group that only send: each brings its own share of the group's budget. */
    helperTokens: string[];
    dashboardIntervalMs: number;
    topicRenameDelayMs: number;
  };
  rateLimits: { telegramPerChatPerSecond: number; telegramPerGroupPerMinute: number; telegramGlobalPerSecond: number };
  shutdownTimeoutMs: number;
  companyName: string;
  /** The language of everything operators read in the group (templates/operator/<lang>.json). */
  operatorLanguage: string;
  /**
   * Other ways to reach the team, offered in the reminder to a silent customer: general ones, and per language
   * (`SUPPORT_PHONE_RU`...) for that language's customers.
   */
  contacts: Contacts & { byLanguage: Record<string, Contacts> };
  /** Auto-assignment of waiting chats to on-duty operators (src/assignment); `maxOpenPerOperator` caps each one's open chats. */
  assignment: { mode: 'off' | 'round_robin' | 'least_loaded'; maxOpenPerOperator: number };
  // @section email config type
  /** The e-mail channel (channels/email.ts): IMAP in, SMTP out, for one or more support mailboxes. */
  email?: {
    mailboxes: MailboxConfig[];
    pollIntervalMs: number;
    maxAttachmentSize: number;
  };
  // @section webchat config type
  /** The web chat widget (channels/webchat.ts). `secretGenerated`: WEBCHAT_SECRET was unset, a per-process secret is used. */
  webchat?: {
    secret: string;
    secretGenerated: boolean;
    /** `*` allows any origin. */
    allowedOrigins: string[];
    askContact: boolean;
    maxFileSize: number;
    allowedFileTypes: string[];
    ratePerMinute: number;
    ipRatePerMinute: number;
    tokenTtlMs: number;
    /** Open sockets per visitor (per gateway copy); one more closes the oldest. */
    tabsPerVisitor: number;
    ipConnectsPerMinute: number;
    /** How many of the latest messages a widget gets on connect. */
    historyMessages: number;
    unsentUploadTtlMs: number;
    uploadBytesPerHour: number;
    ipUploadBytesPerHour: number;
  };
  // @section vk config type
  vk?: { token: string; groupId: number; apiBaseUrl: string; callback?: { confirmationCode: string; secret: string } };
  // @section whatsapp config type
  whatsappCloud?: { token: string; phoneNumberId: string; appSecret: string; verifyToken: string; graphApiBaseUrl: string };
  /**
   * whatsapp-web.js; `dataDir` holds the unpacked browser profile while running (the session itself lives in MongoDB).
   * `catchUp`: on connecting, the chats and messages per chat read back for messages that came while away
   * (what is unset takes the adapter's default).
   */
  whatsappWeb?: { chromiumPath: string; dataDir: string; catchUp?: { chats?: number; messagesPerChat?: number } };
  // @section messenger config type
  messenger?: { pageToken: string; appSecret: string; verifyToken: string; graphApiBaseUrl: string };
  /** What a customer writes to ask for the erasure of their data (src/privacy/forget-request.ts); null: off. */
  forgetKeyword: string | null;
  // @section jobs config type
  jobs: {
    remindAfterMs: number;
    remindMax: number;
    autoCloseAfterMs: number;
    firstResponseSlaMs: number;
    escalateAfterMs: number;
    surveyDelayMs: number;
    surveyReplyWindowMs: number;
    archiveAfterMs: number;
    /** Archived chats whose last activity is older than this are erased (src/privacy); null: kept for ever. */
    retentionAfterMs: number | null;
    /** Working time for SLA timers and the out-of-hours notice; undefined means always open. */
    businessHours?: { schedule: string; timezone: string; holidays: string[] };
    leaderLeaseMs: number;
    pollIntervalMs: number;
  };
  // @section stats config type
  /** Scheduled /stats reports: daily at `dailyAt` (HH:MM), weekly on `weeklyDay` at the same time; null when off. */
  stats: { dailyAt: string | null; weeklyDay: 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun' | null; timezone: string };
}

/**
 * This process's name in outbox claims and leases, the same across restarts of one installation (host, port and
 * database), so that a gateway restarted after a crash takes its own unfinished claims back at once instead of
 * waiting for their lease. Copies on one host differ by port; with PORT=0 (tests) no name is stable.
 */
function defaultInstanceId(env: Env): string {
  const database = env.MONGODB_URI ?? path.resolve(env.DATA_DIR);
  const installation = createHash('sha256').update(`${database}|${env.PORT}`).digest('hex').slice(0, 8);
  return env.PORT === 0 ? `gw-${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}` : `gw-${os.hostname()}-${env.PORT}-${installation}`;
}

/** Parses the environment once; throws ConfigError naming every missing or invalid variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const blankAsUnset = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(blankAsUnset);
  const { mailboxes, problems: mailboxProblems } = parseMailboxes(blankAsUnset);
  const { byLanguage: contactsByLanguage, problems: contactProblems } = parseContactsByLanguage(blankAsUnset);
  const problems = [...(result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`)), ...mailboxProblems, ...contactProblems];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const env = result.data;
  return {
    env: env.NODE_ENV,
    instanceId: env.INSTANCE_ID ?? defaultInstanceId(env),
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY ? ['true', '1', 'yes'].includes(env.LOG_PRETTY) : env.NODE_ENV === 'development' },
    http: { host: env.HOST, port: env.PORT, publicUrl: env.PUBLIC_URL, headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT, requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT, keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT, adminToken: env.ADMIN_TOKEN },
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
            helperTokens: env.TELEGRAM_HELPER_BOT_TOKENS,
            dashboardIntervalMs: env.DASHBOARD_INTERVAL,
            topicRenameDelayMs: env.TOPIC_RENAME_DELAY,
          }
        : undefined,
    rateLimits: {
      telegramPerChatPerSecond: env.RATE_TELEGRAM_PER_CHAT_PER_SECOND,
      telegramPerGroupPerMinute: env.RATE_TELEGRAM_PER_GROUP_PER_MINUTE,
      telegramGlobalPerSecond: env.RATE_TELEGRAM_GLOBAL_PER_SECOND,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT,
    companyName: env.COMPANY_NAME,
    operatorLanguage: env.OPERATOR_LANGUAGE,
    contacts: { phone: env.SUPPORT_PHONE, email: env.SUPPORT_EMAIL, otherChannels: env.SUPPORT_OTHER_CHANNELS, byLanguage: contactsByLanguage },
    assignment: { mode: env.AUTO_ASSIGN, maxOpenPerOperator: env.MAX_OPEN_PER_OPERATOR },
    // @section email config value
    email: mailboxes.length > 0 ? { mailboxes, pollIntervalMs: env.EMAIL_POLL_INTERVAL, maxAttachmentSize: env.EMAIL_MAX_ATTACHMENT_SIZE } : undefined,
    // @section webchat config value
    webchat: env.WEBCHAT_ENABLED
      ? {
          secret: env.WEBCHAT_SECRET ?? Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex'),
          secretGenerated: !env.WEBCHAT_SECRET,
          allowedOrigins: env.WEBCHAT_ALLOWED_ORIGINS,
          askContact: env.WEBCHAT_ASK_CONTACT,
          maxFileSize: env.WEBCHAT_MAX_FILE_SIZE,
          allowedFileTypes: env.WEBCHAT_ALLOWED_FILE_TYPES,
          ratePerMinute: env.WEBCHAT_RATE_PER_MINUTE,
          ipRatePerMinute: env.WEBCHAT_IP_RATE_PER_MINUTE,
          tokenTtlMs: env.WEBCHAT_TOKEN_TTL,
          tabsPerVisitor: env.WEBCHAT_TABS_PER_VISITOR,
          ipConnectsPerMinute: env.WEBCHAT_IP_CONNECTS_PER_MINUTE,
          historyMessages: env.WEBCHAT_HISTORY_MESSAGES,
          unsentUploadTtlMs: env.WEBCHAT_UNSENT_UPLOAD_TTL,
          uploadBytesPerHour: env.WEBCHAT_UPLOAD_BYTES_PER_HOUR,
          ipUploadBytesPerHour: env.WEBCHAT_IP_UPLOAD_BYTES_PER_HOUR,
        }
      : undefined,
    // @section vk config value
    vk:
      env.VK_TOKEN && env.VK_GROUP_ID !== undefined
        ? {
            token: env.VK_TOKEN,
            groupId: env.VK_GROUP_ID,
            apiBaseUrl: env.VK_API_BASE_URL,
            callback: env.VK_CONFIRMATION_CODE && env.VK_CALLBACK_SECRET ? { confirmationCode: env.VK_CONFIRMATION_CODE, secret: env.VK_CALLBACK_SECRET } : undefined,
          }
        : undefined,
    // @section whatsapp config value
    whatsappCloud:
      env.WHATSAPP_CLOUD_TOKEN && env.WHATSAPP_CLOUD_PHONE_NUMBER_ID && env.WHATSAPP_CLOUD_APP_SECRET && env.WHATSAPP_CLOUD_VERIFY_TOKEN
        ? { token: env.WHATSAPP_CLOUD_TOKEN, phoneNumberId: env.WHATSAPP_CLOUD_PHONE_NUMBER_ID, appSecret: env.WHATSAPP_CLOUD_APP_SECRET, verifyToken: env.WHATSAPP_CLOUD_VERIFY_TOKEN, graphApiBaseUrl: env.GRAPH_API_BASE_URL }
        : undefined,
    whatsappWeb: env.WHATSAPP_WEB_ENABLED
      ? {
          chromiumPath: env.WHATSAPP_CHROMIUM_PATH,
          dataDir: `${env.DATA_DIR.replace(/\/+$/, '')}/whatsapp-web`,
          catchUp:
            env.WHATSAPP_CATCH_UP_CHATS !== undefined || env.WHATSAPP_CATCH_UP_MESSAGES !== undefined
              ? { chats: env.WHATSAPP_CATCH_UP_CHATS, messagesPerChat: env.WHATSAPP_CATCH_UP_MESSAGES }
              : undefined,
        }
      : undefined,
    // @section messenger config value
    messenger:
      env.MESSENGER_PAGE_TOKEN && env.MESSENGER_APP_SECRET && env.MESSENGER_VERIFY_TOKEN
        ? { pageToken: env.MESSENGER_PAGE_TOKEN, appSecret: env.MESSENGER_APP_SECRET, verifyToken: env.MESSENGER_VERIFY_TOKEN, graphApiBaseUrl: env.GRAPH_API_BASE_URL }
        : undefined,
    forgetKeyword: env.FORGET_KEYWORD,
    // @section jobs config value
    jobs: {
      remindAfterMs: env.REMIND_AFTER,
      remindMax: env.REMIND_MAX,
      autoCloseAfterMs: env.AUTO_CLOSE_AFTER,
      firstResponseSlaMs: env.FIRST_RESPONSE_SLA,
      escalateAfterMs: env.ESCALATE_AFTER,
      surveyDelayMs: env.SURVEY_DELAY,
      surveyReplyWindowMs: env.SURVEY_REPLY_WINDOW,
      archiveAfterMs: env.ARCHIVE_AFTER,
      retentionAfterMs: env.RETENTION_AFTER,
      businessHours: env.BUSINESS_HOURS ? { schedule: env.BUSINESS_HOURS, timezone: env.BUSINESS_TIMEZONE, holidays: env.HOLIDAYS } : undefined,
      leaderLeaseMs: env.JOBS_LEADER_LEASE,
      pollIntervalMs: env.JOBS_POLL_INTERVAL,
    },
    // @section stats config value
    stats: {
      dailyAt: env.REPORT_DAILY_AT === 'off' ? null : env.REPORT_DAILY_AT,
      weeklyDay: env.REPORT_WEEKLY_DAY === 'off' ? null : env.REPORT_WEEKLY_DAY,
      timezone: env.REPORT_TIMEZONE,
    },
  };
}
