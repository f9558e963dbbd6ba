import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { Config } from '../src/config.js';
import type { Attachment, Channel, ChannelCapabilities, ChannelSink, ChannelState, InboundMessage, OutboundMessage, SendContext, SendResult } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { ChatKeyModel, ConversationModel, MessageModel, OutboxItemModel, WebchatFileModel } from '../src/db/models/index.js';
import { chatKeyOf } from '../src/conversations/open.js';
import { registerAttachmentSource } from '../src/attachments.js';
import { isDatabaseUnavailable, isDuplicateKeyError } from '../src/db/errors.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { ChannelStateTracker } from './channel-state.js';
import { newVisitorId, signVisitorToken, verifyVisitorToken, type VisitorSession } from './webchat-token.js';
import { SlidingBuckets } from './webchat-rate-limit.js';

export type WebchatOptions = NonNullable<Config['webchat']> & { logger: Logger; now?: () => number };

const REF_PREFIX = 'wc';
const TEXT_LIMIT = 4000;
const MAX_FRAME_BYTES = 16 * 1024;
const MAX_FILES_PER_MESSAGE = 5;
const HISTORY_LIMIT = 200;
const PING_INTERVAL_MS = 30_000;
/** Close code that tells the widget to ask for a new session (its token is forged, expired or missing). */
export const SESSION_EXPIRED_CLOSE = 4401;
/** WebSocket's "Try Again Later": the history could not be read (database unreachable); the widget reconnects with backoff. */
export const TRY_AGAIN_LATER_CLOSE = 1013;
/** The least the widget waits before sending a message again that could not be stored. */
const UNAVAILABLE_RETRY_MS = 1000;

/** The slice of a `ws` WebSocket this adapter uses (the package ships no types of its own). */
interface VisitorSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close' | 'pong', listener: () => void): void;
}

/** One line of the chat as the widget shows it. */
export interface ChatLine {
  id: string;
  /** The widget's own id of a visitor message, so a queued copy and the stored one are recognised as one. */
  clientId?: string;
  from: 'visitor' | 'operator' | 'system';
  text: string;
  files: FileView[];
  at: string;
  /** Answers offered as buttons; the widget shows them under the newest message only. */
  quickReplies?: string[];
}

export interface FileView {
  kind: string;
  fileName: string;
  mimeType?: string;
  size?: number;
  /** Relative to the gateway; the widget appends its token. Absent when the bytes are not available. */
  url?: string;
}

type ClientFrame =
  | { type: 'message'; clientId: string; text?: string; files?: string[]; profile?: { name?: string; email?: string }; page?: string }
  | { type: 'typing' }
  | { type: 'ping' };

/**
 * The web chat: an embeddable widget (GET /widget.js), visitor sessions signed with WEBCHAT_SECRET
 * (POST /webchat/session), a WebSocket per open widget (/webchat/ws), uploads (POST /webchat/upload) and the
 * files a visitor may see (GET /webchat/files/:id). Visitors are customers whose externalChatId is their
 * visitor id; the widget never learns anything about other visitors.
 *
 * Several gateway copies may run: send() pushes a reply to the visitor's sockets on THIS process only. The
 * reply is already stored as a Message, so a visitor connected elsewhere sees it from history when the
 * widget reconnects; send() therefore succeeds once the reply is stored, whether or not a socket got it.
 */
export class WebchatChannel implements Channel {
  readonly kind = 'webchat' as const;
  readonly capabilities: ChannelCapabilities = { edit: false, typing: true, deliveryReceipts: false, readReceipts: false, buttons: true, maxTextLength: TEXT_LIMIT };
  /** The outbox passes our own `wc:` attachment references through; foreign ones arrive with their bytes. */
  readonly attachmentRefPrefix = REF_PREFIX;
  private readonly status: ChannelStateTracker;
  private readonly sockets = new Map<string, Set<VisitorSocket>>();
  private readonly alive = new WeakMap<VisitorSocket, boolean>();
  private readonly limits: SlidingBuckets;
  private readonly now: () => number;
  private sink?: ChannelSink;
  private unregisterFiles?: () => void;
  private pinger?: NodeJS.Timeout;

