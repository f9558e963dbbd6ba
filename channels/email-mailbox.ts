import { ImapFlow } from 'imapflow';
import type { MailboxConfig } from '../src/config.js';
import type { ChannelState } from '../src/domain.js';
import { EmailCursorModel } from '../src/db/models/index.js';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import type { Logger } from '../src/logger.js';
import { Pause } from '../src/util/pause.js';
import { operatorText } from '../src/i18n/operator-texts.js';

export interface MailboxReaderOptions {
  imap: MailboxConfig['imap'];
  pollIntervalMs: number;
  logger: Logger;
  /** Reconnect delays, and the delays between tries to store a mail: baseMs doubled per failure up to maxMs. */
  reconnect?: { baseMs: number; maxMs: number };
  /**
   * Tries before a mail that keeps failing for another reason than an unreachable database is skipped (logged;
   * it stays on the server). An unreachable database is waited out, however long. Default 10.
   */
  maxStoreAttempts?: number;
  /** One new mail, in UID order; resolves once it is stored (or deliberately dropped). A throw: not stored, tried again. */
  onMail(source: Buffer, uid: number, uidValidity: string): Promise<void>;
  onState(state: ChannelState, detail?: string): void;
}

/** A mail was read but is not stored, or the stored position could not be read or moved: try again later. */
class NotStored extends Error {
  constructor(cause: unknown) {
    super(`not stored: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

/**
 * Reads one IMAP mailbox: IDLE (with polling as the fallback), new mail fetched by UID, the last processed UID
 * kept in MongoDB (EmailCursor) so a restart neither skips nor repeats mail, and a new connection with backoff
 * whenever the server drops the old one (imapflow can't reconnect an instance).
 *
 * The position moves past a mail only once the mail is stored or deliberately dropped, so a crash re-reads
 * what was not stored. A mail that can't be stored now (database unreachable) is tried again with backoff on
 * the same IMAP session: the mailbox itself is fine, so the channel stays up.
 */
export class MailboxReader {
  private stopped = true;
  private loop?: Promise<void>;
  /** Ended early by new mail, a dropped connection or stop(). */
  private readonly pause = new Pause();
  private newMail = false;
  /** Set while waiting to store again: new mail must not cut that wait short. */
  private waitingToStore = false;
  /** Failed tries per UID of mail the inbox refused for another reason than an unreachable database. */
  private readonly refusals = new Map<number, number>();
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
    this.pause.wake();
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
        this.pause.wake();
      });
      client.on('error', (error: Error) => log.warn({ err: error }, 'IMAP connection error'));
      client.on('exists', () => {
        this.newMail = true;
        if (!this.waitingToStore) this.pause.wake();
      });
      let detail = operatorText('channels.connectionClosed');
      try {
        await client.connect();
        await client.mailboxOpen(imap.mailbox);
        failures = 0;
        this.options.onState('up');
        log.info({ mailbox: imap.mailbox, idle: client.capabilities.has('IDLE') }, 'IMAP mailbox open');
        let storeFailures = 0;
        while (!this.stopped && !closed) {
          this.newMail = false;
          let retryIn: number | undefined;
          // The lock is held only while reading: imapflow starts IDLE (or its polling fallback) once it is released.
          const lock = await client.getMailboxLock(imap.mailbox);
          try {
            await this.readNewMail(client);
            storeFailures = 0;
          } catch (error) {
            if (!(error instanceof NotStored)) throw error;
            storeFailures += 1;
            retryIn = Math.min(maxMs, baseMs * 2 ** (storeFailures - 1));
            if (storeFailures === 1 || storeFailures % 10 === 0) log.warn({ err: error.cause, attempt: storeFailures, retryIn }, 'new mail not stored yet; the mailbox position stays, trying again');
          } finally {
            lock.release();
          }
          if (retryIn !== undefined) await this.pauseToStore(retryIn);
          else if (!this.stopped && !closed && !this.newMail) await this.pause.for(this.options.pollIntervalMs);
        }
      } catch (error) {
        detail = (error as Error).message;
        if (!this.stopped) log.warn({ err: error }, 'IMAP session ended');
      }
      if (!closed) await client.logout().catch(() => client.close());
      if (this.stopped) break;
      failures += 1;
      this.options.onState('down', detail);
      await this.pause.for(Math.min(maxMs, baseMs * 2 ** (failures - 1)));
    }
  }

  /** Like pause.for(), but new mail does not end it early: the mail before it has to be stored first. */
  private async pauseToStore(ms: number): Promise<void> {
    this.waitingToStore = true;
    try {
      await this.pause.for(ms);
    } finally {
      this.waitingToStore = false;
    }
  }

  /**
   * Every mail after the stored UID, in UID order; the cursor advances after each once it is stored, also for
   * dropped mail. Throws NotStored when the database could not store a mail or the cursor.
   */
  private async readNewMail(client: ImapFlow): Promise<void> {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error('no mailbox selected');
    const uidValidity = String(mailbox.uidValidity);
    const cursor = await notStoredOnError(() => EmailCursorModel.findById(this.cursorId).lean());
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
      if (fetched && fetched.source) await this.store(fetched.source, uid, uidValidity);
      lastUid = uid;
      await notStoredOnError(() => EmailCursorModel.updateOne({ _id: this.cursorId }, { $set: { uidValidity, lastUid, updatedAt: new Date() } }, { upsert: true }));
    }
  }

  /**
   * Hands one mail to onMail. Not stored: NotStored, so it is read again. A mail refused maxStoreAttempts times
   * for another reason than an unreachable database would block every later mail: it is skipped and logged.
   */
  private async store(source: Buffer, uid: number, uidValidity: string): Promise<void> {
    try {
      await this.options.onMail(source, uid, uidValidity);
      this.refusals.delete(uid);
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw new NotStored(error);
      const attempts = (this.refusals.get(uid) ?? 0) + 1;
      if (attempts < (this.options.maxStoreAttempts ?? 10)) {
        this.refusals.set(uid, attempts);
        throw new NotStored(error);
      }
      this.refusals.delete(uid);
      this.options.logger.error({ err: error, uid, uidValidity, attempts }, 'mail skipped: it could not be stored; it stays in the mailbox on the server');
    }
  }
}

async function notStoredOnError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new NotStored(error);
  }
}
