import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureFerretdbBinary } from '../src/db/embedded-binary.js';
import { findServersOn, isRunning, sqliteUrlFlag } from '../src/db/embedded-processes.js';
import { waitFor } from './support/wait.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.js';
import { startStandInGateway, type StandInGateway } from './support/stand-in-gateway.js';
import { tsxLoader } from './support/gateway-process.js';

// Real processes throughout: stand-in gateways (test/support/stand-in-gateway-process.ts) and FerretDB servers
// are started, killed with SIGKILL and frozen with SIGSTOP like a crash would.

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), prefix)));
  cleanups.push(async () => {
    // Nothing of a test may outlive it; a server that does would keep writing the removed directory.
    await waitFor('no server left on the directory', async () => (await findServersOn(dir)).length === 0, 5000).catch(async () => {
      for (const pid of await findServersOn(dir)) process.kill(pid, 'SIGKILL');
    });
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

function standIn(dataDir: string): StandInGateway {
  const gateway = startStandInGateway(dataDir);
  cleanups.push(() => gateway.kill('SIGKILL'));
  return gateway;
}

async function embedded(options: Parameters<typeof startEmbeddedDatabase>[0]): Promise<EmbeddedDatabase> {
  const database = await startEmbeddedDatabase(options);
  cleanups.push(() => database.stop());
  return database;
}

/** The running FerretDB processes serving `dataDir`, whoever started them. */
function capturingLogger() {
  const entries: { level: number; msg: string; [key: string]: unknown }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void entries.push(JSON.parse(line)) });
  return { logger, entries };
}

describe('the embedded database server', () => {
  it('ends within moments when its gateway is killed with SIGKILL, leaving no server behind', async () => {
    const dataDir = await tempDir('embedded-orphan-');
    const gateway = standIn(dataDir);
    const { pid } = await gateway.serving((s) => s.owner);
    expect(await findServersOn(dataDir)).toEqual([pid]);

    const killedAt = Date.now();
    await gateway.kill('SIGKILL');
    await waitFor('the server to end with its gateway', async () => !(await isRunning(pid!)), 3000);

    expect(Date.now() - killedAt).toBeLessThan(2000);
    expect(await findServersOn(dataDir)).toEqual([]);
  });

  it('is restarted on the same port when it dies, logged, and a connected client finds the data written before', async () => {
    const dataDir = await tempDir('embedded-restart-');
    const { logger, entries } = capturingLogger();
    const database = await embedded({ dataDir, dbName: 'restart', logger });
    const connection = await mongoose.createConnection(database.uri, { serverSelectionTimeoutMS: 10_000 }).asPromise();
    cleanups.push(() => connection.close());
    await connection.db!.collection('things').insertOne({ _id: 'before' as never, written: true });
    const first = database.pid!;

    process.kill(first, 'SIGKILL');
    const restartedAfterMs = await waitFor('a restarted server', () => database.pid !== undefined && database.pid !== first, 10_000);

    expect(restartedAfterMs).toBeLessThan(3000);
    expect(database.owner).toBe(true);
    expect(await findServersOn(dataDir)).toEqual([database.pid]);
    expect(await connection.db!.collection('things').findOne({ _id: 'before' as never })).toMatchObject({ written: true });
    expect(entries).toContainEqual(expect.objectContaining({ level: 40, serverPid: first, signal: 'SIGKILL', msg: expect.stringMatching(/exited unexpectedly/) }));

    // stop() ends the supervision first: nothing restarts the server after it. (Closed first, as the gateway does:
    // FerretDB gives open connections 3 s before it stops.)
    await connection.close();
    const last = database.pid!;
    await database.stop();
    expect(await isRunning(last)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await findServersOn(dataDir)).toEqual([]);
  });

  it('is shared by a second gateway on the same data directory, which takes over on the same port when the first is killed', async () => {
    const dataDir = await tempDir('embedded-shared-');
    const first = standIn(dataDir);
    const firstServing = await first.serving((s) => s.owner);
    const second = standIn(dataDir);
    const secondServing = await second.serving(() => true);

    expect(secondServing).toEqual({ pid: firstServing.pid, port: firstServing.port, owner: false });
    expect(await findServersOn(dataDir)).toEqual([firstServing.pid]);

    await first.kill('SIGKILL');
    const takenOver = await second.serving((s) => s.owner && s.pid !== firstServing.pid, 5000);

    expect(takenOver.port).toBe(firstServing.port);
    expect(await findServersOn(dataDir)).toEqual([takenOver.pid]);
    expect(second.log()).toMatch(/another gateway ran is gone: this gateway runs one now/);
  });

  it('is one server for gateways that start on one data directory at the same moment', async () => {
    const dataDir = await tempDir('embedded-race-');

    // Four supervisors in this process race as four gateways would: each runs the whole start on its own.
    const serving = await Promise.all([1, 2, 3, 4].map(() => embedded({ dataDir, dbName: 'race' })));

    expect(serving.filter((s) => s.owner)).toHaveLength(1);
    expect(new Set(serving.map((s) => `${s.pid}:${s.port}`)).size).toBe(1);
    expect(await findServersOn(dataDir)).toEqual([serving[0]!.pid]);
  });

  it('left running by a gateway that crashed, and not stopping by itself, is stopped and replaced', async () => {
    const dataDir = await tempDir('embedded-hung-');
    const crashed = standIn(dataDir);
    const { pid: hung, port } = await crashed.serving((s) => s.owner);
    process.kill(hung!, 'SIGSTOP'); // frozen: it cannot notice that its gateway is gone
    cleanups.push(async () => {
      if (await isRunning(hung!)) process.kill(hung!, 'SIGKILL');
    });
    await crashed.kill('SIGKILL');

    const database = await embedded({ dataDir, dbName: 'hung' });

    expect(database.owner).toBe(true);
    expect(database.port).toBe(port);
    expect(await isRunning(hung!)).toBe(false);
    expect(await findServersOn(dataDir)).toEqual([database.pid]);
  });

  it('starts normally after a crashed run whose lock file names processes that are gone', async () => {
    const dataDir = await tempDir('embedded-stale-');
    const gone = () => spawnSync('true').pid;
    await writeFile(path.join(dataDir, 'embedded-server.lock'), JSON.stringify({ serverPid: gone(), ownerPid: gone(), port: 1 }));

    const database = await embedded({ dataDir, dbName: 'stale' });

    expect(database.owner).toBe(true);
    expect(await findServersOn(dataDir)).toEqual([database.pid]);
  });

  it('stops a server that an earlier version left running on the same data directory before starting its own', async () => {
    const dataDir = await tempDir('embedded-earlier-');
    const binary = await ensureFerretdbBinary(() => {});
    // Started as the gateway did before the lock existed: no lock, no watching its stdin.
    const earlier = spawn(binary, ['--handler=sqlite', sqliteUrlFlag(dataDir), '--listen-addr=127.0.0.1:0', '--state-dir=-', '--debug-addr=-', '--telemetry=disable'], { stdio: 'ignore' });
    cleanups.push(async () => void earlier.kill('SIGKILL'));
    await waitFor('the earlier server to run', async () => (await findServersOn(dataDir)).includes(earlier.pid!), 5000);

    const database = await embedded({ dataDir, dbName: 'earlier' });

    expect(await isRunning(earlier.pid!)).toBe(false);
    expect(await findServersOn(dataDir)).toEqual([database.pid]);
  });
});

