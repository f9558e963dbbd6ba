import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { Config } from '../src/config.js';
import type { Attachment, Channel, ChannelCapabilities, ChannelSink, ChannelState, InboundMessage, OutboundMessage, SendContext, SendResult } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { OutboxItemModel, WebchatFileModel } from '../src/db/models/index.js';
import { registerAttachmentSource } from '../src/attachments.js';
import { customerMessageId } from '../src/conversations/customer-message.js';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { ChannelStateTracker } from './channel-state.js';
import { newVisitorId, signVisitorToken, verifyVisitorToken, type VisitorSession } from './webchat-token.js';
import { VisitorLimits } from './webchat-limits.js';
import { MAX_FRAME_BYTES, VisitorConnection, type ChangeFrame, type MessageFrame, type VisitorSocket, type WebchatMetrics } from './webchat-connection.js';
import { WebchatHistory } from './webchat-history.js';
import { WebchatPresence } from './webchat-presence.js';
import { DeliveryConfirmations } from './webchat-receipts.js';
import { WebchatUploads } from './webchat-uploads.js';
import { REF_PREFIX, TEXT_LIMIT, cleanProfile, describeInline, fileUrl, kindOf, type ChatLine, type FileView } from './webchat-views.js';

export type { ChatLine, FileView } from './webchat-views.js';

export type WebchatOptions = NonNullable<Config['webchat']> & {
  logger: Logger;
  /** config.instanceId: how the outbox workers know this gateway copy (presence, hand-over of sends). */
  instanceId?: string;
  metrics?: WebchatMetrics;
  now?: () => number;
  /** Presence timings, shortened by tests. */
  presence?: { heartbeatMs?: number; releaseDelayMs?: number };
};

const MAX_FILES_PER_MESSAGE = 5;
const PING_INTERVAL_MS = 30_000;
/** Close code that tells the widget to ask for a new session (its token is forged, expired or missing). */
export const SESSION_EXPIRED_CLOSE = 4401;
/** The visitor opened the chat in more tabs than allowed: the oldest is closed; the widget waits to be used again. */
export const TOO_MANY_TABS_CLOSE = 4409;
/** WebSocket's "Try Again Later": the history could not be read (database unreachable); the widget reconnects with backoff. */
export const TRY_AGAIN_LATER_CLOSE = 1013;
/** The least the widget waits before sending a message again that could not be stored. */
const UNAVAILABLE_RETRY_MS = 1000;

/**
 * The web chat: an embeddable widget (GET /widget.js), visitor sessions signed with WEBCHAT_SECRET
 * (POST /webchat/session), a WebSocket per open widget (/webchat/ws), uploads and files (webchat-uploads.ts).
 * Visitors are customers whose externalChatId is their visitor id; the widget never learns anything about
 * other visitors. What one visitor may cost is bounded in webchat-limits.ts.
 *
 * Several gateway copies may run: the presence registry (webchat-presence.ts) says which copy holds a visitor's
 * sockets; send() pushes on this copy, hands the send to the copy that holds the visitor, or leaves the reply in
 * the visitor's history for their next visit. The widget confirms what it showed, reported as "delivered".
 */
export class WebchatChannel implements Channel {
  readonly kind = 'webchat' as const;
  readonly capabilities: ChannelCapabilities = { edit: true, delete: true, typing: true, deliveryReceipts: true, readReceipts: false, buttons: true, maxTextLength: TEXT_LIMIT };
  /** The outbox passes our own `wc:` attachment references through; foreign ones arrive with their bytes. */
  readonly attachmentRefPrefix = REF_PREFIX;
  private readonly status: ChannelStateTracker;
  /** Each visitor's open sockets on this process, oldest first. */
  private readonly sockets = new Map<string, VisitorConnection[]>();
  private readonly connections = new WeakMap<VisitorSocket, VisitorConnection>();
  private readonly alive = new WeakMap<VisitorSocket, boolean>();
  private readonly limits: VisitorLimits;
  private readonly history: WebchatHistory;
  private readonly presence: WebchatPresence;
  private readonly confirmations: DeliveryConfirmations;
  private readonly uploads: WebchatUploads;
  private readonly now: () => number;
  private sink?: ChannelSink;
  private unregisterFiles?: () => void;
  private pinger?: NodeJS.Timeout;

  constructor(private readonly options: WebchatOptions) {
    this.status = new ChannelStateTracker('webchat', options.logger);
    this.now = options.now ?? Date.now;
    this.limits = new VisitorLimits(options, this.now);
    this.history = new WebchatHistory(options.historyMessages);
    this.presence = new WebchatPresence({ instanceId: options.instanceId ?? 'gateway', logger: options.logger, now: this.now, ...options.presence });
    this.confirmations = new DeliveryConfirmations(options.logger);
    this.uploads = new WebchatUploads({ ...options, limits: this.limits, sessionOf: (token) => this.sessionOf(token), clientIp, now: this.now });
  }

