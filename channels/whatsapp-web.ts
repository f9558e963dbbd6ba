import wweb from 'whatsapp-web.js';
import pRetry from 'p-retry';
import QRCode from 'qrcode';
import type { Attachment, Channel, ChannelCapabilities, ChannelSink, ChannelState, InboundMessage, OutboundMessage, SendResult } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { MessageModel } from '../src/db/models/index.js';
import { registerAttachmentSource } from '../src/attachments.js';
import { storeWithRetry } from '../src/inbound-retry.js';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { requestConsole } from '../src/console/actions.js';
import { backoffDelay } from '../src/outbox/backoff.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { splitText } from '../src/util/split-text.js';
import { templateOf, WhatsAppStatus } from './whatsapp-shared.js';
import { MongoSessionStore } from './whatsapp-session-store.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { CATCH_UP_SLACK_SECONDS, DEFAULT_CATCH_UP, isPersonalChat, isStored, messagesSince, StoredUntil, type CatchUpLimits, type WhatsAppChatLike } from './whatsapp-catch-up.js';

const { Client, RemoteAuth, MessageMedia } = wweb;

const TEXT_LIMIT = 4096;
/** How a customer's media is referenced until it is read from the browser (`wweb:<message id>`). */
export const WHATSAPP_WEB_REF_PREFIX = 'wweb';
const REF_PREFIX = WHATSAPP_WEB_REF_PREFIX;
/** Media up to this size travels inline with the message; bigger files are fetched from the phone when needed. */
const INLINE_MEDIA_BYTES = 5 * 1024 * 1024;
/** An ack can overtake the outbox recording the id of the message it is about; it is retried this often. */
const ACK_RETRIES = 5;
const ACK_RETRY_MS = 1000;

/** The media object whatsapp-web.js reads and returns (MessageMedia). */
export interface WhatsAppMediaLike {
  mimetype: string;
  data: string;
  filename?: string | null;
  filesize?: number | null;
}

/** The part of a whatsapp-web.js Message this adapter reads. */
export interface WhatsAppMessageLike {
  id: { _serialized: string };
  from: string;
  fromMe: boolean;
  body: string;
  type: string;
  timestamp: number;
  hasMedia: boolean;
  hasQuotedMsg?: boolean;
  isStatus?: boolean;
  location?: { latitude: string | number; longitude: string | number; name?: string; address?: string; description?: string };
  vCards?: string[];
  selectedButtonId?: string;
  selectedRowId?: string;
  downloadMedia(): Promise<WhatsAppMediaLike | undefined>;
  /** Our own text message, within WhatsApp's edit window: the edited message; null when WhatsApp does not allow it. */
  edit?(content: string): Promise<unknown>;
  /** `everyone`: deleted for the customer too. */
  delete?(everyone?: boolean): Promise<void>;
  getContact(): Promise<{ pushname?: string; name?: string; number?: string }>;
  getQuotedMessage?(): Promise<{ id: { _serialized: string } } | undefined>;
}

/**
 * The part of the whatsapp-web.js Client this adapter uses: the seam tests replace (with an EventEmitter
 * speaking the same events) since nothing here can reach WhatsApp.
 * Events: qr (qr string), ready, authenticated, auth_failure (message), disconnected (reason),
 * message (WhatsAppMessageLike), message_ack (message with id, ack number).
 */
export interface WhatsAppClientLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  initialize(): Promise<void>;
  destroy(): Promise<void>;
  sendMessage(chatId: string, content: string | WhatsAppMediaLike, options?: { caption?: string; quotedMessageId?: string; sendAudioAsVoice?: boolean; sendMediaAsDocument?: boolean; sendMediaAsSticker?: boolean }): Promise<{ id: { _serialized: string } }>;
  getMessageById(messageId: string): Promise<WhatsAppMessageLike | undefined>;
  /** Every chat WhatsApp Web has loaded (read on connecting, to catch up on what came while away). */
  getChats(): Promise<WhatsAppChatLike[]>;
}

