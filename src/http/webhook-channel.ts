import type { FastifyInstance } from 'fastify';

/** A channel or console that receives webhooks on the gateway's HTTP server. */
export interface HasHttpRoutes {
  registerRoutes(app: FastifyInstance): void | Promise<void>;
}

export function hasHttpRoutes(value: unknown): value is HasHttpRoutes {
  return typeof (value as HasHttpRoutes | undefined)?.registerRoutes === 'function';
}
