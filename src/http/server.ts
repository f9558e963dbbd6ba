import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { DatabaseHealth } from '../db/health-monitor.js';

export interface HealthSource {
  /** Kept current in the background: answering never waits for the database. */
  database(): DatabaseHealth;
  components(): Record<string, string>;
}

/** The gateway's one HTTP server: health, metrics, and whatever routes channels add (webhooks, web chat). */
export function createHttpServer(options: { logger: Logger; metrics: Metrics; health: HealthSource; bodyLimit?: number }): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Webhooks and the web chat would log a line per request; the channels log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 25 * 1024 * 1024,
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