  state(): ChannelState {
    return this.status.get();
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.status.attach(sink);
    this.confirmations.start(sink);
    if (this.options.secretGenerated) {
      this.options.logger.warn('WEBCHAT_SECRET is not set: using a random secret of this process, so visitor sessions end at restart and are not shared between gateway copies');
    }
    if (this.options.allowedOrigins.includes('*')) this.options.logger.info('WEBCHAT_ALLOWED_ORIGINS is *: any site may embed the web chat');
    this.unregisterFiles = registerAttachmentSource(REF_PREFIX, async (ref) => {
      const file = await WebchatFileModel.findById(ref.slice(REF_PREFIX.length + 1));
      if (!file) throw new Error('the web chat file no longer exists');
      return { data: Buffer.from(file.data), mimeType: file.mimeType, fileName: file.fileName };
    });
    this.pinger = setInterval(() => this.pingAll(), PING_INTERVAL_MS);
    this.pinger.unref();
    this.uploads.start();
    await this.presence.start();
    this.status.set('up');
  }

  async stop(): Promise<void> {
    clearInterval(this.pinger);
    this.unregisterFiles?.();
    for (const list of this.sockets.values()) for (const connection of list) connection.socket.close(1001, 'server shutting down');
    this.sockets.clear();
    this.confirmations.stop();
    await this.uploads.stop();
    await this.presence.stop();
    this.status.set('stopped');
  }

  /**
   * Shows an operator's reply: pushed to the visitor's sockets on this copy; handed to the copy that holds them
   * (DeliveryError.elsewhere) when they are connected elsewhere; otherwise it waits in their history for their
   * next visit. It is "sent" either way; the widget's confirmation makes it "delivered".
   */
  async send(externalChatId: string, message: OutboundMessage, context: SendContext): Promise<SendResult> {
    if (!/^wv_[\w-]{16}$/.test(externalChatId)) throw DeliveryError.permanent('not a web chat visitor id');
    const item = await OutboxItemModel.findById(context.idempotencyKey).lean().catch(() => null);
    const stored = item?.message ? String(item.message) : undefined;
    const id = stored ?? `out-${context.idempotencyKey}`;
    // In the history first, then where the visitor is: a widget connecting meanwhile gets it one way or the other.
    if (stored) await this.history.append(externalChatId, [stored]);
    if (!this.sockets.has(externalChatId)) {
      const holder = await this.presence.elsewhere(externalChatId);
      if (holder) throw DeliveryError.elsewhere(holder);
    }
    const files: FileView[] = [];
    const lines = [message.text];
    for (const [index, attachment] of message.attachments.entries()) {
      const inline = describeInline(attachment);
      if (inline) lines.push(inline);
      else files.push(await this.uploads.keepOperatorFile(externalChatId, `${id}-${index}`, attachment));
    }
    const quickReplies = message.quickReplies?.length ? message.quickReplies : undefined;
    const line: ChatLine = { id, from: 'operator', text: lines.filter(Boolean).join('\n'), files, at: new Date(this.now()).toISOString(), quickReplies, ...(stored ? { confirm: true as const } : {}) };
    for (const connection of this.sockets.get(externalChatId) ?? []) {
      if (stored) connection.expectReceipt(stored);
      connection.send({ type: 'message', message: line });
    }
    return { externalMessageId: `wc:${id}` };
  }

  /** Replaces the text of an operator's reply wherever the visitor has the chat open; the history shows the latest text anyway. */
  async edit(externalChatId: string, externalMessageId: string, text: string): Promise<boolean> {
    await this.pushChange(externalChatId, { type: 'edit', id: lineId(externalMessageId), text });
    return true;
  }

  /** Takes an operator's reply away from the open chat; the history no longer lists it. */
  async delete(externalChatId: string, externalMessageId: string): Promise<void> {
    await this.pushChange(externalChatId, { type: 'delete', id: lineId(externalMessageId) });
  }

  /** A change goes to the visitor's sockets on this copy, or to the copy that holds them. */
  private async pushChange(visitorId: string, frame: { type: 'edit' | 'delete'; id: string; text?: string }): Promise<void> {
    if (!this.sockets.has(visitorId)) {
      const holder = await this.presence.elsewhere(visitorId);
      if (holder) throw DeliveryError.elsewhere(holder);
    }
    for (const connection of this.sockets.get(visitorId) ?? []) connection.send(frame);
  }

