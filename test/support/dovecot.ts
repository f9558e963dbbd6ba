import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';

export interface Dovecot {
  host: string;
  port: number;
  /** Any user name logs in (passdb static nopassword); every user shares one maildir. */
  user: string;
  password: string;
  /** Drops every IMAP session of the user on the server side (doveadm kick), as a server restart would. */
  kick(user: string): void;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, logPath: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dovecot exited with ${child.exitCode}:\n${readLog(logPath)}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`dovecot did not listen on ${port}:\n${readLog(logPath)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '(no log)';
  }
}

/**
 * A real Dovecot (Debian's dovecot-imapd, 2.3) in a temp dir on a free port on 127.0.0.1, started as a child
 * process. As root it drops mail access to `nobody` and logins to `dovenull`; as another user it runs as that user.
 */
export async function startDovecot(): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'dovecot-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const mailUid = root ? 65534 : process.getuid!();
  const mailGid = root ? 65534 : process.getgid!();
  const me = userInfo().username;
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  if (root) chownSync(home, mailUid, mailGid);
  const logPath = join(dir, 'dovecot.log');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${logPath}
info_log_path = ${logPath}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = ${root ? 'dovecot' : me}
default_internal_group = ${root ? 'dovecot' : me}
default_login_user = ${root ? 'dovenull' : me}
first_valid_uid = 0
mail_location = maildir:~/Maildir
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=${mailUid} gid=${mailGid} home=${home}
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  const child = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await waitForPort(port, child, logPath);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return {
    host: '127.0.0.1',
    port,
    user: 'support',
    password: 'any',
    kick(user: string) {
      const result = spawnSync('doveadm', ['-c', conf, 'kick', user], { encoding: 'utf8', timeout: 10_000 });
      if (result.status !== 0) throw new Error(`doveadm kick failed: ${result.stderr || result.stdout}`);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
