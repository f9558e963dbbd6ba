import type { Logger } from './logger.js';

/**
 * The last error boundary: what escaped every other one is logged with what is known about it, and the gateway
 * goes on. Each such line is a bug to fix, but a long-running service that carries customers' messages must not
 * exit because one background promise was left without a catch (DESIGN.md: nothing in the background may kill
 * the process; what it holds is in the database anyway).
 */
export function guardProcess(logger: Logger): void {
  process.on('unhandledRejection', (reason) => logger.error({ err: reason, unhandled: 'rejection' }, 'unhandled promise rejection (a bug): logged, the gateway goes on'));
  process.on('uncaughtException', (error, origin) => logger.error({ err: error, unhandled: origin }, 'uncaught exception (a bug): logged, the gateway goes on'));
}
