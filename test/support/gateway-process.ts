import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** tsx as a loader of this very node process: its CLI would run the gateway in a child a SIGKILL does not reach. */
export const tsxLoader = pathToFileURL(path.join(projectRoot, 'node_modules/tsx/dist/loader.mjs')).href;

export interface GatewayProcessOptions {
  /** The gateway's environment on top of a minimal one (PATH, HOME): no .env of the developer's is read. */
  env: Record<string, string>;
  /** Its working directory, default data directory (`<dir>/db`) and log (`<dir>/gateway.log`), kept across restarts. */
  dir?: string;
  /** Given: the gateway listens there and start() waits until /healthz answers 200. Not given: PORT=0. */
  port?: number;
}

/**
 * The real gateway (`src/main.ts`, as `npm start` runs it) as a process of its own, started in its own working
 * directory so no developer's `.env` leaks in. Its log (JSON lines) is appended to `<dir>/gateway.log` across
 * restarts.
 */
export class GatewayProcess {
  readonly dir: string;
  readonly logPath: string;
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(private readonly options: GatewayProcessOptions) {
    this.dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'gateway-process-'));
    this.logPath = path.join(this.dir, 'gateway.log');
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 120_000): Promise<void> {
    const log = createWriteStream(this.logPath, { flags: 'a' });
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(projectRoot, 'src/main.ts')], {
      cwd: this.dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? this.dir,
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        DATA_DIR: path.join(this.dir, 'db'),
        PORT: String(this.options.port ?? 0),
        HOST: '127.0.0.1',
        WEBCHAT_ENABLED: 'false',
        ...this.options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    // 'close' comes after the last output, unlike 'exit'.
    child.once('close', () => log.end());
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    // Never outlive the test run, whatever happens to the test.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    void this.exited.then(() => process.off('exit', killOnExit));
    if (this.options.port === undefined) return;
    const deadline = Date.now() + timeoutMs;
    while (!(await this.healthy())) {
      if (!this.alive()) throw new Error(`the gateway exited during start (${child.exitCode ?? child.signalCode}): ${await this.output()}`);
      if (Date.now() > deadline) throw new Error(`the gateway did not become healthy within ${timeoutMs} ms; see ${this.logPath}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200;
    } catch {
      return false;
    }
  }

  alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** `kill -9`: no handler runs, nothing is flushed. Resolves with the exit code (null: killed by the signal). */
  kill9(): Promise<number | null> {
    return this.signal('SIGKILL');
  }

  /** A graceful stop (SIGTERM), as `docker stop` does. Resolves with the exit code. */
  stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<number | null> {
    if (this.alive()) this.child!.kill(signal);
    return (await this.exited) ?? null;
  }

  /** The end of what it logged, for a failing test's message. */
  async output(): Promise<string> {
    return (await readFile(this.logPath, 'utf8').catch(() => '')).slice(-20_000);
  }

  /** The JSON lines it logged (all runs), parsed; lines that are not JSON are skipped. */
  async logLines(): Promise<Array<Record<string, unknown>>> {
    return (await readFile(this.logPath, 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }
}
