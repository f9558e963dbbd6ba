import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { DatabaseHealth } from '../db/health-monitor.js';

export interface HealthSource {
  /** Kept current in the background: answering never waits for the database. */
  database(): DatabaseHealth;
  components(): Record<string, string>;
}

export interface HttpTimeouts {
  /** All headers of a request must arrive within this (a slowloris client sends them byte by byte). */
  headersTimeoutMs: number;
  /** A whole request, body included (an upload too), must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

const DEFAULT_TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 };

/** The gateway's one HTTP server: health, metrics, and whatever routes channels add (webhooks, web chat). */
export function createHttpServer(options: { logger: Logger; metrics: Metrics; health: HealthSource; bodyLimit?: number; timeouts?: HttpTimeouts }): FastifyInstance {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Webhooks and the web chat would log a line per request; the channels log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 25 * 1024 * 1024,
    // Slow clients are dropped: fastify's defaults would wait for them forever (requestTimeout 0). A socket idle
    // for longer than a whole request may take is dropped too. Upgraded WebSockets are not affected (the
    // WebSocket library turns the socket's timeout off and the server stops tracking the request).
    requestTimeout: timeouts.requestTimeoutMs,
    connectionTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Node checks these every connectionsCheckingInterval (30 s by default): checked every second instead.
    http: { headersTimeout: timeouts.headersTimeoutMs, requestTimeout: timeouts.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, timeouts.headersTimeoutMs) },
  });

  app.get('/healthz', async (_request, reply) => {
    const database = options.health.database();
    const components = options.health.components();
    const body = { status: database.up ? 'ok' : 'degraded', database: database.up ? 'up' : 'down', ...(database.up ? {} : { reason: `database: ${database.reason}` }), lastDatabaseContact: database.lastOkAt, components };
    return reply.code(database.up ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  return app;
}