export interface WhatsAppWebChannelOptions {
  chromiumPath: string;
  /** Where RemoteAuth unpacks the browser profile while running; the session itself is kept in MongoDB. */
  dataDir: string;
  logger: Logger;
  /** Replaces the whatsapp-web.js Client (tests); by default a real Client with RemoteAuth on MongoDB. */
  createClient?: () => WhatsAppClientLike;
  /** Reconnect backoff: first wait up to baseMs, doubling up to capMs. */
  reconnect?: { baseMs: number; capMs: number };
  /** What is read back on each connection (channels/whatsapp-catch-up.ts), unset parts as DEFAULT_CATCH_UP; `chats: 0` turns the catch-up off. */
  catchUp?: Partial<CatchUpLimits>;
}

/**
 * WhatsApp through whatsapp-web.js: a headless Chromium running WhatsApp Web, linked to the business phone by a
 * QR code that is posted to the operators. The login survives restarts (RemoteAuth on MongoDB). A lost
 * connection is reported to the operators once and retried with backoff, with a fresh Client each time.
 *
 * Inbound messages are never emitted twice: one that can't be stored (database down) is held in memory and
 * retried; on every connection the chats are read back from the last stored message on, so what arrived while
 * the gateway was away, or died with it, is stored then.
 */
export class WhatsAppWebChannel implements Channel {
  readonly kind = 'whatsapp' as const;
  readonly capabilities: ChannelCapabilities = { edit: true, delete: true, typing: false, deliveryReceipts: true, readReceipts: true, buttons: false, maxTextLength: TEXT_LIMIT };
  private readonly status: WhatsAppStatus;
  private readonly createClient: () => WhatsAppClientLike;
  private sink?: ChannelSink;
  private client?: WhatsAppClientLike;
  private stopped = true;
  private failures = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly recentlySent = new Set<string>();
  private inboundQueue: Promise<void> = Promise.resolve();
  private unregisterFiles?: () => void;
  private readonly storedUntil: StoredUntil;
  /** The inbox, but refusing once stopped: a message still held then is left to the next start's catch-up. */
  private readonly store: ChannelSink;

  constructor(private readonly options: WhatsAppWebChannelOptions) {
    this.status = new WhatsAppStatus('WhatsApp Web', options.logger);
    this.createClient = options.createClient ?? (() => defaultClient(options));
    this.storedUntil = new StoredUntil(options.logger);
    this.store = {
      inbound: async (message) => {
        if (this.stopped || !this.sink) throw new Error('WhatsApp Web stopped: the message is caught up at the next start');
        await this.sink.inbound(message);
      },
      changed: async (change) => {
        if (this.stopped || !this.sink) throw new Error('WhatsApp Web stopped: the change is not stored');
        await this.sink.changed?.(change);
      },
    };
  }

  state(): ChannelState {
    return this.status.get();
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.status.attach(sink);
    this.stopped = false;
    this.status.set('starting');
    this.unregisterFiles = registerAttachmentSource(REF_PREFIX, (ref) => this.loadMedia(ref.slice(REF_PREFIX.length + 1)));
    // The browser takes a while to start and may wait for a QR scan: the gateway does not wait for it.
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.unregisterFiles?.();
    const client = this.client;
    this.client = undefined;
    await client?.destroy().catch((error: unknown) => this.options.logger.warn({ err: error }, 'WhatsApp Web client did not close cleanly'));
    await this.storedUntil.settled();
    this.status.set('stopped');
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let client: WhatsAppClientLike;
    try {
      client = this.createClient();
    } catch (error) {
      this.scheduleReconnect(`could not create the WhatsApp Web client: ${(error as Error).message}`);
      return;
    }
    this.client = client;
    this.listen(client);
    try {
      await client.initialize();
    } catch (error) {
      this.lost(client, `could not start WhatsApp Web: ${(error as Error).message}`);
    }
  }

