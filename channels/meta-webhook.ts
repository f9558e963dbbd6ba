import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ChannelKind } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { InboundEvents } from './inbound-events.js';
import { answerOversizedBodies, type RejectionCounter } from './webhook-rejections.js';

/**
 * Meta batches up to 1000 events in one POST, each a few kB at most (media comes as links or ids), so 4 MB
 * leaves room; the server's own 25 MB limit (for the web chat's uploads) would let anyone make us hash 25 MB.
 */
export const META_WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024;

/** Every Meta webhook: which product it is for, and its entries (each channel reads its own entries). */
const envelopeSchema = z.object({ object: z.string(), entry: z.array(z.unknown()) });

/** Meta's webhook contract, shared by Messenger and the WhatsApp Cloud API. */
export interface MetaWebhookOptions {
  path: string;
  /** Shown in log lines: "Messenger", "WhatsApp". */
  label: string;
  channel: ChannelKind;
  verifyToken: string;
  appSecret: string;
  logger: Logger;
  /** Refused and skipped requests and events, by reason (the gateway's metrics). */
  rejected?: RejectionCounter;
  /** The `object` this webhook serves ('page', 'whatsapp_business_account'); others are acknowledged and ignored. */
  object: string;
  /** The body Meta expects back on success. */
  acknowledgement: string;
  ready(): boolean;
  /**
   * Handles the `entry` items of a verified payload, each event through `events` (unreadable ones are skipped
   * and counted). Throwing (the database is unreachable) makes the route answer 500 so Meta redelivers the batch.
   */
  handle(entries: unknown[], events: InboundEvents): Promise<void>;
}

/**
 * GET: the subscription handshake (hub.mode, hub.verify_token, echo hub.challenge). POST: events signed with
 * `X-Hub-Signature-256: sha256=HMAC(raw body, app secret)`, checked in constant time on the raw bytes;
 * anything unsigned or forged gets 403 and is not looked at, a body over META_WEBHOOK_BODY_LIMIT gets 413 before
 * that. A signed payload is answered 200 once everything readable in it is stored; what can't be read is
 * logged and counted, and acknowledged all the same: Meta would resend it for days and it would never read better.
 */
export async function registerMetaWebhook(app: FastifyInstance, options: MetaWebhookOptions): Promise<void> {
  const report = { channel: options.channel, logger: options.logger, rejected: options.rejected };
  const events = new InboundEvents(report);
  await app.register(async (scoped) => {
    // The signature covers the raw bytes, so this route (only this one: the plugin is encapsulated) keeps them.
    scoped.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    answerOversizedBodies(scoped, { ...report, limitBytes: META_WEBHOOK_BODY_LIMIT });

    scoped.get(options.path, async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      if (query['hub.mode'] === 'subscribe' && sameText(query['hub.verify_token'], options.verifyToken) && query['hub.challenge']) {
        return reply.type('text/plain').send(query['hub.challenge']);
      }
      options.logger.warn(`${options.label} webhook verification with a wrong verify token rejected`);
      return reply.code(403).type('text/plain').send('forbidden');
    });

    scoped.post(options.path, { bodyLimit: META_WEBHOOK_BODY_LIMIT }, async (request, reply) => {
      const raw = request.body;
      const acknowledge = () => reply.type('text/plain').send(options.acknowledgement);
      if (!Buffer.isBuffer(raw) || !validSignature(raw, request.headers['x-hub-signature-256'], options.appSecret)) {
        options.logger.warn(`${options.label} webhook with a missing or wrong X-Hub-Signature-256 rejected`);
        options.rejected?.inc({ channel: options.channel, reason: 'bad_signature' });
        return reply.code(403).type('text/plain').send('forbidden');
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        events.unreadable('webhook payload', 'not JSON');
        return acknowledge();
      }
      const payload = events.read(envelopeSchema, json, 'webhook payload');
      if (!payload || payload.object !== options.object) return acknowledge();
      if (!options.ready()) return reply.code(503).type('text/plain').send('not started');
      try {
        await options.handle(payload.entry, events);
      } catch (error) {
        // Meta redelivers a webhook that was not answered 200; the inbox drops what it already stored.
        options.logger.error({ err: error }, `${options.label} webhook could not be stored; Meta will send it again`);
        return reply.code(500).type('text/plain').send('retry');
      }
      return acknowledge();
    });
  });
}

function validSignature(raw: Buffer, header: string | string[] | undefined, appSecret: string): boolean {
  const match = typeof header === 'string' ? /^sha256=([0-9a-f]{64})$/i.exec(header) : null;
  if (!match) return false;
  const expected = createHmac('sha256', appSecret).update(raw).digest();
  return timingSafeEqual(Buffer.from(match[1]!, 'hex'), expected);
}

function sameText(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
