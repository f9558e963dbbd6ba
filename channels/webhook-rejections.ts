import type { FastifyInstance } from 'fastify';
import type { ChannelKind } from '../src/domain.js';
import type { Logger } from '../src/logger.js';

/**
 * Why a webhook request or an inbound event was refused or skipped (`gateway_webhook_rejected_total{reason}`):
 * - too_large: the body is over the route's limit (413, refused before the signature is checked);
 * - bad_signature: a missing or wrong signature or secret (403, nothing read);
 * - wrong_recipient: addressed to another community (VK's group_id);
 * - unreadable: signed, but not in the shape the gateway reads (acknowledged, so the platform stops resending it);
 * - handler_error: readable, but handling it failed in a way a retry won't fix (acknowledged too).
 */
export type RejectionReason = 'too_large' | 'bad_signature' | 'wrong_recipient' | 'unreadable' | 'handler_error';

/** The metrics counter as channels see it (prom-client's Counter fits). */
export interface RejectionCounter {
  inc(labels: { channel: ChannelKind; reason: RejectionReason }): void;
}

export interface RejectionReport {
  channel: ChannelKind;
  logger: Logger;
  rejected?: RejectionCounter;
}

/**
 * Routes of this (encapsulated) scope answer a body over their `bodyLimit` with 413, logged and counted. Fastify
 * refuses it from the Content-Length (or while reading), before the parser or the handler, so before any signature work.
 */
export function answerOversizedBodies(scope: FastifyInstance, report: RejectionReport & { limitBytes: number }): void {
  scope.setErrorHandler((error, request, reply) => {
    // Anything else goes on to the server's own error handler.
    if ((error as { code?: string }).code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
    report.logger.warn({ contentLength: request.headers['content-length'], limitBytes: report.limitBytes }, `${report.channel} webhook over the body limit refused`);
    report.rejected?.inc({ channel: report.channel, reason: 'too_large' });
    return reply.code(413).type('text/plain').send('payload too large');
  });
}