  private listen(client: WhatsAppClientLike): void {
    const log = this.options.logger;
    const current = () => client === this.client && !this.stopped;
    client.on('qr', (qr: string) => {
      if (current()) void this.postQr(qr);
    });
    client.on('ready', () => {
      if (!current()) return;
      this.failures = 0;
      this.status.set('up');
      // Before the messages this connection emits: they are newer.
      this.enqueue(() => this.catchUp(client), (error) => log.error({ err: error }, 'WhatsApp Web could not catch up on missed messages; it tries again at the next connection'));
    });
    client.on('auth_failure', (message: string) => this.lost(client, `login failed: ${message}`));
    // An EventEmitter 'error' without a listener would throw and take the gateway down with it.
    client.on('error', (error: Error) => this.lost(client, `WhatsApp Web failed: ${error?.message ?? error}`));
    client.on('disconnected', (reason: string) => this.lost(client, /qr ?code/i.test(String(reason)) ? 'the login QR code was not scanned' : `disconnected (${reason})`));
    client.on('message', (message: WhatsAppMessageLike) => {
      if (!current()) return;
      this.enqueue(
        async () => void (await this.receive(message)),
        (error) => log.error({ err: error, messageId: message.id?._serialized }, 'WhatsApp message could not be stored'),
      );
    });
    // The customer edited a message, or deleted it for everyone: the changed message keeps its id.
    client.on('message_edit', (message: WhatsAppMessageLike, newBody: unknown) => this.onChange(client, message, 'edited', String(newBody ?? '')));
    client.on('message_revoke_everyone', (message: WhatsAppMessageLike) => this.onChange(client, message, 'deleted'));
    client.on('message_ack', (message: { id: { _serialized: string } }, ack: number) => {
      if (!current()) return;
      this.ack(message.id._serialized, ack).catch((error) => log.error({ err: error }, 'WhatsApp ack could not be recorded'));
    });
  }

  private onChange(client: WhatsAppClientLike, message: WhatsAppMessageLike, kind: 'edited' | 'deleted', text?: string): void {
    if (client !== this.client || this.stopped || message.fromMe) return;
    const change = { channel: 'whatsapp' as const, externalMessageId: message.id._serialized, kind, text, at: new Date() };
    this.enqueue(
      () => storeWithRetry(this.store, change, this.options.logger),
      (error) => this.options.logger.error({ err: error, messageId: change.externalMessageId }, 'a WhatsApp edit or deletion could not be stored'),
    );
  }

  /**
   * Inbound work runs one task at a time, in order: fetching media must not let a later text overtake a photo,
   * and "stored until" may only move past a message once everything before it is stored.
   */
  private enqueue(task: () => Promise<void>, onError: (error: unknown) => void): void {
    this.inboundQueue = this.inboundQueue.then(task).catch(onError);
  }

  /**
   * Reads back the chats active since the last stored message (less a slack) and stores the customers' messages
   * found there; the first connection ever only starts the clock. Bounded by `catchUp` (chats, messages per chat).
   */
  private async catchUp(client: WhatsAppClientLike): Promise<void> {
    const limits: CatchUpLimits = { chats: this.options.catchUp?.chats ?? DEFAULT_CATCH_UP.chats, messagesPerChat: this.options.catchUp?.messagesPerChat ?? DEFAULT_CATCH_UP.messagesPerChat };
    if (limits.chats <= 0) return;
    const log = this.options.logger;
    const storedUntil = await this.whileDatabaseIsDown(client, () => this.storedUntil.read());
    if (storedUntil === undefined) {
      // Nothing was ever stored through this channel: older history of the phone is not imported.
      this.storedUntil.advance(Math.floor(Date.now() / 1000));
      return;
    }
    const messages = await messagesSince(client, storedUntil - CATCH_UP_SLACK_SECONDS, limits);
    let stored = 0;
    for (const message of messages) {
      if (client !== this.client || this.stopped) return;
      if (await this.whileDatabaseIsDown(client, () => isStored(message))) this.storedUntil.advance(message.timestamp);
      else if (await this.receive(message)) stored += 1;
    }
    log.info({ checked: messages.length, stored }, 'WhatsApp Web caught up on messages that came while it was away');
  }

  /** Runs `work`, again and again with backoff while the database is unreachable and this client is current. */
  private whileDatabaseIsDown<T>(client: WhatsAppClientLike, work: () => Promise<T>): Promise<T> {
    return pRetry(work, {
      retries: Number.POSITIVE_INFINITY,
      maxRetryTime: 60 * 60_000,
      minTimeout: 500,
      maxTimeout: 30_000,
      randomize: true,
      shouldRetry: ({ error }) => isDatabaseUnavailable(error) && client === this.client && !this.stopped,
    });
  }

