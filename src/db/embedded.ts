import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from '../logger.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ensureScript = path.join(projectRoot, 'scripts/ensure-ferretdb.sh');

export interface EmbeddedDatabase {
  uri: string;
  stop(): Promise<void>;
}

/** Builds (once, cached) and starts FerretDB with its SQLite backend, data kept in `dataDir`. */
export async function startEmbeddedDatabase(options: { dataDir: string; dbName: string; port?: number; logger?: Logger }): Promise<EmbeddedDatabase> {
  const { stdout } = await promisify(execFile)('bash', [ensureScript], { maxBuffer: 1 << 20 });
  const binary = stdout.trim().split('\n').pop()!;
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const args = [
    '--handler=sqlite',
    // Immediate transactions take the write lock up front, so SQLite's busy timeout applies instead of failing
    // concurrent writers with SQLITE_BUSY (seen under 100 concurrent inbound messages).
    `--sqlite-url=file:${dataDir}/?_txlock=immediate`,
    `--listen-addr=127.0.0.1:${port}`,
    '--state-dir=-',
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=error',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  await waitForPort(port, child, () => stderr);
  options.logger?.info({ dataDir, port }, 'embedded FerretDB (SQLite) started because MONGODB_URI is not set');
  return {
    uri: `mongodb://127.0.0.1:${port}/${options.dbName}`,
    stop: () => stopChild(child),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode}: ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`FerretDB did not listen on port ${port} within 30 s: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