  constructor(private readonly options: WebchatOptions) {
    this.status = new ChannelStateTracker('webchat', options.logger);
    this.now = options.now ?? Date.now;
    this.limits = new SlidingBuckets(this.now);
  }

  state(): ChannelState {
    return this.status.get();
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.status.attach(sink);
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
    this.status.set('up');
  }

  async stop(): Promise<void> {
    clearInterval(this.pinger);
    this.unregisterFiles?.();
    for (const set of this.sockets.values()) for (const socket of set) socket.close(1001, 'server shutting down');
    this.sockets.clear();
    this.status.set('stopped');
  }

  /** Pushes the reply to the visitor's sockets on this process; see the class comment for other processes. */
  async send(externalChatId: string, message: OutboundMessage, context: SendContext): Promise<SendResult> {
    if (!/^wv_[\w-]{16}$/.test(externalChatId)) throw DeliveryError.permanent('not a web chat visitor id');
    const item = await OutboxItemModel.findById(context.idempotencyKey).lean().catch(() => null);
    const id = item?.message ? String(item.message) : `out-${context.idempotencyKey}`;
    const files: FileView[] = [];
    const lines = [message.text];
    for (const [index, attachment] of message.attachments.entries()) {
      const inline = describeInline(attachment);
      if (inline) lines.push(inline);
      else files.push(await this.keepOperatorFile(externalChatId, `${id}-${index}`, attachment));
    }
    const quickReplies = message.quickReplies?.length ? message.quickReplies : undefined;
    this.push(externalChatId, { type: 'message', message: { id, from: 'operator', text: lines.filter(Boolean).join('\n'), files, at: new Date(this.now()).toISOString(), quickReplies } });
    return { externalMessageId: `wc:${id}` };
  }

  /** Shows the visitor an 'operator is typing' hint (on this process's sockets); the widget hides it after a few seconds. */
  typing(visitorId: string): void {
    this.push(visitorId, { type: 'typing' });
  }

