import http from 'node:http';
import https from 'node:https';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { APIError, APIRequest, VK } from 'vk-io';
import type { Attachment, Channel, ChannelCapabilities, ChannelSink, ChannelState, InboundMessage, OutboundMessage, RateBucket, SendContext, SendResult } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { CustomerModel, MessageModel } from '../src/db/models/index.js';
import { registerAttachmentSource } from '../src/attachments.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { backoffDelay } from '../src/outbox/backoff.js';
import { splitText } from '../src/util/split-text.js';
import { ChannelStateTracker, sleep } from './channel-state.js';
import { InboundEvents } from './inbound-events.js';
import { loadChannelCursor, saveChannelCursor } from '../src/db/models/index.js';
import { LookupCache } from './lookup-cache.js';
import { vkEventSchema, vkMessageSchema, type VkAttachment, type VkEvent, type VkMessage, type VkSize } from './vk-events.js';
import { answerOversizedBodies, type RejectionCounter } from './webhook-rejections.js';

const TEXT_LIMIT = 4096;
/** messages.send takes at most 10 attachments. */
const MAX_ATTACHMENTS = 10;
/** VK allows a community about 20 API calls per second. */
const COMMUNITY_CALLS_PER_SECOND = 20;
/** The Callback API posts one event per request: a message with its attachments' links is a few kB. */
const CALLBACK_BODY_LIMIT = 1024 * 1024;
/** A fetched name is kept this long (it is stored on the customer anyway); a failed users.get is not repeated for this long. */
const NAME_TTL_MS = 3600_000;
const NAME_FAILURE_TTL_MS = 5 * 60_000;
/** messages.edit: "the message is too old to be edited" (a community may edit for 24 hours). */
const EDIT_TIME_EXPIRED = 909;

export interface VkChannelOptions {
  token: string;
  groupId: number;
  apiBaseUrl: string;
  /** Set: events arrive on POST /webhooks/vk (Callback API). Unset: Bots Long Poll. */
  callback?: { confirmationCode: string; secret: string };
  logger: Logger;
  /** Seconds a long-poll request may hang waiting for events (VK allows up to 90). */
  pollWaitSeconds?: number;
  /** Reconnect backoff, also the wait between tries to store an event while the database is unreachable: first up to baseMs, doubling up to capMs. */
  reconnect?: { baseMs: number; capMs: number };
  /** Counts refused and unreadable events (gateway_webhook_rejected_total). */
  rejected?: RejectionCounter;
}

/** A stable 31-bit positive int for VK's random_id: the same outbox item always gets the same one. */
export function vkRandomId(idempotencyKey: string): number {
  return createHash('sha256').update(idempotencyKey).digest().readUInt32BE(0) & 0x7fffffff || 1;
}

/**
 * VK communities (vk-io): Bots Long Poll by default, the Callback API when a confirmation code is configured.
 * The long-poll loop is our own rather than vk-io's `updates.start()`: vk-io's loop moves its ts past a batch
 * and then fires the handlers without waiting for them (an event is lost when the database is down) and
 * retries silently (the state would never show 'down'). Ours moves ts only once every event is stored. API calls bypass vk-io's request queue, which retries error 6 internally, so a rate limit
 * reaches the outbox as retry-after. vk-io still makes every request (base URL, agent, version) and uploads.
 */
export class VkChannel implements Channel {
  readonly kind = 'vk' as const;
  readonly capabilities: ChannelCapabilities = { edit: true, delete: true, typing: false, deliveryReceipts: false, readReceipts: false, buttons: true, maxTextLength: TEXT_LIMIT };
  private readonly vk: VK;
  private readonly status: ChannelStateTracker;
  private sink?: ChannelSink;
  private stopping?: AbortController;
  private polling?: Promise<void>;
  private unregisterFiles?: () => void;
  private readonly events: InboundEvents;
  private readonly userNames: LookupCache<string>;

