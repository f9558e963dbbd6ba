import { spawn } from 'node:child_process';
import { isListening, lockFilePath, readHolder } from './embedded-data-dir.js';
import { sqliteUrlFlag } from './embedded-processes.js';

/** scripts/ferretdb-patches/data_dir_lock.go exits with this code when another server holds the data directory. */
const dataDirLockedExitCode = 75;
const startTimeoutMs = 30_000;

/** Another server took the data directory first. */
export class DataDirTakenError extends Error {}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One FerretDB process serving a data directory, started by this process. */
export interface ServerProcess {
  pid: number;
  /** Resolves when the process has ended, for whatever reason. */
  exited: Promise<ServerExit>;
  /** The last lines it wrote to stderr. */
  stderrTail(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it has ended. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts FerretDB (SQLite backend) on `dataDir` and resolves once it accepts connections on `port`.
 * It runs in a session of its own, so a Ctrl+C in the terminal reaches only the gateway, which stops it after its
 * own graceful shutdown; and it ends when its stdin, a pipe from this process, closes: when this process ends,
 * however it ends (scripts/ferretdb-patches/parent_watch.go).
 */
export async function startServerProcess(options: { binary: string; dataDir: string; port: number }): Promise<ServerProcess> {
  const { binary, dataDir, port } = options;
  const args = [
    '--handler=sqlite',
    sqliteUrlFlag(dataDir),
    `--listen-addr=127.0.0.1:${port}`,
    '--state-dir=-',
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=error',
  ];
  const env = {
    ...process.env,
    SUPPORT_GATEWAY_EXIT_WITH_STDIN: '1',
    SUPPORT_GATEWAY_LOCK_FILE: lockFilePath(dataDir),
    SUPPORT_GATEWAY_PORT: String(port),
  };
  const child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env });
  child.stdin!.on('error', () => {}); // never written to; only its closing matters
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<ServerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let ended: ServerExit | undefined;
  void exited.then((exit) => (ended = exit));
  const stderrTail = () => stderr.trim().split('\n').slice(-5).join('\n');

  const server: ServerProcess = {
    pid: child.pid ?? -1,
    exited,
    stderrTail,
    async stop(graceMs = 5000) {
      if (ended) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (ended) {
      if (ended.code === dataDirLockedExitCode) throw new DataDirTakenError(`another server holds ${lockFilePath(dataDir)}`);
      throw new Error(`the embedded database server (FerretDB) exited with ${ended.signal ?? `code ${ended.code}`} at start: ${stderrTail()}`);
    }
    // Listening, and holding the data directory: not a server another gateway started at the same moment.
    if ((await isListening(port)) && (await readHolder(dataDir))?.serverPid === server.pid) return server;
    if (Date.now() > deadline) {
      await server.stop(0);
      throw new Error(`the embedded database server (FerretDB) did not listen on port ${port} within ${startTimeoutMs / 1000} s: ${stderrTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
