import type { Logger } from '../logger.js';
import { isListening, readHolder, type ServerHolder } from './embedded-data-dir.js';
import { endsWithin, findServersWithoutLock, isRunning, stopProcess } from './embedded-processes.js';
import { DataDirTakenError, startServerProcess, type ServerProcess } from './embedded-server-process.js';

/** This process either runs the data directory's server (owner) or uses the one another gateway runs (guest). */
type Serving = { role: 'owner'; server: ServerProcess; since: number } | { role: 'guest'; holder: ServerHolder };

const firstRestartDelayMs = 500;
const maxRestartDelayMs = 30_000;
/** A server that stayed up this long crashed for a new reason: its restart waits the first delay again. */
const stableAfterMs = 60_000;
const guestCheckIntervalMs = 1000;
/** How long a server left by a gateway that is gone gets to stop by itself, then after SIGTERM. */
const leftoverGraceMs = 2000;
const acquireTimeoutMs = 30_000;

/**
 * Keeps one embedded database server serving a data directory on a fixed port, for as long as this process
 * wants it. The owner restarts its server when it exits unexpectedly, with exponential backoff, each restart
 * logged; a guest checks every second that the owner's server still runs and, when it does not and the owner
 * is gone, serves the directory itself on the same port. Nothing here throws once `start` has resolved.
 */
export class EmbeddedServerSupervisor {
  private serving: Serving | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private restarts = 0;
  private role: Serving['role'] | undefined;

  constructor(private readonly options: { binary: string; dataDir: string; port: number; logger?: Logger }) {}

  get pid(): number | undefined {
    if (!this.serving) return undefined;
    return this.serving.role === 'owner' ? this.serving.server.pid : this.serving.holder.serverPid;
  }

  /** Whether this process runs the server, also while it waits to restart it. */
  get owner(): boolean {
    return this.role === 'owner';
  }

  /** Serves the data directory the first time; rejects if it cannot. */
  async start(): Promise<void> {
    this.serve(await this.acquire());
  }

  /** Stops the supervision, then this process's own server if it runs one. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.recovering;
    const serving = this.serving;
    this.serving = undefined;
    if (serving?.role === 'owner') await serving.server.stop();
  }

  /** Finds who serves the data directory, or starts this process's own server. */
  private async acquire(): Promise<Serving> {
    const { binary, dataDir, port, logger } = this.options;
    const deadline = Date.now() + acquireTimeoutMs;
    let portChecks = 0;
    for (;;) {
      const holder = await readHolder(dataDir);
      if (holder) {
        if (await isRunning(holder.ownerPid)) {
          if (holder.port !== port) throw new Error(`another gateway serves ${dataDir} on port ${holder.port}, not ${port}`);
          return { role: 'guest', holder };
        }
        // Its gateway is gone, so it is stopping on its own (its stdin closed). A second SIGTERM would cut its
        // graceful stop short, so it gets a moment first; one that hangs is stopped here.
        if (await endsWithin(holder.serverPid, leftoverGraceMs)) continue;
        logger?.warn({ serverPid: holder.serverPid, ownerPid: holder.ownerPid }, 'stopping the embedded database server of a gateway that is gone');
        await stopProcess(holder.serverPid, leftoverGraceMs);
        continue;
      }
      for (const pid of await findServersWithoutLock(dataDir)) {
        logger?.warn({ serverPid: pid, dataDir }, 'stopping an embedded database server on this data directory left by an earlier version');
        await stopProcess(pid, leftoverGraceMs);
      }
      if (await isListening(port)) {
        // A server may be starting this instant and about to name itself in the lock file: look again first.
        if ((portChecks += 1) < 3) {
          await sleep(200);
          continue;
        }
        throw new Error(`port ${port}, kept for the embedded database in ${dataDir}/embedded-server.port, is used by another program: stop it, or delete that file to pick a new port`);
      }
      try {
        return { role: 'owner', server: await startServerProcess({ binary, dataDir, port }), since: Date.now() };
      } catch (error) {
        if (!(error instanceof DataDirTakenError) || Date.now() > deadline) throw error;
        await sleep(100); // another gateway started first: it names itself in the lock file at once
      }
    }
  }

  private serve(serving: Serving): void {
    this.serving = serving;
    this.role = serving.role;
    if (serving.role === 'owner') {
      const { server } = serving;
      void server.exited.then((exit) => {
        if (this.stopped || this.serving?.role !== 'owner' || this.serving.server !== server) return;
        if (Date.now() - serving.since >= stableAfterMs) this.restarts = 0;
        const delayMs = Math.min(maxRestartDelayMs, firstRestartDelayMs * 2 ** this.restarts);
        this.restarts += 1;
        this.options.logger?.warn({ serverPid: server.pid, ...exit, stderr: server.stderrTail(), restartInMs: delayMs }, 'the embedded database server exited unexpectedly; restarting it');
        this.serving = undefined;
        this.schedule(delayMs);
      });
    } else {
      this.schedule(guestCheckIntervalMs);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.recovering = this.recover().finally(() => (this.recovering = undefined));
    }, delayMs);
  }

  /** After the owner's server exited, or at a guest's check: serve again, and on failure try again later. */
  private async recover(): Promise<void> {
    const { dataDir, logger } = this.options;
    const previous = this.serving;
    try {
      if (previous?.role === 'guest') {
        const holder = await readHolder(dataDir);
        if (holder && (await isRunning(holder.ownerPid))) {
          // Still served (by the same server, or by the one its owner or another guest started since).
          this.serve({ role: 'guest', holder });
          return;
        }
      }
      const serving = await this.acquire();
      if (this.stopped) {
        if (serving.role === 'owner') await serving.server.stop();
        return;
      }
      if (serving.role === 'owner') {
        const message = previous?.role === 'guest' ? 'the embedded database server another gateway ran is gone: this gateway runs one now' : 'embedded database server started again';
        logger?.info({ serverPid: serving.server.pid, port: this.options.port }, message);
      } else if (previous?.role !== 'guest') {
        logger?.info({ serverPid: serving.holder.serverPid }, 'the embedded database is now served by another gateway');
      }
      this.serve(serving);
    } catch (error) {
      this.serving = undefined;
      const delayMs = Math.min(maxRestartDelayMs, firstRestartDelayMs * 2 ** this.restarts);
      this.restarts += 1;
      logger?.error({ err: error, retryInMs: delayMs }, 'could not serve the embedded database; trying again');
      this.schedule(delayMs);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
