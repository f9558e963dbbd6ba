import nodemailer, { type Transporter } from 'nodemailer';
import { isValidObjectId } from 'mongoose';
import type { Channel, ChannelCapabilities, ChannelSink, ChannelState, OutboundMessage, SendContext, SendResult } from '../src/domain.js';
import { ChatKeyModel, ConversationModel, EmailThreadModel, MessageModel, OutboxItemModel } from '../src/db/models/index.js';
import { DeliveryError } from '../src/outbox/errors.js';
import type { Logger } from '../src/logger.js';
import type { Config, MailboxConfig } from '../src/config.js';
import { MailboxReader } from './email-mailbox.js';
import { automaticMailReason, baseSubject, parseMail, textToHtml, toInboundMessage } from './email-mail.js';
import { operatorText } from '../src/i18n/operator-texts.js';

export type EmailChannelOptions = NonNullable<Config['email']> & {
  logger: Logger;
  /** Reconnect delays, and the delays between tries to store a mail: baseMs doubled per failure up to maxMs. */
  reconnect?: { baseMs: number; maxMs: number };
  /** See MailboxReaderOptions.maxStoreAttempts. */
  maxStoreAttempts?: number;
};

interface Mailbox {
  config: MailboxConfig;
  reader: MailboxReader;
  transporter: Transporter;
}

/**
 * E-mail as a customer channel, for one or more support mailboxes: new mail in each (channels/email-mailbox.ts)
 * becomes customer messages; operator replies go out by SMTP from the mailbox the customer last wrote to,
 * threaded to that mail.
 */
export class EmailChannel implements Channel {
  readonly kind = 'email' as const;
  readonly capabilities: ChannelCapabilities = { edit: false, delete: false, typing: false, deliveryReceipts: false, readReceipts: false, buttons: false, maxTextLength: 100_000 };
  private current: ChannelState = 'stopped';
  private sink?: ChannelSink;
  private readonly mailboxes: Mailbox[];
  private readonly ownAddresses: Set<string>;
  private readonly mailboxStates = new Map<string, { state: ChannelState; detail?: string }>();
  private readonly log: Logger;

  constructor(private readonly options: EmailChannelOptions) {
    this.log = options.logger;
    this.ownAddresses = new Set(options.mailboxes.map((m) => m.address.toLowerCase()));
    this.mailboxes = options.mailboxes.map((config) => ({
      config,
      transporter: nodemailer.createTransport({
        host: config.smtp.host,
        port: config.smtp.port,
        secure: config.smtp.secure,
        auth: config.smtp.user ? { user: config.smtp.user, pass: config.smtp.password ?? '' } : undefined,
        connectionTimeout: 20_000,
        greetingTimeout: 20_000,
        socketTimeout: 60_000,
      }),
      reader: new MailboxReader({
        imap: config.imap,
        pollIntervalMs: options.pollIntervalMs,
        logger: this.log.child({ mailbox: config.address }),
        reconnect: options.reconnect,
        maxStoreAttempts: options.maxStoreAttempts,
        onMail: (source, uid, uidValidity) => this.handleMail(config, source, uid, uidValidity),
        onState: (state, detail) => {
          this.mailboxStates.set(config.address, { state, detail });
          this.updateState();
        },
      }),
    }));
  }

  state(): ChannelState {
    return this.current;
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    for (const mailbox of this.mailboxes) mailbox.reader.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.mailboxes.map((m) => m.reader.stop()));
    for (const mailbox of this.mailboxes) mailbox.transporter.close();
  }

  /** Down while any mailbox is down (naming it), up when all are up. */
  private updateState(): void {
    const states = this.mailboxes.map((m) => ({ address: m.config.address, ...(this.mailboxStates.get(m.config.address) ?? { state: 'stopped' as const }) }));
    const down = states.find((m) => m.state === 'down');
    const kinds = new Set(states.map((m) => m.state));
    const state: ChannelState = down ? 'down' : kinds.size === 1 ? [...kinds][0]! : kinds.has('starting') ? 'starting' : 'up';
    if (state === this.current) return;
    this.current = state;
    const detail = down && (this.mailboxes.length > 1 ? `${down.address}: ${down.detail ?? operatorText('channels.unreachable')}` : down.detail);
    this.sink?.stateChanged?.('email', state, detail || undefined);
  }

  private async handleMail(mailbox: MailboxConfig, source: Buffer, uid: number, uidValidity: string): Promise<void> {
    let mail;
    try {
      mail = await parseMail(source);
    } catch (error) {
      this.log.warn({ err: error, uid }, 'unreadable mail skipped');
      return;
    }
    const automatic = automaticMailReason(mail);
    const sender = mail.from?.value[0]?.address?.toLowerCase();
    if (automatic || (sender && this.ownAddresses.has(sender))) {
      this.log.info({ uid, reason: automatic ?? 'sent by the gateway itself' }, 'automatic mail dropped: no chat opened');
      return;
    }
    const inbound = toInboundMessage(mail, { fallbackId: `<imap-${uidValidity}-${uid}@${mailbox.imap.host}>`, maxAttachmentSize: this.options.maxAttachmentSize, receivedAt: new Date() });
    if (!inbound) {
      this.log.warn({ uid }, 'mail without a sender address skipped');
      return;
    }
    // Replies go out from the mailbox the customer wrote to.
    inbound.meta = [...(inbound.meta ?? []), { name: 'mailbox', value: mailbox.address }];
    // Resolves once stored. A failure (database down) leaves the mailbox position before this mail: it is read again.
    await this.sink!.inbound(inbound);
  }

  async send(externalChatId: string, message: OutboundMessage, context: SendContext): Promise<SendResult> {
    const thread = await this.threadOf(externalChatId, context.idempotencyKey);
    const mailbox = this.mailboxes.find((m) => m.config.address.toLowerCase() === thread.mailbox?.toLowerCase()) ?? this.mailboxes[0]!;
    // Derived from the outbox item: a retried send carries the same Message-ID.
    const messageId = `<gw-${context.idempotencyKey}@${mailbox.config.address.split('@')[1] ?? 'localhost'}>`;
    if (thread.conversationId) await EmailThreadModel.updateOne({ _id: messageId }, { $set: { conversation: thread.conversationId } }, { upsert: true });
    const attachments = message.attachments
      .filter((a) => a.dataBase64)
      .map((a) => ({ filename: a.fileName ?? 'attachment', content: Buffer.from(a.dataBase64!, 'base64'), contentType: a.mimeType }));
    try {
      await mailbox.transporter.sendMail({
        from: { name: mailbox.config.displayName ?? '', address: mailbox.config.address },
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
      mailbox: meta('mailbox'),
    };
  }
}