  /** A client that failed or lost its connection is thrown away; a new one is made after a backoff. */
  private lost(client: WhatsAppClientLike, detail: string): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    client.destroy().catch(() => undefined);
    this.scheduleReconnect(detail);
  }

  private scheduleReconnect(detail: string): void {
    this.status.set('down', detail);
    this.failures += 1;
    // Nobody scanning the QR codes is not an outage: back off much further, or the group fills with codes.
    const unscanned = detail.includes('QR code was not scanned');
    const capMs = (this.options.reconnect?.capMs ?? 5 * 60_000) * (unscanned ? 12 : 1);
    const wait = backoffDelay(this.failures, { baseMs: this.options.reconnect?.baseMs ?? 5000, capMs });
    this.options.logger.info({ detail, wait }, 'WhatsApp Web reconnects after a pause');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), wait);
  }

  private async postQr(qr: string): Promise<void> {
    try {
      const png = await QRCode.toBuffer(qr, { type: 'png', width: 512, margin: 2, errorCorrectionLevel: 'M' });
      await requestConsole({
        action: 'notice',
        text: operatorText('channels.whatsappLink'),
        file: { fileName: 'whatsapp-login.png', mimeType: 'image/png', dataBase64: png.toString('base64') },
      });
    } catch (error) {
      this.options.logger.error({ err: error }, 'could not post the WhatsApp login QR code to the operators');
    }
  }

  /** Stores a customer's message (true), or ignores what is not one (false). */
  private async receive(message: WhatsAppMessageLike): Promise<boolean> {
    if (message.fromMe || message.isStatus || !isPersonalChat(message.from) || NOT_CUSTOMER_CONTENT.has(message.type)) return false;
    const normalized = normalizeWebMessage(message);
    const [contact, replyTo, media] = await Promise.all([
      message.getContact().catch(() => undefined),
      message.hasQuotedMsg ? message.getQuotedMessage?.().catch(() => undefined) : undefined,
      message.hasMedia ? this.mediaOf(message) : undefined,
    ]);
    const name = contact?.pushname || contact?.name;
    if (name) normalized.profile.name = name;
    if (contact?.number) normalized.profile.phone = `+${contact.number}`;
    if (replyTo) normalized.replyToExternalId = replyTo.id._serialized;
    if (media) normalized.attachments.unshift(media);
    // WhatsApp Web does not emit a message again: hold on to it while the database is down.
    await storeWithRetry(this.store, normalized, this.options.logger);
    this.storedUntil.advance(message.timestamp);
    return true;
  }

  /** Small media inline; big media by reference, fetched from the phone when the console needs the bytes. */
  private async mediaOf(message: WhatsAppMessageLike): Promise<Attachment> {
    const kind = MEDIA_KINDS[message.type] ?? 'document';
    let media: WhatsAppMediaLike | undefined;
    try {
      media = await message.downloadMedia();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'WhatsApp media could not be downloaded now; keeping a reference');
    }
    if (!media) return { kind, ref: `${REF_PREFIX}:${message.id._serialized}` };
    const size = media.filesize ?? Math.floor((media.data.length * 3) / 4);
    const attachment: Attachment = { kind, mimeType: media.mimetype, fileName: media.filename ?? undefined, size };
    return size <= INLINE_MEDIA_BYTES ? { ...attachment, dataBase64: media.data } : { ...attachment, ref: `${REF_PREFIX}:${message.id._serialized}` };
  }

  private async loadMedia(messageId: string): Promise<{ data: Buffer; mimeType?: string; fileName?: string }> {
    if (!this.client) throw new Error('WhatsApp Web is not connected: the file can be fetched once it is back');
    const message = await this.client.getMessageById(messageId);
    const media = await message?.downloadMedia();
    if (!media) throw new Error('WhatsApp no longer has this file');
    return { data: Buffer.from(media.data, 'base64'), mimeType: media.mimetype, fileName: media.filename ?? undefined };
  }

  /** Acks: -1 error, 0 pending, 1 server (the outbox already recorded "sent"), 2 device, 3 read, 4 played. */
  private async ack(externalId: string, ack: number, attempt = 1): Promise<void> {
    const status = ack === -1 ? 'failed' : ack === 2 ? 'delivered' : ack >= 3 ? 'read' : undefined;
    if (!status) return;
    const known = await MessageModel.exists({ channel: 'whatsapp', externalId, direction: 'out' });
    if (!known) {
      if (this.recentlySent.has(externalId) && attempt < ACK_RETRIES) setTimeout(() => void this.ack(externalId, ack, attempt + 1).catch(() => undefined), ACK_RETRY_MS).unref();
      return;
    }
    await this.sink?.deliveryStatus?.('whatsapp', externalId, status, status === 'failed' ? 'WhatsApp reported an error sending this message' : undefined);
  }

  async send(externalChatId: string, message: OutboundMessage): Promise<SendResult> {
    if (templateOf(message)) throw DeliveryError.permanent('WhatsApp template messages need the Business Cloud API; this gateway runs WhatsApp Web');
    const client = this.client;
    if (!client || this.status.get() !== 'up') throw DeliveryError.transient('WhatsApp Web is not connected');
    const lines = [message.text];
    let lastId: string | undefined;
    const quoted = message.replyToExternalId ? { quotedMessageId: message.replyToExternalId } : {};
    for (const attachment of message.attachments) {
      if (attachment.kind === 'location' && attachment.location) {
        lines.push(`📍 https://maps.google.com/?q=${attachment.location.latitude},${attachment.location.longitude}`);
      } else if (attachment.kind === 'contact' && attachment.contact) {
        lines.push([attachment.contact.name, attachment.contact.phone].filter(Boolean).join(': '));
      } else {
        if (!attachment.dataBase64) throw DeliveryError.permanent(`the ${attachment.kind} has no bytes to send to WhatsApp`);
        const media = new MessageMedia(attachment.mimeType ?? 'application/octet-stream', attachment.dataBase64, attachment.fileName ?? null);
        lastId = await this.call(() =>
          client.sendMessage(externalChatId, media, {
            ...quoted,
            sendAudioAsVoice: attachment.kind === 'voice',
            sendMediaAsDocument: attachment.kind === 'document',
            sendMediaAsSticker: attachment.kind === 'sticker',
          }),
        );
      }
    }
    const text = lines.filter(Boolean).join('\n');
    for (const piece of text ? splitText(text, TEXT_LIMIT) : []) {
      lastId = await this.call(() => client.sendMessage(externalChatId, piece, quoted));
    }
    if (lastId === undefined) throw DeliveryError.permanent('nothing to send: the message has neither text nor attachments');
    return { externalMessageId: lastId };
  }

  /**
   * WhatsApp lets the sender edit a text message for 15 minutes: whatsapp-web.js answers null outside that window
   * (and for media), and the customer then gets a correction instead.
   */
  async edit(_externalChatId: string, externalMessageId: string, text: string): Promise<boolean> {
    if (text.length > TEXT_LIMIT) return false;
    const sent = await this.ourMessage(externalMessageId);
    if (!sent?.edit || sent.hasMedia) return false;
    const edited = await sent.edit(text).catch((error: unknown) => {
      throw DeliveryError.transient(`WhatsApp Web could not edit: ${(error as Error).message}`);
    });
    return edited !== null && edited !== undefined;
  }

  async delete(_externalChatId: string, externalMessageId: string): Promise<void> {
    const sent = await this.ourMessage(externalMessageId);
    if (!sent?.delete) throw DeliveryError.permanent('WhatsApp Web no longer has this message (the chat was cleared on the phone)');
    await sent.delete(true).catch((error: unknown) => {
      throw DeliveryError.transient(`WhatsApp Web could not delete: ${(error as Error).message}`);
    });
  }

  private async ourMessage(externalMessageId: string): Promise<WhatsAppMessageLike | undefined> {
    const client = this.client;
    if (!client || this.status.get() !== 'up') throw DeliveryError.transient('WhatsApp Web is not connected');
    try {
      return await client.getMessageById(externalMessageId);
    } catch (error) {
      throw DeliveryError.transient(`WhatsApp Web could not find the message: ${(error as Error).message}`);
    }
  }

  private async call(send: () => Promise<{ id: { _serialized: string } }>): Promise<string> {
    try {
      const sent = await send();
      const id = sent.id._serialized;
      this.recentlySent.add(id);
      if (this.recentlySent.size > 1000) this.recentlySent.delete(this.recentlySent.values().next().value!);
      return id;
    } catch (error) {
      // The browser page is the only thing that fails here (closed, navigating): worth another try later.
      throw DeliveryError.transient(`WhatsApp Web could not send: ${(error as Error).message}`);
    }
  }
}

