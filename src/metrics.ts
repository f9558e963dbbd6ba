import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one gateway process, exposed on GET /metrics. */
export function createMetrics(outboxDepth: () => Promise<number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    inbound: new Counter({ name: 'gateway_inbound_messages_total', help: 'Customer messages received, by channel', labelNames: ['channel'], registers: [registry] }),
    duplicates: new Counter({ name: 'gateway_inbound_duplicates_total', help: 'Inbound messages dropped as already stored', labelNames: ['channel'], registers: [registry] }),
    webhookRejected: new Counter({
      name: 'gateway_webhook_rejected_total',
      help: 'Webhook requests refused and inbound events skipped, by channel and reason (too_large, bad_signature, wrong_recipient, unreadable, handler_error)',
      labelNames: ['channel', 'reason'],
      registers: [registry],
    }),
    webchatFramesRefused: new Counter({
      name: 'gateway_webchat_frames_refused_total',
      help: 'Web chat WebSocket frames refused, by reason (too_large, malformed, unknown_type, over_budget, queue_full, unexpected_receipt)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    webchatConnectsRefused: new Counter({ name: 'gateway_webchat_connects_refused_total', help: 'Web chat WebSocket connects refused (429), by reason (address_rate, visitor_rate)', labelNames: ['reason'], registers: [registry] }),
    webchatSocketsClosed: new Counter({ name: 'gateway_webchat_sockets_closed_total', help: 'Web chat sockets the gateway closed, by reason (too_many_tabs, abuse, slow_reader)', labelNames: ['reason'], registers: [registry] }),
    webchatUploadsRefused: new Counter({ name: 'gateway_webchat_uploads_refused_total', help: 'Web chat uploads refused, by reason (rate, volume, concurrent, size, type)', labelNames: ['reason'], registers: [registry] }),
    webchatUnsentUploadsDeleted: new Counter({ name: 'gateway_webchat_unsent_uploads_deleted_total', help: 'Web chat uploads deleted because no message sent them in time', registers: [registry] }),
    delivered: new Counter({ name: 'gateway_outbox_delivered_total', help: 'Outbox items delivered, by route', labelNames: ['route'], registers: [registry] }),
    failed: new Counter({ name: 'gateway_outbox_failed_total', help: 'Outbox items that failed for good, by route', labelNames: ['route'], registers: [registry] }),
    retried: new Counter({ name: 'gateway_outbox_retries_total', help: 'Outbox attempts that will be retried, by route and kind', labelNames: ['route', 'kind'], registers: [registry] }),
    sendSeconds: new Histogram({ name: 'gateway_outbox_send_seconds', help: 'Time one delivery attempt took', labelNames: ['route'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    outboxDepth: new Gauge({
      name: 'gateway_outbox_depth',
      help: 'Outbox items waiting to be delivered',
      registers: [registry],
      async collect() {
        this.set(await outboxDepth());
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
