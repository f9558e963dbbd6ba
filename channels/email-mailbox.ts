import { ImapFlow } from 'imapflow';
import type { MailboxConfig } from '../src/config.js';
import type { ChannelState } from '../src/domain.js';
import { EmailCursorModel } from '../src/db/models/index.js';
import type { Logger } from '../src/logger.js';

export interface MailboxReaderOptions {
  imap: MailboxConfig['imap'];
  pollIntervalMs: number;
  logger: Logger;
  /** Reconnect delays: baseMs doubled per failure up to maxMs. */
  reconnect?: { baseMs: number; maxMs: number };
  /** One new mail, in UID order; a throw ends the session and the mail is read again after reconnecting. */
  onMail(source: Buffer, uid: number, uidValidity: string): Promise<void>;
  onState(state: ChannelState, detail?: string): void;
}

/**
 * Reads one IMAP mailbox: IDLE (with polling as the fallback), new mail fetched by UID, the last processed UID
 * kept in MongoDB (EmailCursor) so a restart neither skips nor repeats mail, and a new connection with backoff
 * whenever the server drops the old one (imapflow can't reconnect an instance).
 */
export class MailboxReader {
  private stopped = true;
  private loop?: Promise<void>;
  private wakeup?: () => void;
  private newMail = false;
  private readonly cursorId: string;

  constructor(private readonly options: MailboxReaderOptions) {
    this.cursorId = `imap:${options.imap.user}@${options.imap.host}/${options.imap.mailbox}`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.options.onState('starting');
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeup?.();
    await this.loop;
    this.options.onState('stopped');
  }

  private async run(): Promise<void> {
    const { imap, logger: log } = this.options;
    const { baseMs, maxMs } = this.options.reconnect ?? { baseMs: 1000, maxMs: 60_000 };
    let failures = 0;
    while (!this.stopped) {
      const client = new ImapFlow({ host: imap.host, port: imap.port, secure: imap.secure, auth: { user: imap.user, pass: imap.password ?? '' }, logger: false, autoIdleDelay: 1000 });
      let closed = false;
      client.on('close', () => {
        closed = true;
        this.wakeup?.();
      });
      client.on('error', (error: Error) => log.warn({ err: error }, 'IMAP connection error'));
      client.on('exists', () => {
        this.newMail = true;
        this.wakeup?.();
      });
      let detail = 'connection closed';
      try {
        await client.connect();
        await client.mailboxOpen(imap.mailbox);
        failures = 0;
        this.options.onState('up');
        log.info({ mailbox: imap.mailbox, idle: client.capabilities.has('IDLE') }, 'IMAP mailbox open');
        while (!this.stopped && !closed) {
          this.newMail = false;
          // The lock is held only while reading: imapflow starts IDLE (or its polling fallback) once it is released.
          const lock = await client.getMailboxLock(imap.mailbox);
          try {
            await this.readNewMail(client);
          } finally {
            lock.release();
          }
          if (!this.stopped && !closed && !this.newMail) await this.pause(this.options.pollIntervalMs);
        }
      } catch (error) {
        detail = (error as Error).message;
        if (!this.stopped) log.warn({ err: error }, 'IMAP session ended');
      }
      if (!closed) await client.logout().catch(() => client.close());
      if (this.stopped) break;
      failures += 1;
      this.options.onState('down', detail);
      await this.pause(Math.min(maxMs, baseMs * 2 ** (failures - 1)));
    }
  }

  /** Resolves after `ms`, or earlier on new mail, a dropped connection or stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeup = done;
    });
  }

  /** Every mail after the stored UID, in UID order; the cursor advances after each, also for dropped mail. */
  private async readNewMail(client: ImapFlow): Promise<void> {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error('no mailbox selected');
    const uidValidity = String(mailbox.uidValidity);
    const cursor = await EmailCursorModel.findById(this.cursorId).lean();
    if (cursor && cursor.uidValidity !== uidValidity) {
      // UIDs of the old validity mean nothing now: read everything again, the inbox drops Message-IDs it has.
      this.options.logger.warn({ mailbox: mailbox.path }, 'IMAP UIDVALIDITY changed: reading the whole mailbox again');
    }
    let lastUid = cursor && cursor.uidValidity === uidValidity ? cursor.lastUid : 0;
    if (!mailbox.exists) return;
    const listed = await client.fetchAll(`${lastUid + 1}:*`, { uid: true }, { uid: true });
    // `n:*` always includes the highest UID, even when it is below n.
    const uids = listed.map((m) => m.uid).filter((uid) => uid > lastUid).sort((a, b) => a - b);
    for (const uid of uids) {
      if (this.stopped) return;
      const fetched = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
      if (fetched && fetched.source) await this.options.onMail(fetched.source, uid, uidValidity);
      lastUid = uid;
      await EmailCursorModel.updateOne({ _id: this.cursorId }, { $set: { uidValidity, lastUid, updatedAt: new Date() } }, { upsert: true });
    }
  }
}