/** System entries WhatsApp puts in a chat (security code changed, deleted message, call log...): not customer messages. */
const NOT_CUSTOMER_CONTENT = new Set(['e2e_notification', 'notification', 'notification_template', 'protocol', 'gp2', 'call_log', 'ciphertext', 'revoked', 'broadcast_notification', 'debug']);
const MEDIA_KINDS: Record<string, Attachment['kind']> = { image: 'photo', video: 'video', audio: 'audio', ptt: 'voice', document: 'document', sticker: 'sticker' };

/** The message without the parts that need the client (contact, quoted message, media bytes). */
export function normalizeWebMessage(message: WhatsAppMessageLike): InboundMessage {
  const attachments: Attachment[] = [];
  const meta: Array<{ name: string; value: string }> = [];
  let text = message.body ?? '';
  if (message.type === 'location' && message.location) {
    attachments.push({ kind: 'location', location: { latitude: Number(message.location.latitude), longitude: Number(message.location.longitude) } });
    text = [message.location.name, message.location.address, message.location.description].filter(Boolean).join('\n');
  } else if (message.type === 'vcard' || message.type === 'multi_vcard') {
    for (const card of message.vCards ?? []) attachments.push({ kind: 'contact', contact: parseVCard(card) });
    text = '';
  } else if (message.type === 'buttons_response' || message.type === 'list_response' || message.type === 'template_button_reply') {
    const id = message.selectedButtonId ?? message.selectedRowId;
    if (id) meta.push({ name: 'buttonId', value: id });
  } else if (!['chat', ...Object.keys(MEDIA_KINDS)].includes(message.type)) {
    text = text || `[${message.type} message: not supported]`;
  }
  return {
    channel: 'whatsapp',
    externalChatId: message.from,
    externalMessageId: message.id._serialized,
    profile: {},
    text,
    attachments,
    sentAt: new Date(message.timestamp ? message.timestamp * 1000 : Date.now()),
    meta: meta.length ? meta : undefined,
  };
}

