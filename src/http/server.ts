import cookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { DatabaseHealth } from '../db/health-monitor.js';
import type { StatusSource } from './gateway-status.js';
import { registerStatusPage } from './status-page.js';
import { teamAccess } from './team-access.js';

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

/**
 * The gateway's one HTTP server: health for everyone; the status page (with `status`) and metrics for the team only
 * (this machine, or ADMIN_TOKEN: its port faces the internet); and whatever routes channels add (webhooks, web chat).
 */
export async function createHttpServer(options: {
  logger: Logger;
  metrics: Metrics;
  health: HealthSource;
  /** Serves the status page at GET / when given. */
  status?: StatusSource;
  adminToken?: string;
  bodyLimit?: number;
  timeouts?: HttpTimeouts;
}): Promise<FastifyInstance> {
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

  const access = teamAccess(options.adminToken);
  await app.register(cookie);
  app.get('/metrics', async (request, reply) => {
    if (!access.allows(request)) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'metrics are for the team: ask from this machine or with Authorization: Bearer <ADMIN_TOKEN>' });
    reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });
  if (options.status) await registerStatusPage(app, { source: options.status, access });

  return app;
}
