import { ImapFlow } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import { isValidObjectId } from 'mongoose';
import type { Channel, ChannelCapabilities, ChannelSink, ChannelState, OutboundMessage, SendContext, SendResult } from '../src/domain.js';
import { ChatKeyModel, ConversationModel, EmailCursorModel, EmailThreadModel, MessageModel, OutboxItemModel } from '../src/db/models/index.js';
import { DeliveryError } from '../src/outbox/errors.js';
import type { Logger } from '../src/logger.js';
import type { Config } from '../src/config.js';
import { automaticMailReason, baseSubject, parseMail, textToHtml, toInboundMessage } from './email-mail.js';

export type EmailChannelOptions = NonNullable<Config['email']> & {
  logger: Logger;
  /** Reconnect delays: baseMs doubled per failure up to maxMs. */
  reconnect?: { baseMs: number; maxMs: number };
};

/**
 * E-mail as a customer channel: new mail in one IMAP mailbox (IDLE, with polling as the fallback) becomes
 * customer messages; operator replies go out by SMTP, threaded to the customer's last mail.
 * The last processed UID is kept in MongoDB (EmailCursor), so a restart neither skips nor repeats mail.
 */
export class EmailChannel implements Channel {
  readonly kind = 'email' as const;
  readonly capabilities: ChannelCapabilities = { edit: false, typing: false, deliveryReceipts: false, readReceipts: false, buttons: false, maxTextLength: 100_000 };
  private current: ChannelState = 'stopped';
  private stopped = true;
  private sink?: ChannelSink;
  private client?: ImapFlow;
  private loop?: Promise<void>;
  private wakeup?: () => void;
  private newMail = false;
  private readonly transporter: Transporter;
  private readonly cursorId: string;
  private readonly domain: string;
  private readonly log: Logger;