  constructor(private readonly options: VkChannelOptions) {
    // vk-io's types want an https agent, but an http:// base URL (a local VK API) needs a plain http one.
    const agent = options.apiBaseUrl.startsWith('http:') ? (new http.Agent({ keepAlive: true }) as https.Agent) : new https.Agent({ keepAlive: true });
    this.vk = new VK({ token: options.token, apiBaseUrl: options.apiBaseUrl, agent, pollingGroupId: options.groupId, apiLimit: COMMUNITY_CALLS_PER_SECOND, apiRetryLimit: 0 });
    this.status = new ChannelStateTracker('vk', options.logger);
    this.events = new InboundEvents({ channel: 'vk', logger: options.logger, rejected: options.rejected });
    this.userNames = new LookupCache({
      lookup: (userId) => this.fetchUserName(userId),
      onError: (error, userId) => options.logger.warn({ err: error, userId }, 'could not fetch the VK customer name; storing the messages without it'),
      ttlMs: NAME_TTL_MS,
      failureTtlMs: NAME_FAILURE_TTL_MS,
    });
  }

  state(): ChannelState {
    return this.status.get();
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.status.attach(sink);
    this.unregisterFiles = registerAttachmentSource('vk', (ref) => downloadFile(ref.slice('vk:'.length)));
    this.stopping = new AbortController();
    if (this.options.callback) {
      this.status.set('up', 'receiving events on POST /webhooks/vk (Callback API)');
      return;
    }
    this.status.set('starting');
    this.polling = this.pollForever(this.stopping.signal);
  }

  async stop(): Promise<void> {
    this.stopping?.abort();
    await this.polling;
    this.unregisterFiles?.();
    this.status.set('stopped');
  }

  rateLimits(): RateBucket[] {
    return [{ key: 'vk:community', capacity: COMMUNITY_CALLS_PER_SECOND, refillPerSecond: COMMUNITY_CALLS_PER_SECOND }];
  }

