import { randomUUID } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { isRunning, isServerOn } from './embedded-processes.js';
import { freePort } from '../util/free-port.js';

// The two files the gateway keeps in DATA_DIR beside the SQLite files, for the embedded database server.

/**
 * The server on a data directory holds an exclusive flock on this file while it runs (the kernel drops it when
 * the server ends, however it ends) and names itself in it: see scripts/ferretdb-patches/data_dir_lock.go. The
 * file is never deleted: a server that opened it would keep a lock on a file nobody else could find.
 */
export function lockFilePath(dataDir: string): string {
  return path.join(dataDir, 'embedded-server.lock');
}

/** The port every server on this data directory listens on, so connections made to it survive a restart. */
function portFilePath(dataDir: string): string {
  return path.join(dataDir, 'embedded-server.port');
}

export interface ServerHolder {
  serverPid: number;
  /** The process that started the server: the gateway that supervises it. */
  ownerPid: number;
  port: number;
}

/** The running server that holds the data directory, if any. */
export async function readHolder(dataDir: string): Promise<ServerHolder | undefined> {
  // A new holder empties the file before it writes itself in: read again after a moment if it was caught between.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const text = await readFile(lockFilePath(dataDir), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const holder = parseHolder(text);
    if (holder) return (await isRunning(holder.serverPid)) && (await isServerOn(holder.serverPid, dataDir)) ? holder : undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

function parseHolder(text: string): ServerHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<ServerHolder>;
    const valid = [value.serverPid, value.ownerPid, value.port].every((n) => Number.isInteger(n) && n! > 0);
    return valid ? (value as ServerHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** The data directory's port: the one its first start picked, kept in DATA_DIR/embedded-server.port. */
export async function persistedPort(dataDir: string): Promise<number> {
  const file = portFilePath(dataDir);
  const read = async () => {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const port = Number(text.trim());
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${file} does not hold a port number; delete it to pick a new port`);
    return port;
  };
  const existing = await read();
  if (existing) return existing;
  // Written whole under a name of its own, then linked into place, which fails if the file exists: of two first
  // starts at once, one picks the port and the other reads it, never half-written.
  const draft = `${file}.${process.pid}.${randomUUID()}`;
  await writeFile(draft, `${await freePort()}\n`);
  try {
    await link(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(draft, { force: true });
  }
  return (await read())!;
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export async function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
