import type mongoose from 'mongoose';
import type { Logger } from '../logger.js';

export interface DatabaseHealth {
  up: boolean;
  /** The last round trip that succeeded. */
  lastOkAt?: Date;
  /** Why it is considered down. */
  reason?: string;
}

export interface DatabaseMonitorOptions {
  logger: Logger;
  /** How often the database is pinged. */
  intervalMs?: number;
  /** A ping not answered within this long counts as the database being unreachable. */
  timeoutMs?: number;
}

/**
 * Pings the database in the background and keeps the answer, so /healthz answers from memory within
 * milliseconds whatever the database's load, and an outage is logged once when it starts and once when it ends.
 * Also the one listener of the connection's 'error' events, which would otherwise be thrown.
 */
export class DatabaseMonitor {
  private health: DatabaseHealth = { up: true, lastOkAt: new Date() };
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly connection: mongoose.Connection,
    private readonly options: DatabaseMonitorOptions,
  ) {
    connection.on('error', (error: unknown) => this.options.logger.warn({ err: error }, 'database connection error'));
  }

  state(): DatabaseHealth {
    return this.health;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.round();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private async round(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.connection.db!.admin().ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer to a ping within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.set({ up: true, lastOkAt: new Date() });
    } catch (error) {
      this.set({ up: false, lastOkAt: this.health.lastOkAt, reason: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
    if (this.running) this.timer = setTimeout(() => void this.round(), this.options.intervalMs ?? 1000);
  }

  private set(next: DatabaseHealth): void {
    // A ping cut short by the gateway closing its connection says nothing about the database.
    if (!this.running) return;
    if (next.up && !this.health.up) this.options.logger.info({ downSince: this.health.lastOkAt }, 'the database is reachable again');
    if (!next.up && this.health.up) this.options.logger.error({ reason: next.reason }, 'the database is unreachable: customer messages wait at their channels and outward sends wait in the outbox');
    this.health = next;
  }
}