  async registerRoutes(app: FastifyInstance): Promise<void> {
    const widget = await readFile(new URL('./webchat-widget/widget.js', import.meta.url));
    if (!app.hasDecorator('websocketServer')) await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });

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
        const wait = this.limits.take([this.ipLimit(request)]);
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

      await scope.register(async (uploads) => {
        uploads.removeAllContentTypeParsers();
        uploads.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: this.options.maxFileSize }, (_request, body, done) => done(null, body));
        uploads.post('/webchat/upload', { onRequest: (request, reply) => this.admitUpload(request, reply) }, (request, reply) => this.upload(request, reply));
      });

      scope.get<{ Params: { id: string }; Querystring: { token?: string } }>('/webchat/files/:id', async (request, reply) => {
        const session = this.sessionOf(request.query.token ?? bearer(request));
        const file = session && /^[\w-]{1,80}$/.test(request.params.id) ? await WebchatFileModel.findById(request.params.id) : null;
        // The same answer for "no such file" and "not yours": a visitor learns nothing about other visitors' files.
        if (!session || !file || file.visitorId !== session.visitorId) return reply.code(404).send({ error: 'not found' });
        const inline = file.mimeType.startsWith('image/');
        return reply
          .header('content-type', file.mimeType)
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('cross-origin-resource-policy', 'cross-origin')
          .header('cache-control', 'private, max-age=3600')
          .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.fileName)}`)
          .send(Buffer.from(file.data));
      });

      scope.get('/webchat/ws', { websocket: true }, (socket, request) => this.onSocket(socket as VisitorSocket, request));
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

  private ipLimit(request: FastifyRequest) {
    return { key: `ip:${clientIp(request)}`, perMinute: this.options.ipRatePerMinute };
  }

  private visitorLimit(visitorId: string) {
    return { key: `visitor:${visitorId}`, perMinute: this.options.ratePerMinute };
  }

  /** Refuses an upload before its body is read: session, rate, declared type and size. */
  private async admitUpload(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const session = this.sessionOf(bearer(request));
    if (!session) return void reply.code(401).send({ error: 'your chat session has expired', code: 'session' });
    const wait = this.limits.take([this.visitorLimit(session.visitorId), this.ipLimit(request)]);
    if (wait > 0) return void tooMany(reply, wait);
    const mimeType = mimeTypeOf(request);
    if (!this.typeAllowed(mimeType)) return void reply.code(415).send({ error: `files of type ${mimeType || 'unknown'} are not accepted`, code: 'type' });
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (declared > this.options.maxFileSize) return void reply.code(413).send({ error: `the file is larger than ${this.options.maxFileSize} bytes`, code: 'size' });
  }

  private async upload(request: FastifyRequest, reply: FastifyReply) {
    const session = this.sessionOf(bearer(request))!;
    const data = request.body;
    if (!Buffer.isBuffer(data) || data.length === 0) return reply.code(400).send({ error: 'the file is empty', code: 'empty' });
    const mimeType = mimeTypeOf(request);
    if (mimeType.startsWith('image/') && !looksLike(mimeType, data)) return reply.code(415).send({ error: `the file is not a ${mimeType} image`, code: 'type' });
    const id = randomBytes(16).toString('base64url');
    const fileName = cleanFileName(request.headers['x-file-name']);
    try {
      await WebchatFileModel.create({ _id: id, visitorId: session.visitorId, fileName, mimeType, size: data.length, data });
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      return reply.code(503).header('retry-after', '5').send({ error: 'the chat cannot take files right now; please try again in a moment', code: 'unavailable' });
    }
    return { id, fileName, mimeType, size: data.length, kind: kindOf(mimeType), url: `/webchat/files/${id}` };
  }

  private typeAllowed(mimeType: string): boolean {
    return this.options.allowedFileTypes.some((allowed) => allowed === mimeType || (allowed.endsWith('/*') && mimeType.startsWith(allowed.slice(0, -1))));
  }

  // ---- WebSocket ------------------------------------------------------------------------------------------

  private onSocket(socket: VisitorSocket, request: FastifyRequest): void {
    const session = this.sessionOf((request.query as { token?: string } | undefined)?.token);
    const ip = clientIp(request);
    // Frames are handled one at a time, in order, after the history: attached now, before anything awaits.
    let work: Promise<void> = Promise.resolve();
    const enqueue = (task: () => Promise<void>) => {
      work = work.then(task).catch((error: unknown) => this.options.logger.error({ err: error }, 'web chat frame failed'));
    };
    socket.on('message', (data, isBinary) => {
      if (session) enqueue(() => this.onFrame(socket, session, ip, data, isBinary));
    });
    socket.on('close', () => {
      if (session) this.detach(session.visitorId, socket);
    });
    socket.on('pong', () => this.alive.set(socket, true));
    if (!session) {
      sendTo(socket, { type: 'session-expired' });
      socket.close(SESSION_EXPIRED_CLOSE, 'session expired');
      return;
    }
    this.attach(session.visitorId, socket);
    enqueue(async () => {
      let messages: ChatLine[];
      try {
        messages = await this.history(session.visitorId);
      } catch (error) {
        // Without its history the widget sends nothing (it resends its queue on the history): it comes back later.
        this.options.logger.warn({ err: error }, 'web chat history could not be read; the widget is told to reconnect later');
        sendTo(socket, { type: 'error', code: 'unavailable', retryAfterMs: UNAVAILABLE_RETRY_MS });
        socket.close(TRY_AGAIN_LATER_CLOSE, 'try again later');
        return;
      }
      sendTo(socket, { type: 'history', messages });
    });
  }

  private async onFrame(socket: VisitorSocket, session: VisitorSession, ip: string, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> {
    const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    let frame: ClientFrame;
    try {
      if (isBinary || raw.length > MAX_FRAME_BYTES) throw new Error('bad frame');
      frame = JSON.parse(raw.toString('utf8')) as ClientFrame;
    } catch {
      return sendTo(socket, { type: 'error', code: 'bad_frame' });
    }
    if (frame?.type === 'ping') return sendTo(socket, { type: 'pong' });
    if (frame?.type === 'typing') return this.sink?.typing?.('webchat', session.visitorId);
    if (frame?.type !== 'message') return sendTo(socket, { type: 'error', code: 'unknown_type' });
    await this.onVisitorMessage(socket, session.visitorId, ip, frame);
  }

  private async onVisitorMessage(socket: VisitorSocket, visitorId: string, ip: string, frame: Extract<ClientFrame, { type: 'message' }>): Promise<void> {
    const clientId = typeof frame.clientId === 'string' && /^[\w-]{8,64}$/.test(frame.clientId) ? frame.clientId : undefined;
    const text = typeof frame.text === 'string' ? frame.text.trim() : '';
    const fileIds = Array.isArray(frame.files) ? frame.files.filter((f): f is string => typeof f === 'string') : [];
    if (!clientId || text.length > TEXT_LIMIT || fileIds.length > MAX_FILES_PER_MESSAGE || (!text && fileIds.length === 0)) {
      return sendTo(socket, { type: 'error', code: 'invalid', clientId });
    }
    const wait = this.limits.take([this.visitorLimit(visitorId), { key: `ip:${ip}`, perMinute: this.options.ipRatePerMinute }]);
    if (wait > 0) return sendTo(socket, { type: 'error', code: 'rate_limited', clientId, retryAfterMs: wait });

    let files;
    try {
      files = fileIds.length ? await WebchatFileModel.find({ _id: { $in: fileIds }, visitorId }, { data: 0 }).lean() : [];
    } catch (error) {
      return this.notStored(socket, clientId, error);
    }
    if (files.length !== new Set(fileIds).size) return sendTo(socket, { type: 'error', code: 'file_not_found', clientId });
    const attachments: Attachment[] = files.map((f) => ({ kind: kindOf(f.mimeType), fileName: f.fileName, mimeType: f.mimeType, size: f.size, ref: `${REF_PREFIX}:${f._id}` }));
    const profile = cleanProfile(frame.profile);
    const page = typeof frame.page === 'string' && /^https?:\/\//.test(frame.page) ? frame.page.slice(0, 500) : undefined;
    const message: InboundMessage = {
      channel: 'webchat',
      externalChatId: visitorId,
      // The widget's id: a message re-sent from its offline queue after a lost ack is stored once.
      externalMessageId: `${visitorId}:${clientId}`,
      profile,
      text,
      attachments,
      sentAt: new Date(this.now()),
      meta: page ? [{ name: 'page', value: page }] : [],
    };
    try {
      if (!this.sink) throw new Error('the web chat is not started');
      await this.sink.inbound(message);
    } catch (error) {
      return this.notStored(socket, clientId, error);
    }
    // Only now: an ack tells the widget it may forget the message.
    sendTo(socket, { type: 'ack', clientId });
    const line: ChatLine = { id: message.externalMessageId, clientId, from: 'visitor', text, files: files.map((f) => ({ kind: kindOf(f.mimeType), fileName: f.fileName, mimeType: f.mimeType, size: f.size, url: `/webchat/files/${f._id}` })), at: message.sentAt.toISOString() };
    // The visitor's other tabs show it too.
    this.push(visitorId, { type: 'message', message: line }, socket);
  }

  /**
   * No ack: the widget keeps the message queued and sends it again with backoff (the same clientId, so a
   * message stored after all is stored once). `unavailable`: the database is unreachable; `failed`: anything else.
   */
  private notStored(socket: VisitorSocket, clientId: string, error: unknown): void {
    if (isDatabaseUnavailable(error)) {
      this.options.logger.warn({ err: error }, 'web chat message not stored: the database is unreachable; the widget sends it again');
      return sendTo(socket, { type: 'error', code: 'unavailable', clientId, retryAfterMs: UNAVAILABLE_RETRY_MS });
    }
    this.options.logger.error({ err: error }, 'could not store a web chat message');
    sendTo(socket, { type: 'error', code: 'failed', clientId });
  }

  /** The visitor's own conversations, oldest first: nothing else is ever read for a socket. */
  private async history(visitorId: string): Promise<ChatLine[]> {
    const chat = await ChatKeyModel.findById(chatKeyOf('webchat', visitorId)).lean();
    if (!chat) return [];
    const conversations = await ConversationModel.find({ customer: chat.customer }, { _id: 1 }).lean();
    const messages = await MessageModel.find({ conversation: { $in: conversations.map((c) => c._id) }, direction: { $in: ['in', 'out', 'system'] } })
      .sort({ createdAt: -1 })
      .limit(HISTORY_LIMIT)
      .lean();
    messages.reverse();
    // Operator files kept by send() are named after their message; find which ones exist.
    const candidates = messages.filter((m) => m.direction !== 'in').flatMap((m) => m.attachments.map((_, i) => `${m._id}-${i}`));
    const kept = new Set(candidates.length ? (await WebchatFileModel.find({ _id: { $in: candidates }, visitorId }, { _id: 1 }).lean()).map((f) => f._id) : []);
    return messages.map((m) => {
      const lines = [m.text ?? ''];
      const files: FileView[] = [];
      m.attachments.forEach((a, index) => {
        const inline = describeInline(a as Attachment);
        if (inline) return lines.push(inline);
        const fileId = a.ref?.startsWith(`${REF_PREFIX}:`) ? a.ref.slice(REF_PREFIX.length + 1) : kept.has(`${m._id}-${index}`) ? `${m._id}-${index}` : undefined;
        files.push({ kind: a.kind, fileName: a.fileName ?? a.kind, mimeType: a.mimeType ?? undefined, size: a.size ?? undefined, url: fileId ? `/webchat/files/${fileId}` : undefined });
      });
      const prefix = `${visitorId}:`;
      return {
        id: m.direction === 'in' ? (m.externalId ?? String(m._id)) : String(m._id),
        clientId: m.direction === 'in' && m.externalId?.startsWith(prefix) ? m.externalId.slice(prefix.length) : undefined,
        from: m.direction === 'in' ? 'visitor' : m.author?.kind === 'operator' ? 'operator' : 'system',
        text: lines.filter(Boolean).join('\n'),
        files,
        at: (m.createdAt ?? new Date()).toISOString(),
        quickReplies: m.quickReplies?.length ? m.quickReplies : undefined,
      } satisfies ChatLine;
    });
  }

  /** An operator's attachment with inline bytes, stored so the widget can fetch it; idempotent across retries. */
  private async keepOperatorFile(visitorId: string, fileId: string, attachment: Attachment): Promise<FileView> {
    const view: FileView = { kind: attachment.kind, fileName: attachment.fileName ?? attachment.kind, mimeType: attachment.mimeType, size: attachment.size };
    if (attachment.ref?.startsWith(`${REF_PREFIX}:`)) return { ...view, url: `/webchat/files/${attachment.ref.slice(REF_PREFIX.length + 1)}` };
    if (!attachment.dataBase64) return view;
    const data = Buffer.from(attachment.dataBase64, 'base64');
    const mimeType = attachment.mimeType ?? 'application/octet-stream';
    try {
      await WebchatFileModel.create({ _id: fileId, visitorId, fileName: view.fileName, mimeType, size: data.length, data });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw DeliveryError.transient(`could not store the file for the web chat: ${(error as Error).message}`);
    }
    return { ...view, mimeType, size: data.length, url: `/webchat/files/${fileId}` };
  }

  // ---- sockets ----------------------------------------------------------------------------------------------

  private attach(visitorId: string, socket: VisitorSocket): void {
    let set = this.sockets.get(visitorId);
    if (!set) this.sockets.set(visitorId, (set = new Set()));
    set.add(socket);
    this.alive.set(socket, true);
  }

  private detach(visitorId: string, socket: VisitorSocket): void {
    const set = this.sockets.get(visitorId);
    set?.delete(socket);
    if (set?.size === 0) this.sockets.delete(visitorId);
  }

  private push(visitorId: string, frame: Record<string, unknown>, except?: VisitorSocket): void {
    for (const socket of this.sockets.get(visitorId) ?? []) if (socket !== except) sendTo(socket, frame);
  }

  /** Drops sockets that did not answer the last ping (a laptop closed mid-chat) and forgets full rate buckets. */
  private pingAll(): void {
    for (const [visitorId, set] of this.sockets) {
      for (const socket of set) {
        if (!this.alive.get(socket)) {
          socket.terminate();
          this.detach(visitorId, socket);
          continue;
        }
        this.alive.set(socket, false);
        socket.ping();
      }
    }
    this.limits.sweep((key) => (key.startsWith('ip:') ? this.options.ipRatePerMinute : this.options.ratePerMinute));
  }
}

// ---- small pure helpers ----------------------------------------------------------------------------------

const OPEN = 1;

function sendTo(socket: VisitorSocket, frame: Record<string, unknown>): void {
  if (socket.readyState === OPEN) socket.send(JSON.stringify(frame));
}

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

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}

function mimeTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function kindOf(mimeType: string): Attachment['kind'] {
  if (mimeType.startsWith('image/')) return 'photo';
  if (mimeType.startsWith('video/')) return 'video';
  if (mimeType.startsWith('audio/')) return 'audio';
  return 'document';
}

/** Images are shown inline: a file claiming to be one must start like one. */
function looksLike(mimeType: string, data: Buffer): boolean {
  const starts = (...bytes: number[]) => bytes.every((b, i) => data[i] === b);
  switch (mimeType) {
    case 'image/png':
      return starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/jpeg':
      return starts(0xff, 0xd8, 0xff);
    case 'image/gif':
      return data.subarray(0, 6).toString('latin1') === 'GIF87a' || data.subarray(0, 6).toString('latin1') === 'GIF89a';
    case 'image/webp':
      return data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP';
    default:
      // Other image types (svg...) only if the operator allowed them; served with a sandboxing CSP.
      return true;
  }
}

function cleanFileName(header: string | string[] | undefined): string {
  let name = typeof header === 'string' ? header : '';
  try {
    name = decodeURIComponent(name);
  } catch {
    // keep it as sent
  }
  name = name.replace(/^.*[\\/]/, '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200);
  return name || 'file';
}

function cleanProfile(profile: unknown): InboundMessage['profile'] {
  if (!profile || typeof profile !== 'object') return {};
  const { name, email } = profile as { name?: unknown; email?: unknown };
  return {
    name: typeof name === 'string' && name.trim() ? name.trim().slice(0, 100) : undefined,
    email: typeof email === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) ? email.trim().slice(0, 200) : undefined,
  };
}

/** Locations and contacts are shown as text lines, not files. */
function describeInline(attachment: Attachment): string | undefined {
  if (attachment.kind === 'location' && attachment.location) return `📍 ${attachment.location.latitude}, ${attachment.location.longitude}`;
  if (attachment.kind === 'contact' && attachment.contact) return ['👤', attachment.contact.name, attachment.contact.phone].filter(Boolean).join(' ');
  return undefined;
}