describe('the port of a data directory', () => {
  it('stays the same across starts, so connections made to it stay valid', async () => {
    const dataDir = await tempDir('embedded-port-');
    const first = await embedded({ dataDir, dbName: 'port' });
    await first.stop();

    const second = await embedded({ dataDir, dbName: 'port' });

    expect(second.port).toBe(first.port);
    expect(second.pid).not.toBe(first.pid);
  });

  it('is refused in one sentence when another program listens on it', async () => {
    const dataDir = await tempDir('embedded-port-taken-');
    const other = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => other.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => other.close(resolve)));
    const { port } = other.address() as net.AddressInfo;
    await writeFile(path.join(dataDir, 'embedded-server.port'), `${port}\n`);

    await expect(startEmbeddedDatabase({ dataDir, dbName: 'taken' })).rejects.toThrow(`port ${port}, kept for the embedded database in ${dataDir}/embedded-server.port, is used by another program`);
    expect(await findServersOn(dataDir)).toEqual([]);
  });
});

describe('the first start on a machine without Go', () => {
  it('says in one line that Go is needed (or MONGODB_URI) and the gateway exits with code 1', async () => {
    const home = await tempDir('embedded-no-go-');
    const pathWithoutGo = (process.env.PATH ?? '').split(':').filter((dir) => dir && !existsSync(path.join(dir, 'go'))).join(':');
    const env = { HOME: home, PATH: pathWithoutGo, FERRETDB_CACHE_DIR: path.join(home, 'cache'), DATA_DIR: path.join(home, 'data'), PORT: '0' };

    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', tsxLoader, path.join(projectRoot, 'src/main.ts')], { cwd: home, env }, (error, stdout, stderr) =>
        resolve({ code: child.exitCode, output: stdout + stderr }),
      );
    });

    expect(result.output).toBe('The gateway could not start: The embedded database needs Go to build FerretDB once (https://go.dev/dl/), or set MONGODB_URI to use your own MongoDB.\n');
    expect(result.code).toBe(1);
  });
});