function parseVCard(card: string): { name: string; phone?: string } {
  const line = (key: string) => card.split(/\r?\n/).find((l) => l.toUpperCase().startsWith(key));
  const name = line('FN')?.replace(/^FN[^:]*:/i, '').trim() ?? '';
  const phone = line('TEL')?.replace(/^TEL[^:]*:/i, '').trim();
  return { name, phone: phone || undefined };
}

/** A real Client: Debian's Chromium, no sandbox (containers), the login kept in MongoDB by RemoteAuth. */
function defaultClient(options: WhatsAppWebChannelOptions): WhatsAppClientLike {
  const store = new MongoSessionStore(options.dataDir);
  return new Client({
    authStrategy: new RemoteAuth({
      store: {
        sessionExists: (o) => store.sessionExists(o),
        extract: (o) => store.extract(o),
        delete: (o) => store.delete(o),
        // RemoteAuth backs up from a timer with no catch: a failed backup (database down) must not become an
        // unhandled rejection. The previous backup stays whole (see the store); the next try comes with the timer.
        save: (o) => store.save(o).catch((error: unknown) => options.logger.warn({ err: error }, 'WhatsApp Web session backup failed; the previous backup stays, the next one is tried in 5 minutes')),
      },
      dataPath: options.dataDir,
      backupSyncIntervalMs: 5 * 60_000,
    }),
    puppeteer: { executablePath: options.chromiumPath, headless: true, args: ['--no-sandbox', '--disable-setuid-sandbox', '--disable-dev-shm-usage'] },
    // After this many unscanned codes the client gives up ("disconnected"); the channel backs off and tries again.
    qrMaxRetries: 5,
  });
}
