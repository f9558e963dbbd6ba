import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../src/logger.js';

/** Meta's webhook contract, shared by Messenger and the WhatsApp Cloud API. */
export interface MetaWebhookOptions<Payload extends { object?: string }> {
  path: string;
  /** Shown in log lines: "Messenger", "WhatsApp". */
  label: string;
  verifyToken: string;
  appSecret: string;
  logger: Logger;
  /** The `object` this webhook serves ('page', 'whatsapp_business_account'); others are acknowledged and ignored. */
  object: string;
  /** The body Meta expects back on success. */
  acknowledgement: string;
  ready(): boolean;
  /** Handles a verified payload; throwing makes the route answer 500 so Meta redelivers the batch. */
  handle(payload: Payload): Promise<void>;
}

/**
 * GET: the subscription handshake (hub.mode, hub.verify_token, echo hub.challenge). POST: events signed with
 * `X-Hub-Signature-256: sha256=HMAC(raw body, app secret)`, checked in constant time on the raw bytes;
 * anything unsigned or forged gets 403 and is not looked at.
 */
export async function registerMetaWebhook<Payload extends { object?: string }>(app: FastifyInstance, options: MetaWebhookOptions<Payload>): Promise<void> {
  await app.register(async (scoped) => {
    // The signature covers the raw bytes, so this route (only this one: the plugin is encapsulated) keeps them.
    scoped.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    scoped.get(options.path, async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      if (query['hub.mode'] === 'subscribe' && sameText(query['hub.verify_token'], options.verifyToken) && query['hub.challenge']) {
        return reply.type('text/plain').send(query['hub.challenge']);
      }
      options.logger.warn(`${options.label} webhook verification with a wrong verify token rejected`);
      return reply.code(403).type('text/plain').send('forbidden');
    });

    scoped.post(options.path, async (request, reply) => {
      const raw = request.body;
      if (!Buffer.isBuffer(raw) || !validSignature(raw, request.headers['x-hub-signature-256'], options.appSecret)) {
        options.logger.warn(`${options.label} webhook with a missing or wrong X-Hub-Signature-256 rejected`);
        return reply.code(403).type('text/plain').send('forbidden');
      }
      let payload: Payload;
      try {
        payload = JSON.parse(raw.toString('utf8')) as Payload;
      } catch {
        return reply.code(400).type('text/plain').send('bad json');
      }
      if (payload.object !== options.object) return reply.type('text/plain').send(options.acknowledgement);
      if (!options.ready()) return reply.code(503).type('text/plain').send('not started');
      try {
        await options.handle(payload);
      } catch (error) {
        // Meta redelivers a webhook that was not answered 200; the inbox drops what it already stored.
        options.logger.error({ err: error }, `${options.label} webhook event could not be handled`);
        return reply.code(500).type('text/plain').send('retry');
      }
      return reply.type('text/plain').send(options.acknowledgement);
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