  /**
   * Callback API: VK posts every event here; it expects the confirmation code once, then 'ok' for each event, and
   * resends anything else. An event that can't be read is answered 'ok' too (logged and counted): resent, it would
   * read no better. Only an event that couldn't be stored (database down) gets 500, so VK sends it again.
   */
  async registerRoutes(app: FastifyInstance): Promise<void> {
    if (!this.options.callback) return;
    const report = { channel: 'vk' as const, logger: this.options.logger, rejected: this.options.rejected };
    await app.register(async (scoped) => {
      // Not JSON is one more unreadable event here, not fastify's 400 (which VK would resend).
      scoped.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, parseJson(String(body))));
      answerOversizedBodies(scoped, { ...report, limitBytes: CALLBACK_BODY_LIMIT });
      scoped.post('/webhooks/vk', { bodyLimit: CALLBACK_BODY_LIMIT }, async (request, reply) => {
        const { status, text } = await this.answerCallback(request.body);
        return reply.code(status).type('text/plain').send(text);
      });
    });
  }

  private async answerCallback(body: unknown): Promise<{ status: number; text: string }> {
    const callback = this.options.callback!;
    const event = this.events.read(vkEventSchema, body, 'Callback API event');
    if (!event) return { status: 200, text: 'ok' };
    if (event.group_id !== undefined && event.group_id !== this.options.groupId) {
      this.options.logger.warn({ groupId: event.group_id }, 'VK callback for another community rejected');
      this.options.rejected?.inc({ channel: 'vk', reason: 'wrong_recipient' });
      return { status: 403, text: 'wrong community' };
    }
    if (event.type === 'confirmation') return { status: 200, text: callback.confirmationCode };
    if (!sameSecret(event.secret, callback.secret)) {
      this.options.logger.warn({ type: event.type }, 'VK callback with a wrong or missing secret rejected');
      this.options.rejected?.inc({ channel: 'vk', reason: 'bad_signature' });
      return { status: 403, text: 'forbidden' };
    }
    if (!this.sink) return { status: 503, text: 'not started' };
    try {
      await this.events.handle(`${event.type} event`, () => this.handleEvent(event));
    } catch (error) {
      // VK retries an event that was not answered 'ok'; the inbox drops the copy if it was stored after all.
      this.options.logger.error({ err: error, type: event.type }, 'VK callback event could not be stored; VK will send it again');
      return { status: 500, text: 'retry' };
    }
    return { status: 200, text: 'ok' };
  }

  async send(externalChatId: string, message: OutboundMessage, context: SendContext): Promise<SendResult> {
    const peerId = Number(externalChatId);
    const uploaded: string[] = [];
    const extraLines: string[] = [];
    let location: { latitude: number; longitude: number } | undefined;
    for (const attachment of message.attachments) {
      if (attachment.kind === 'location' && attachment.location) location = attachment.location;
      else if (attachment.kind === 'contact' && attachment.contact) extraLines.push([attachment.contact.name, attachment.contact.phone].filter(Boolean).join(': '));
      else uploaded.push(await this.upload(peerId, attachment));
    }
    const text = [message.text, ...extraLines].filter(Boolean).join('\n');
    // Text pieces first; the last piece carries the location and up to 10 attachments (VK's limit), the rest follow.
    const parts: Array<{ message: string; attachment?: string; location?: typeof location }> = (text ? splitText(text, TEXT_LIMIT) : ['']).map((piece) => ({ message: piece }));
    const lastText = parts.at(-1)!;
    lastText.location = location;
    for (let start = 0; start < uploaded.length; start += MAX_ATTACHMENTS) {
      const attachment = uploaded.slice(start, start + MAX_ATTACHMENTS).join(',');
      if (start === 0) lastText.attachment = attachment;
      else parts.push({ message: '', attachment });
    }
    let lastId: number | undefined;
    for (const [index, part] of parts.entries()) {
      const params: Record<string, unknown> = {
        peer_id: peerId,
        // Each part has its own stable id, so a retry after a partial send repeats none of them.
        random_id: vkRandomId(index === 0 ? context.idempotencyKey : `${context.idempotencyKey}#${index}`),
        message: part.message || undefined,
        attachment: part.attachment,
        lat: part.location?.latitude,
        long: part.location?.longitude,
        // A one-time keyboard of text buttons: a tap sends the label as the customer's message.
        keyboard: message.quickReplies?.length && index === parts.length - 1 ? vkKeyboard(message.quickReplies) : undefined,
      };
      if (!params.message && !params.attachment && params.lat === undefined) throw DeliveryError.permanent('nothing to send: the message has neither text nor attachments');
      try {
        lastId = Number(await this.call('messages.send', params));
      } catch (error) {
        throw toDeliveryError(error);
      }
    }
    return { externalMessageId: String(lastId) };
  }

  /**
   * messages.edit keeps the message's attachments only when they are named again, so only a text-only message is
   * edited here; one with attachments, or too old for VK (error 909), gets a correction instead.
   */
  async edit(externalChatId: string, externalMessageId: string, text: string): Promise<boolean> {
    const sent = await MessageModel.findOne({ channel: 'vk', externalId: externalMessageId, direction: { $ne: 'in' } }, { attachments: 1 }).lean();
    if (sent?.attachments.length) return false;
    try {
      await this.call('messages.edit', { peer_id: Number(externalChatId), message_id: Number(externalMessageId), message: text, keep_forward_messages: 1, keep_snippets: 1 });
      return true;
    } catch (error) {
      if (error instanceof APIError && Number(error.code) === EDIT_TIME_EXPIRED) return false;
      throw toDeliveryError(error);
    }
  }

  async delete(externalChatId: string, externalMessageId: string): Promise<void> {
    try {
      await this.call('messages.delete', { peer_id: Number(externalChatId), message_ids: externalMessageId, delete_for_all: 1 });
    } catch (error) {
      throw toDeliveryError(error);
    }
  }

  /** VK's upload flow: get an upload server for this peer, post the file there, save it; returns `photo1_2_key`. */
  private async upload(peerId: number, attachment: Attachment): Promise<string> {
    if (!attachment.dataBase64) throw DeliveryError.permanent(`the ${attachment.kind} has no bytes to upload to VK`);
    const value = Buffer.from(attachment.dataBase64, 'base64');
    try {
      if (attachment.kind === 'photo') {
        const photo = await this.vk.upload.messagePhoto({ peer_id: peerId, source: { value, filename: attachment.fileName ?? 'photo.jpg', contentType: attachment.mimeType } });
        return String(photo);
      }
      const fileName = attachment.fileName ?? `${attachment.kind}.bin`;
      const doc = await this.vk.upload.messageDocument({ peer_id: peerId, title: fileName, source: { value, filename: fileName, contentType: attachment.mimeType } });
      return String(doc);
    } catch (error) {
      throw toDeliveryError(error);
    }
  }

  /** One API call through vk-io's request (token, version, base URL, agent), without its retrying queue. */
  private async call(method: string, params: Record<string, unknown>): Promise<unknown> {
    const answer = (await new APIRequest({ api: this.vk.api, method, params }).make()) as { response?: unknown; error?: { error_code: number; error_msg: string } };
    if (answer.error) throw new APIError({ ...answer.error, request_params: [] });
    return answer.response;
  }

  private async pollForever(signal: AbortSignal): Promise<void> {
    let server: { server: string; key: string } | undefined;
    let ts: string | undefined;
    let failures = 0;
    const cursor = `vk:longpoll:${this.options.groupId}`;
    while (!signal.aborted) {
      try {
        if (!server) {
          const answer = (await this.call('groups.getLongPollServer', { group_id: this.options.groupId })) as { server: string; key: string; ts: string };
          server = { server: answer.server, key: answer.key };
          // Keep our place after a reconnect or a restart: VK answers failed=1 with a fresh ts if it is too old.
          ts ??= (await loadChannelCursor<string>(cursor)) ?? String(answer.ts);
          // After an outage, 'up' waits for a long-poll answer: the API may work while the long-poll server does not.
          if (failures === 0) this.status.set('up');
        }
        const url = new URL(server.server);
        url.search = new URLSearchParams({ act: 'a_check', key: server.key, ts: ts!, wait: String(this.options.pollWaitSeconds ?? 25) }).toString();
        const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(((this.options.pollWaitSeconds ?? 25) + 10) * 1000)]) });
        if (!response.ok) throw new Error(`long poll answered HTTP ${response.status}`);
        const answer = (await response.json()) as { ts?: string | number; updates?: unknown[]; failed?: number };
        if (answer.failed !== undefined) {
          // 1: history lost, take the new ts; 2: key expired; 3: key and ts lost.
          if (answer.failed === 1) ts = String(answer.ts);
          else server = undefined;
          if (answer.failed === 3) ts = undefined;
          continue;
        }
        if (answer.ts === undefined || (answer.updates !== undefined && !Array.isArray(answer.updates))) throw new Error('long poll answered without ts or updates');
        this.status.set('up');
        failures = 0;
        // Handled in order, and ts moves past the batch only once each event is stored (or skipped as unreadable).
        for (const raw of answer.updates ?? []) {
          const event = this.events.read(vkEventSchema, raw, 'long-poll event');
          if (event) await this.storeEvent(event, signal);
        }
        ts = String(answer.ts);
        await saveChannelCursor(cursor, ts);
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        const detail = error instanceof Error ? error.message : String(error);
        this.status.set('down', detail);
        if (failures >= 3) server = undefined;
        const wait = backoffDelay(failures, { baseMs: this.options.reconnect?.baseMs ?? 1000, capMs: this.options.reconnect?.capMs ?? 60_000 });
        this.options.logger.debug({ detail, wait }, 'VK long poll failed; reconnecting');
        await sleep(wait, signal);
      }
    }
  }

  /**
   * One long-poll event, tried again while the database is unreachable: the loop must not move ts past it, and
   * fetching the batch again would change nothing. Returns once it is stored (or skipped); throws only on stop.
   */
  private async storeEvent(event: VkEvent, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.events.handle(`${event.type} event`, () => this.handleEvent(event));
        return;
      } catch (error) {
        if (attempt === 1 || attempt % 10 === 0) this.options.logger.warn({ err: error, attempt }, 'could not store a VK event; trying again while the database is unreachable');
        await sleep(backoffDelay(attempt, { baseMs: this.options.reconnect?.baseMs ?? 1000, capMs: this.options.reconnect?.capMs ?? 60_000 }), signal);
        if (signal.aborted) throw error;
      }
    }
  }

  private async handleEvent(event: VkEvent): Promise<void> {
    if (event.type === 'message_edit') return this.handleEdit(event);
    if (event.type !== 'message_new') return;
    const message = this.events.read(vkMessageSchema, messageOf(event.object), 'message_new event');
    if (!message || message.out) return;
    if (message.from_id <= 0 || message.peer_id !== message.from_id) {
      this.options.logger.debug({ peerId: message.peer_id }, 'ignored a VK message that is not a private dialog with a person');
      return;
    }
    const inbound = normalizeVkMessage(message);
    inbound.profile.name = await this.customerName(message.from_id);
    inbound.profile.language = languageOfClient(event.object);
    await this.sink!.inbound(inbound);
  }

  /** The customer edited a message (VK reports no deletions to communities). */
  private async handleEdit(event: VkEvent): Promise<void> {
    const message = this.events.read(vkMessageSchema, messageOf(event.object), 'message_edit event');
    if (!message || message.out) return;
    const { externalMessageId, text } = normalizeVkMessage(message);
    const at = new Date((message.update_time ?? message.date) * 1000);
    await this.sink!.changed?.({ channel: 'vk', externalMessageId, kind: 'edited', text, at });
  }

  /** The name as VK shows it, asked while the stored customer has none; one users.get per person for a burst, none for a while after one failed. */
  private async customerName(userId: number): Promise<string | undefined> {
    const known = await CustomerModel.findOne({ channel: 'vk', externalChatId: String(userId) }).lean();
    if (known?.name) return undefined;
    return this.userNames.get(String(userId));
  }

  private async fetchUserName(userId: string): Promise<string | undefined> {
    const [user] = (await this.call('users.get', { user_ids: userId })) as Array<{ first_name?: string; last_name?: string }>;
    return [user?.first_name, user?.last_name].filter(Boolean).join(' ') || undefined;
  }
}