  /** Shows the visitor an 'operator is typing' hint (on this process's sockets); the widget hides it after a few seconds. */
  typing(visitorId: string): void {
    for (const connection of this.sockets.get(visitorId) ?? []) connection.send({ type: 'typing' });
  }

  async registerRoutes(app: FastifyInstance): Promise<void> {
    const widget = await readFile(new URL('./webchat-widget/widget.js', import.meta.url));
    if (!app.hasDecorator('websocketServer')) {
      await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES }, errorHandler: (error, socket) => this.onSocketError(error, socket as unknown as VisitorSocket) });
    }

    app.get('/widget.js', async (_request, reply) =>
      reply.type('application/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').header('cross-origin-resource-policy', 'cross-origin').send(widget),
    );

    await app.register(async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        const origin = request.headers.origin;
        if (!this.originAllowed(origin)) return reply.code(403).send({ error: 'this site may not use the chat (origin not allowed)' });
        if (origin) reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      });
      scope.options('/webchat/*', async (_request, reply) =>
        reply
          .code(204)
          .header('access-control-allow-methods', 'GET, POST, OPTIONS')
          .header('access-control-allow-headers', 'content-type, authorization, x-file-name')
          .header('access-control-max-age', '600')
          .send(),
      );

      scope.post('/webchat/session', { bodyLimit: 4096 }, async (request, reply) => {
        const wait = this.limits.buckets.take([this.limits.address(clientIp(request))]);
        if (wait > 0) return tooMany(reply, wait);
        const previous = verifyVisitorToken(this.options.secret, (request.body as { token?: unknown } | undefined)?.token, new Date(this.now()));
        const session: VisitorSession = { visitorId: previous?.visitorId ?? newVisitorId(), expiresAt: new Date(this.now() + this.options.tokenTtlMs) };
        return {
          token: signVisitorToken(this.options.secret, session),
          visitorId: session.visitorId,
          expiresAt: session.expiresAt.toISOString(),
          resumed: Boolean(previous),
          askContact: this.options.askContact,
          maxFileSize: this.options.maxFileSize,
          allowedFileTypes: this.options.allowedFileTypes,
        };
      });

      await this.uploads.registerRoutes(scope);

      scope.get('/webchat/ws', { websocket: true, onRequest: (request, reply) => this.admitSocket(request, reply) }, (socket, request) => this.onSocket(socket as unknown as VisitorSocket, request));
    });
  }

  // ---- HTTP helpers -------------------------------------------------------------------------------------

  private originAllowed(origin: string | undefined): boolean {
    // No Origin: not a cross-origin browser request (same-origin GET, <img>, server-to-server). Origins are
    // a browser-side protection only; the token and the rate limits protect against everything else.
    if (origin === undefined) return true;
    const allowed = this.options.allowedOrigins;
    return allowed.includes('*') || allowed.some((o) => o.toLowerCase() === origin.toLowerCase());
  }

  private sessionOf(token: unknown): VisitorSession | undefined {
    return verifyVisitorToken(this.options.secret, token, new Date(this.now()));
  }

  /** WebSocket connects per address and per visitor, refused with 429 before the upgrade. */
  private async admitSocket(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const session = this.sessionOf((request.query as { token?: string } | undefined)?.token);
    const refused = this.limits.connect(clientIp(request), session?.visitorId);
    if (!refused) return;
    this.options.metrics?.webchatConnectsRefused.inc({ reason: refused.reason });
    return void tooMany(reply, refused.waitMs);
  }

  // ---- WebSocket ------------------------------------------------------------------------------------------

  private onSocket(socket: VisitorSocket, request: FastifyRequest): void {
    const session = this.sessionOf((request.query as { token?: string } | undefined)?.token);
    if (!session) {
      socket.send(JSON.stringify({ type: 'session-expired' }));
      socket.close(SESSION_EXPIRED_CLOSE, 'session expired');
      return;
    }
    const visitorId = session.visitorId;
    const connection = new VisitorConnection(socket, visitorId, clientIp(request), {
      limits: this.limits,
      logger: this.options.logger,
      metrics: this.options.metrics,
      now: this.now,
      handlers: {
        message: (c, frame) => this.onVisitorMessage(c, frame),
        change: (c, frame) => this.onVisitorChange(c, frame),
        typing: () => this.sink?.typing?.('webchat', visitorId),
        received: (_c, messageId) => this.confirmations.confirm(messageId),
      },
    });
    // Listeners are attached now, before anything awaits: frames are handled in order, after the history.
    this.connections.set(socket, connection);
    socket.on('message', (data, isBinary) => connection.receive(data, isBinary));
    socket.on('close', () => this.detach(connection));
    socket.on('pong', () => this.alive.set(socket, true));
    this.attach(connection);
    connection.enqueue(async () => {
      let messages: ChatLine[];
      try {
        // Said before the history is read: a reply sent meanwhile is either in it or handed to this copy.
        await this.presence.hold(visitorId).catch((error: unknown) => this.options.logger.debug({ err: error }, 'could not record where a web chat visitor is connected'));
        messages = await this.history.read(visitorId);
      } catch (error) {
        // Without its history the widget sends nothing (it resends its queue on the history): it comes back later.
        this.options.logger.warn({ err: error }, 'web chat history could not be read; the widget is told to reconnect later');
        connection.send({ type: 'error', code: 'unavailable', retryAfterMs: UNAVAILABLE_RETRY_MS });
        socket.close(TRY_AGAIN_LATER_CLOSE, 'try again later');
        return;
      }
      for (const line of messages) if (line.confirm) connection.expectReceipt(line.id);
      connection.send({ type: 'history', messages });
    }, 'history');
  }

  private onSocketError(error: Error, socket: VisitorSocket): void {
    const connection = this.connections.get(socket);
    if (connection) return connection.failed(error);
    this.options.logger.debug({ error: error.message }, 'web chat socket error');
    socket.terminate();
  }

  /** Checks a visitor's message at once (shape, rate) and queues what may be stored. */
  private onVisitorMessage(connection: VisitorConnection, frame: MessageFrame): void {
    const clientId = typeof frame.clientId === 'string' && /^[\w-]{8,64}$/.test(frame.clientId) ? frame.clientId : undefined;
    const text = typeof frame.text === 'string' ? frame.text.trim() : '';
    const fileIds = Array.isArray(frame.files) ? frame.files.filter((f): f is string => typeof f === 'string' && /^[\w-]{1,80}$/.test(f)) : [];
    if (!clientId || text.length > TEXT_LIMIT || fileIds.length > MAX_FILES_PER_MESSAGE || (!text && fileIds.length === 0)) {
      return connection.send({ type: 'error', code: 'invalid', clientId });
    }
    const wait = this.limits.buckets.take([this.limits.visitor(connection.visitorId), this.limits.address(connection.ip)]);
    if (wait > 0) return connection.send({ type: 'error', code: 'rate_limited', clientId, retryAfterMs: wait });
    const queued = connection.enqueue(() => this.storeVisitorMessage(connection, { clientId, text, fileIds, profile: frame.profile, page: frame.page }));
    if (!queued) connection.send({ type: 'error', code: 'rate_limited', clientId, retryAfterMs: 2000 });
  }

  private async storeVisitorMessage(connection: VisitorConnection, frame: { clientId: string; text: string; fileIds: string[]; profile: unknown; page: unknown }): Promise<void> {
    const { visitorId } = connection;
    const { clientId, text, fileIds } = frame;
    let files;
    try {
      files = fileIds.length ? await WebchatFileModel.find({ _id: { $in: fileIds }, visitorId }, { data: 0 }).lean() : [];
      if (files.length === new Set(fileIds).size) await this.uploads.markSent(fileIds);
    } catch (error) {
      return this.notStored(connection, clientId, error);
    }
    if (files.length !== new Set(fileIds).size) return connection.send({ type: 'error', code: 'file_not_found', clientId });
    const attachments: Attachment[] = files.map((f) => ({ kind: kindOf(f.mimeType), fileName: f.fileName, mimeType: f.mimeType, size: f.size, ref: `${REF_PREFIX}:${f._id}` }));
    const page = typeof frame.page === 'string' && /^https?:\/\//.test(frame.page) ? frame.page.slice(0, 500) : undefined;
    const message: InboundMessage = {
      channel: 'webchat',
      externalChatId: visitorId,
      // The widget's id: a message re-sent from its offline queue after a lost ack is stored once.
      externalMessageId: `${visitorId}:${clientId}`,
      profile: cleanProfile(frame.profile),
      text,
      attachments,
      sentAt: new Date(this.now()),
      meta: page ? [{ name: 'page', value: page }] : [],
    };
    try {
      if (!this.sink) throw new Error('the web chat is not started');
      await this.sink.inbound(message);
      await this.history.append(visitorId, [String(customerMessageId(message))]);
    } catch (error) {
      return this.notStored(connection, clientId, error);
    }
    // Only now: an ack tells the widget it may forget the message.
    connection.send({ type: 'ack', clientId });
    const line: ChatLine = { id: message.externalMessageId, clientId, from: 'visitor', text, files: files.map((f) => ({ kind: kindOf(f.mimeType), fileName: f.fileName, mimeType: f.mimeType, size: f.size, url: fileUrl(f._id) })), at: message.sentAt.toISOString() };
    // The visitor's other tabs show it too.
    for (const other of this.sockets.get(visitorId) ?? []) if (other !== connection) other.send({ type: 'message', message: line });
  }

  /** The visitor edited or deleted one of their messages: stored, and every open tab of theirs shows it. */
  private onVisitorChange(connection: VisitorConnection, frame: ChangeFrame): void {
    const clientId = typeof frame.clientId === 'string' && /^[\w-]{8,64}$/.test(frame.clientId) ? frame.clientId : undefined;
    const text = typeof frame.text === 'string' ? frame.text.trim() : '';
    if (!clientId || (frame.type === 'edit' && (!text || text.length > TEXT_LIMIT))) return connection.send({ type: 'error', code: 'invalid', change: clientId });
    const id = `${connection.visitorId}:${clientId}`;
    const queued = connection.enqueue(async () => {
      try {
        await this.sink?.changed?.({ channel: 'webchat', externalMessageId: id, kind: frame.type === 'edit' ? 'edited' : 'deleted', text: frame.type === 'edit' ? text : undefined, at: new Date(this.now()) });
      } catch (error) {
        this.options.logger.warn({ err: error }, 'a web chat visitor\'s edit or deletion could not be stored; the widget is told');
        return connection.send({ type: 'error', code: isDatabaseUnavailable(error) ? 'unavailable' : 'failed', change: clientId });
      }
      for (const tab of this.sockets.get(connection.visitorId) ?? []) tab.send(frame.type === 'edit' ? { type: 'edit', id, text } : { type: 'delete', id });
    });
    if (!queued) connection.send({ type: 'error', code: 'rate_limited', change: clientId, retryAfterMs: 2000 });
  }

  /**
   * No ack: the widget keeps the message queued and sends it again with backoff (the same clientId, so a
   * message stored after all is stored once). `unavailable`: the database is unreachable; `failed`: anything else.
   */
  private notStored(connection: VisitorConnection, clientId: string, error: unknown): void {
    if (isDatabaseUnavailable(error)) {
      this.options.logger.warn({ err: error }, 'web chat message not stored: the database is unreachable; the widget sends it again');
      return connection.send({ type: 'error', code: 'unavailable', clientId, retryAfterMs: UNAVAILABLE_RETRY_MS });
    }
    this.options.logger.error({ err: error }, 'could not store a web chat message');
    connection.send({ type: 'error', code: 'failed', clientId });
  }

  // ---- sockets ----------------------------------------------------------------------------------------------

  /** Registers a socket; beyond WEBCHAT_TABS_PER_VISITOR the visitor's oldest one is closed. */
  private attach(connection: VisitorConnection): void {
    const list = this.sockets.get(connection.visitorId) ?? [];
    this.sockets.set(connection.visitorId, list);
    list.push(connection);
    this.alive.set(connection.socket, true);
    while (list.length > this.options.tabsPerVisitor) {
      const oldest = list.shift()!;
      oldest.close(TOO_MANY_TABS_CLOSE, 'the chat is open in another tab', 'too_many_tabs');
    }
  }

  private detach(connection: VisitorConnection): void {
    const list = this.sockets.get(connection.visitorId);
    if (!list) return;
    const index = list.indexOf(connection);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) {
      this.sockets.delete(connection.visitorId);
      this.presence.release(connection.visitorId);
    }
  }

  /** Drops sockets that did not answer the last ping (a laptop closed mid-chat) and forgets full rate buckets. */
  private pingAll(): void {
    for (const list of this.sockets.values()) {
      for (const connection of [...list]) {
        const { socket } = connection;
        if (!this.alive.get(socket)) {
          socket.terminate();
          this.detach(connection);
          continue;
        }
        this.alive.set(socket, false);
        socket.ping();
      }
    }
    this.limits.sweep();
  }
}

// ---- small pure helpers ----------------------------------------------------------------------------------

function tooMany(reply: FastifyReply, waitMs: number) {
  return reply
    .code(429)
    .header('retry-after', String(Math.ceil(waitMs / 1000)))
    .send({ error: 'too many requests, try again in a moment', code: 'rate_limited', retryAfterMs: waitMs });
}

function clientIp(request: FastifyRequest): string {
  try {
    return request.ip || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The widget's id of an operator's reply: the stored message's id, which send() returned as `wc:<id>`. */
function lineId(externalMessageId: string): string {
  return externalMessageId.replace(/^wc:/, '');
}
