import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { ensureFerretdbBinary } from './embedded-binary.js';
import { persistedPort } from './embedded-data-dir.js';
import { EmbeddedServerSupervisor } from './embedded-supervisor.js';

export interface EmbeddedDatabase {
  uri: string;
  /** The data directory's port: every server on it listens there, so `uri` stays valid across restarts. */
  port: number;
  /** The pid of the server serving now (this process's own or another gateway's); undefined between restarts. */
  readonly pid: number | undefined;
  /** Whether this process runs the server; false while it uses the one another gateway on `dataDir` runs. */
  readonly owner: boolean;
  /** Stops supervising, then stops this process's own server (another gateway's is left running). */
  stop(): Promise<void>;
}

/**
 * Builds FerretDB once (cached) and serves `dataDir` with it (SQLite backend), supervised: restarted when it exits
 * unexpectedly, never outliving this process, never two servers on one data directory (a server another gateway
 * runs on it is used instead). `port` overrides the data directory's own port (DATA_DIR/embedded-server.port).
 */
export async function startEmbeddedDatabase(options: { dataDir: string; dbName: string; port?: number; logger?: Logger }): Promise<EmbeddedDatabase> {
  const { logger } = options;
  const binary = await ensureFerretdbBinary((line) => (logger ? logger.info(line) : process.stderr.write(`${line}\n`)));
  await mkdir(options.dataDir, { recursive: true });
  // One spelling per directory: the server's command line names it, and other gateways look for that name.
  const dataDir = await realpath(path.resolve(options.dataDir));
  const port = options.port ?? (await persistedPort(dataDir));
  const supervisor = new EmbeddedServerSupervisor({ binary, dataDir, port, logger });
  await supervisor.start();
  logger?.info(
    { dataDir, port, serverPid: supervisor.pid },
    supervisor.owner ? 'embedded FerretDB (SQLite) started because MONGODB_URI is not set' : 'using the embedded FerretDB another gateway runs on this data directory',
  );
  return {
    uri: `mongodb://127.0.0.1:${port}/${options.dbName}`,
    port,
    get pid() {
      return supervisor.pid;
    },
    get owner() {
      return supervisor.owner;
    },
    stop: () => supervisor.stop(),
  };
}