/** A VK message as the gateway's InboundMessage; attachment refs are `vk:<url>`, fetched when needed. */
export function normalizeVkMessage(message: VkMessage): InboundMessage {
  const attachments: Attachment[] = [];
  const unsupported: string[] = [];
  for (const item of message.attachments ?? []) {
    const mapped = mapAttachment(item);
    if (mapped) attachments.push(mapped);
    else unsupported.push(`[${item.type}]`);
  }
  const coordinates = message.geo?.coordinates;
  if (coordinates) attachments.push({ kind: 'location', location: { latitude: Number(coordinates.latitude), longitude: Number(coordinates.longitude) } });
  return {
    channel: 'vk',
    externalChatId: String(message.peer_id),
    externalMessageId: message.id > 0 ? String(message.id) : `${message.peer_id}_c${message.conversation_message_id}`,
    profile: {},
    text: [message.text ?? '', ...unsupported].filter(Boolean).join(' '),
    attachments,
    replyToExternalId: message.reply_message?.id ? String(message.reply_message.id) : undefined,
    sentAt: new Date(message.date * 1000),
  };
}

function mapAttachment(item: VkAttachment): Attachment | undefined {
  if (item.type === 'photo' && item.photo) {
    const url = largest(item.photo.sizes);
    return { kind: 'photo', fileName: `photo${item.photo.owner_id}_${item.photo.id}.jpg`, mimeType: 'image/jpeg', ref: url && `vk:${url}` };
  }
  if (item.type === 'doc' && item.doc) {
    const { title = 'document', ext, size, url } = item.doc;
    const fileName = ext && !title.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? `${title}.${ext}` : title;
    return { kind: 'document', fileName, size, ref: url && `vk:${url}` };
  }
  if (item.type === 'audio_message' && item.audio_message) {
    const ogg = item.audio_message.link_ogg;
    const url = ogg ?? item.audio_message.link_mp3;
    return { kind: 'voice', fileName: ogg ? 'voice.ogg' : 'voice.mp3', mimeType: ogg ? 'audio/ogg' : 'audio/mpeg', ref: url && `vk:${url}` };
  }
  if (item.type === 'sticker' && item.sticker) {
    const url = largest(item.sticker.images) ?? largest(item.sticker.images_with_background);
    return { kind: 'sticker', fileName: `sticker${item.sticker.sticker_id}.png`, mimeType: 'image/png', ref: url && `vk:${url}` };
  }
  return undefined;
}