  constructor(private readonly options: EmailChannelOptions) {
    const { smtp, imap } = options;
    this.transporter = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
      connectionTimeout: 20_000,
      greetingTimeout: 20_000,
      socketTimeout: 60_000,
    });
    this.cursorId = `imap:${imap.user}@${imap.host}/${imap.mailbox}`;
    this.domain = options.address.split('@')[1] ?? 'localhost';
    this.log = options.logger;
  }

  state(): ChannelState {
    return this.current;
  }

  async start(sink: ChannelSink): Promise<void> {
    if (!this.stopped) return;
    this.sink = sink;
    this.stopped = false;
    this.setState('starting');
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeup?.();
    await this.loop;
    this.transporter.close();
    this.setState('stopped');
  }

  private setState(state: ChannelState, detail?: string): void {
    if (state === this.current) return;
    this.current = state;
    this.sink?.stateChanged?.('email', state, detail);
  }

  /** One IMAP connection after another (imapflow can't reconnect an instance), with backoff between failures. */
  private async run(): Promise<void> {
    const { imap } = this.options;
    const { baseMs, maxMs } = this.options.reconnect ?? { baseMs: 1000, maxMs: 60_000 };
    let failures = 0;
    while (!this.stopped) {
      const client = new ImapFlow({ host: imap.host, port: imap.port, secure: imap.secure, auth: { user: imap.user, pass: imap.password ?? '' }, logger: false, autoIdleDelay: 1000 });
      this.client = client;
      let closed = false;
      client.on('close', () => {
        closed = true;
        this.wakeup?.();
      });
      client.on('error', (error: Error) => this.log.warn({ err: error }, 'IMAP connection error'));
      client.on('exists', () => {
        this.newMail = true;
        this.wakeup?.();
      });
      let detail = 'connection closed';
      try {
        await client.connect();
        await client.mailboxOpen(imap.mailbox);
        failures = 0;
        this.setState('up');
        this.log.info({ mailbox: imap.mailbox, idle: client.capabilities.has('IDLE') }, 'IMAP mailbox open');
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
        if (!this.stopped) this.log.warn({ err: error }, 'IMAP session ended');
      }
      if (!closed) await client.logout().catch(() => client.close());
      if (this.stopped) break;
      failures += 1;
      this.setState('down', detail);
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
      this.log.warn({ mailbox: mailbox.path }, 'IMAP UIDVALIDITY changed: reading the whole mailbox again');
    }
    let lastUid = cursor && cursor.uidValidity === uidValidity ? cursor.lastUid : 0;
    if (!mailbox.exists) return;
    const listed = await client.fetchAll(`${lastUid + 1}:*`, { uid: true }, { uid: true });
    // `n:*` always includes the highest UID, even when it is below n.
    const uids = listed.map((m) => m.uid).filter((uid) => uid > lastUid).sort((a, b) => a - b);
    for (const uid of uids) {
      if (this.stopped) return;
      const fetched = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
      if (fetched && fetched.source) await this.handleMail(fetched.source, uid, uidValidity);
      lastUid = uid;
      await EmailCursorModel.updateOne({ _id: this.cursorId }, { $set: { uidValidity, lastUid, updatedAt: new Date() } }, { upsert: true });
    }
  }

  private async handleMail(source: Buffer, uid: number, uidValidity: string): Promise<void> {
    let mail;
    try {
      mail = await parseMail(source);
    } catch (error) {
      this.log.warn({ err: error, uid }, 'unreadable mail skipped');
      return;
    }
    const automatic = automaticMailReason(mail);
    const sender = mail.from?.value[0]?.address?.toLowerCase();
    if (automatic || sender === this.options.address.toLowerCase()) {
      this.log.info({ uid, reason: automatic ?? 'sent by the gateway itself' }, 'automatic mail dropped: no chat opened');
      return;
    }
    const inbound = toInboundMessage(mail, { fallbackId: `<imap-${uidValidity}-${uid}@${this.options.imap.host}>`, maxAttachmentSize: this.options.maxAttachmentSize, receivedAt: new Date() });
    if (!inbound) {
      this.log.warn({ uid }, 'mail without a sender address skipped');
      return;
    }
    // A failure here (database down) ends the session: the cursor stays, the mail is read again on reconnect.
    await this.sink!.inbound(inbound);
  }

  async send(externalChatId: string, message: OutboundMessage, context: SendContext): Promise<SendResult> {
    const thread = await this.threadOf(externalChatId, context.idempotencyKey);
    // Derived from the outbox item: a retried send carries the same Message-ID.
    const messageId = `<gw-${context.idempotencyKey}@${this.domain}>`;
    if (thread.conversationId) await EmailThreadModel.updateOne({ _id: messageId }, { $set: { conversation: thread.conversationId } }, { upsert: true });
    const attachments = message.attachments
      .filter((a) => a.dataBase64)
      .map((a) => ({ filename: a.fileName ?? 'attachment', content: Buffer.from(a.dataBase64!, 'base64'), contentType: a.mimeType }));
    try {
      await this.transporter.sendMail({
        from: { name: this.options.displayName ?? '', address: this.options.address },
        to: externalChatId,
        subject: thread.subject,
        messageId,
        inReplyTo: thread.inReplyTo,
        references: thread.references.length > 0 ? thread.references : undefined,
        text: message.text,
        html: textToHtml(message.text),
        attachments,
      });
    } catch (error) {
      const { responseCode, message: reason } = error as { responseCode?: number; message: string };
      if (typeof responseCode === 'number' && responseCode >= 500) throw DeliveryError.permanent(`the mail server refused the mail: ${reason}`);
      throw DeliveryError.transient(`SMTP: ${reason}`);
    }
    return { externalMessageId: messageId };
  }

  /** Subject and threading headers for a reply: from the conversation of the outbox item (or the chat's latest). */
  private async threadOf(externalChatId: string, idempotencyKey: string) {
    const item = isValidObjectId(idempotencyKey) ? await OutboxItemModel.findById(idempotencyKey).lean() : null;
    let conversationId = item?.conversation;
    if (!conversationId) {
      const chat = await ChatKeyModel.findById(`email:${externalChatId}`).lean();
      conversationId = chat?.openConversation ?? chat?.lastConversation ?? undefined;
    }
    const conversation = conversationId ? await ConversationModel.findById(conversationId).lean() : null;
    const lastIn = conversation ? await MessageModel.findOne({ conversation: conversation._id, direction: 'in' }).sort({ createdAt: -1 }).lean() : null;
    const meta = (name: string) => lastIn?.meta.find((m) => m.name === name)?.value ?? undefined;
    const subject = baseSubject(meta('subject') ?? conversation?.subject ?? '') || 'Your request';
    const inReplyTo = meta('messageId');
    const references = [...(meta('references') ?? '').split(/\s+/), inReplyTo ?? ''].filter(Boolean);
    return {
      conversationId: conversation?._id,
      subject: `Re: ${subject}${conversation ? ` [#${conversation.number}]` : ''}`,
      inReplyTo,
      references,
    };
  }
}
