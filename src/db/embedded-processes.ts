import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

// Looking at other processes: is it still running, is it an embedded database server, and stopping one.
// Linux answers from /proc; elsewhere `ps` names a process and stray servers are not searched for.

const hasProc = existsSync('/proc/self/stat');

/** The `--sqlite-url` flag the gateway starts a server on `dataDir` with; it identifies that server's process. */
export function sqliteUrlFlag(dataDir: string): string {
  // Immediate transactions take the write lock up front, so SQLite's busy timeout applies instead of failing
  // concurrent writers with SQLITE_BUSY (seen under 100 concurrent inbound messages).
  return `--sqlite-url=file:${dataDir}/?_txlock=immediate`;
}

/** True while `pid` runs. A zombie (ended, not yet reaped by the process that inherited it) has ended. */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!hasProc) return true;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

async function commandLine(pid: number): Promise<string | undefined> {
  if (hasProc) {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return raw ? raw.split('\0').join(' ') : undefined;
  }
  const { stdout } = await promisify(execFile)('ps', ['-o', 'args=', '-p', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.trim() || undefined;
}

/** Whether `pid` is a FerretDB server started on `dataDir`: checked before that pid is trusted or stopped. */
export async function isServerOn(pid: number, dataDir: string): Promise<boolean> {
  const line = await commandLine(pid);
  return line !== undefined && line.includes('ferretdb') && line.includes(sqliteUrlFlag(dataDir));
}

/** The running FerretDB servers started on `dataDir` (Linux only: elsewhere none are searched for). */
export async function findServersOn(dataDir: string): Promise<number[]> {
  if (!hasProc) return [];
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) if (pid !== process.pid && (await isServerOn(pid, dataDir)) && (await isRunning(pid))) found.push(pid);
  return found;
}

/**
 * Servers on `dataDir` that do not take the data directory's lock: started by a gateway before the lock existed,
 * or by hand. Servers that take the lock are left out, even one that has not taken it yet: the lock keeps them
 * off a directory another server holds.
 */
export async function findServersWithoutLock(dataDir: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await findServersOn(dataDir)) {
    const environment = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => undefined);
    if (environment !== undefined && !environment.split('\0').some((entry) => entry.startsWith('SUPPORT_GATEWAY_LOCK_FILE='))) found.push(pid);
  }
  return found;
}

/** SIGTERM (a graceful stop), SIGKILL if it is still running after `graceMs`; resolves once it has ended. */
export async function stopProcess(pid: number, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  // A stopped (frozen) process handles SIGTERM only once it runs again.
  signal('SIGCONT');
  if (await endsWithin(pid, graceMs)) return;
  signal('SIGKILL');
  await endsWithin(pid, 5000);
}

/** Whether `pid` ends within `ms`. */
export async function endsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