function largest(sizes: VkSize[] | undefined): string | undefined {
  const best = [...(sizes ?? [])].sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0))[0];
  return best?.url ?? best?.src;
}

/** VK's error codes as outbox outcomes; the reasons are what operators read. */
export function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (!(error instanceof APIError)) return DeliveryError.transient(`VK request failed: ${error instanceof Error ? error.message : String(error)}`);
  const code = Number(error.code);
  const detail = `${error.message}`;
  switch (code) {
    case 6:
    case 9:
      return DeliveryError.retryAfter(1, `VK rate limit: ${detail}`);
    case 901:
      return DeliveryError.permanent(`VK: the customer blocked messages from the community (or never allowed them), so VK refuses to deliver [901]`);
    case 902:
      return DeliveryError.permanent(`VK: messages to this customer are forbidden by their privacy settings [902]`);
    case 7:
      return DeliveryError.permanent(`VK: the community is not allowed to send this message (the customer blocked it or the token lacks the messages permission) [7]`);
    case 100:
    case 914:
      return DeliveryError.permanent(`VK rejected the message: ${detail}`);
    default:
      return DeliveryError.transient(`VK error: ${detail}`);
  }
}

/** API 5.103+ wraps the message in `object.message`; older versions send the message as the object itself. */
/** VK's `client_info.lang_id` (the language of the customer's VK interface) as an ISO 639-1 code. */
const VK_LANGUAGES: Record<number, string> = { 0: 'ru', 1: 'uk', 2: 'be', 3: 'en', 4: 'es', 5: 'fi', 6: 'de', 7: 'it' };

function languageOfClient(object: unknown): string | undefined {
  const clientInfo = object && typeof object === 'object' && 'client_info' in object ? (object.client_info as { lang_id?: unknown } | null) : undefined;
  return typeof clientInfo?.lang_id === 'number' ? VK_LANGUAGES[clientInfo.lang_id] : undefined;
}

function messageOf(object: unknown): unknown {
  return object && typeof object === 'object' && 'message' in object ? object.message : object;
}

/** The JSON value, or undefined (read as an unreadable event) when the body isn't JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function downloadFile(url: string): Promise<{ data: Buffer; mimeType?: string }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`VK file download answered HTTP ${response.status}`);
  return { data: Buffer.from(await response.arrayBuffer()), mimeType: response.headers.get('content-type') ?? undefined };
}

/** VK's keyboard JSON: one row of up to five text buttons (VK allows 5 per row). */
function vkKeyboard(labels: string[]): string {
  return JSON.stringify({ one_time: true, buttons: [labels.slice(0, 5).map((label) => ({ action: { type: 'text', label }, color: 'secondary' }))] });
}
