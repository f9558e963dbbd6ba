import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tsxLoader } from './gateway-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'stand-in-gateway-process.ts');

export interface Serving {
  pid: number | undefined;
  port: number;
  owner: boolean;
}

export interface StandInGateway {
  pid: number;
  /** Resolves with the first report (from the start on) that matches, or rejects after `timeoutMs`. */
  serving(matches: (serving: Serving) => boolean, timeoutMs?: number): Promise<Serving>;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Its log, JSON lines. */
  log(): string;
}

/**
 * test/support/stand-in-gateway-process.ts in a process of its own: a gateway reduced to its embedded database.
 * Node runs it with tsx as a loader, so the pid is the process that owns the database server (tsx's own CLI
 * would run it in a child process of its own, which a SIGKILL of the CLI leaves running).
 */
export function startStandInGateway(dataDir: string): StandInGateway {
  const child = spawn(process.execPath, ['--import', tsxLoader, script, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reports: Serving[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    reports.push(JSON.parse(line) as Serving);
    for (const waiter of waiters) waiter();
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  let ended = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      ended = true;
      for (const waiter of waiters) waiter();
      resolve();
    }),
  );
  return {
    pid: child.pid!,
    serving(matches, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          cleanup();
          reject(new Error(`${why}; reports: ${JSON.stringify(reports)}; log: ${log}`));
        };
        const check = () => {
          const found = reports.find(matches);
          if (found) {
            cleanup();
            resolve(found);
          } else if (ended) {
            fail('the stand-in gateway exited');
          }
        };
        const timer = setTimeout(() => fail(`no matching report within ${timeoutMs} ms`), timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    log: () => log,
  };
}
