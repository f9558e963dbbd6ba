import type { FastifyInstance } from 'fastify';
import type { Attachment, Channel, ChannelCapabilities, ChannelSink, ChannelState, CustomerProfile, InboundMessage, OutboundMessage, SendResult } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { ConversationModel, CustomerModel, MessageModel } from '../src/db/models/index.js';
import { registerAttachmentSource } from '../src/attachments.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { splitText } from '../src/util/split-text.js';
import { ChannelStateTracker } from './channel-state.js';
import { registerMetaWebhook } from './meta-webhook.js';
import { messagingEventSchema, messengerEntrySchema, type MessagingEvent } from './messenger-events.js';
import { LookupCache } from './lookup-cache.js';
import type { RejectionCounter } from './webhook-rejections.js';
import { operatorText } from '../src/i18n/operator-texts.js';

const TEXT_LIMIT = 2000;
const HOUR = 3600_000;
/** Messenger's standard messaging window, and the HUMAN_AGENT tag's extension of it. */
const RESPONSE_WINDOW_MS = 24 * HOUR;
const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR;
/** Graph's rate-limit errors carry no retry hint; a minute lets the page's call budget recover. */
const RATE_LIMIT_RETRY_SECONDS = 60;
/** A fetched name is kept this long (it is stored on the customer anyway); a failed look-up is not repeated for this long. */
const PROFILE_TTL_MS = HOUR;
const PROFILE_FAILURE_TTL_MS = 5 * 60_000;

export const OUTSIDE_HUMAN_AGENT_WINDOW = "outside Messenger's 7-day human agent window: the customer must write first";

export interface MessengerChannelOptions {
  pageToken: string;
  appSecret: string;
  verifyToken: string;
  graphApiBaseUrl: string;
  logger: Logger;
  /** Counts refused and unreadable webhooks (gateway_webhook_rejected_total). */
  rejected?: RejectionCounter;
  now?: () => Date;
}

interface GraphError {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
}

/**
 * Facebook Messenger through the Graph API with plain fetch: a signed webhook in, the Send API out.
 * Replies use messaging_type RESPONSE inside 24 hours of the customer's last message and the HUMAN_AGENT
 * tag up to 7 days; later sends are refused with a reason operators can read.
 */
export class MessengerChannel implements Channel {
  readonly kind = 'messenger' as const;
  readonly capabilities: ChannelCapabilities = { edit: false, delete: false, typing: false, deliveryReceipts: true, readReceipts: true, buttons: true, maxTextLength: TEXT_LIMIT };
  private readonly status: ChannelStateTracker;
  private sink?: ChannelSink;
  private unregisterFiles?: () => void;
  private readonly profiles: LookupCache<CustomerProfile>;

  constructor(private readonly options: MessengerChannelOptions) {
    this.status = new ChannelStateTracker('messenger', options.logger);
    this.profiles = new LookupCache({
      lookup: (psid) => this.fetchProfile(psid),
      onError: (error) => options.logger.warn({ err: error }, 'could not fetch the Messenger customer name; storing the messages without it'),
      ttlMs: PROFILE_TTL_MS,
      failureTtlMs: PROFILE_FAILURE_TTL_MS,
    });
  }

  state(): ChannelState {
    return this.status.get();
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.status.attach(sink);
    this.unregisterFiles = registerAttachmentSource('fb', (ref) => downloadFile(ref.slice('fb:'.length)));
    // Webhooks need no connection of ours; 'down' comes from the Send API being unreachable.
    this.status.set('up');
  }

  async stop(): Promise<void> {
    this.unregisterFiles?.();
    this.status.set('stopped');
  }

  registerRoutes(app: FastifyInstance): Promise<void> {
    return registerMetaWebhook(app, {
      path: '/webhooks/messenger',
      label: 'Messenger',
      channel: 'messenger',
      verifyToken: this.options.verifyToken,
      appSecret: this.options.appSecret,
      logger: this.options.logger,
      rejected: this.options.rejected,
      object: 'page',
      acknowledgement: 'EVENT_RECEIVED',
      ready: () => Boolean(this.sink),
      handle: async (entries, events) => {
        for (const raw of entries) {
          const entry = events.read(messengerEntrySchema, raw, 'entry');
          for (const item of entry?.messaging ?? []) {
            const event = events.read(messagingEventSchema, item, 'messaging event');
            if (event) await events.handle('messaging event', () => this.handleEvent(event));
          }
        }
      },
    });
  }

  private async handleEvent(event: MessagingEvent): Promise<void> {
    const sink = this.sink!;
    const psid = event.sender.id;
    if (event.message && !event.message.is_echo) {
      await sink.inbound(await this.withName(normalizeMessengerMessage(event)));
    } else if (event.postback) {
      await sink.inbound(await this.withName(normalizePostback(event)));
    } else if (event.delivery) {
      for (const mid of event.delivery.mids ?? []) await sink.deliveryStatus?.('messenger', mid, 'delivered');
      await this.statusUpTo(psid, event.delivery.watermark, 'delivered');
    } else if (event.read) {
      await this.statusUpTo(psid, event.read.watermark, 'read');
    } else if (event.message_edit) {
      const at = new Date(event.timestamp ?? Date.now());
      await sink.changed?.({ channel: 'messenger', externalMessageId: event.message_edit.mid, kind: 'edited', text: event.message_edit.text ?? '', at });
    }
  }

  /** Delivery and read events name a watermark: everything we sent to this person before it. */
  private async statusUpTo(psid: string, watermark: number | undefined, status: 'delivered' | 'read'): Promise<void> {
    const customer = await CustomerModel.findOne({ channel: 'messenger', externalChatId: psid }).lean();
    if (!customer || !watermark) return;
    const conversations = await ConversationModel.find({ customer: customer._id }, { _id: 1 }).lean();
    const messages = await MessageModel.find({
      conversation: { $in: conversations.map((c) => c._id) },
      direction: 'out',
      externalId: { $exists: true },
      createdAt: { $lte: new Date(watermark) },
      'delivery.status': { $in: status === 'read' ? ['sent', 'delivered'] : ['sent'] },
    }).lean();
    for (const message of messages) await this.sink!.deliveryStatus?.('messenger', message.externalId!, status);
  }

  /** The person's name from the User Profile API, asked only while the stored customer has none. */
  private async withName(message: InboundMessage): Promise<InboundMessage> {
    const known = await CustomerModel.findOne({ channel: 'messenger', externalChatId: message.externalChatId }).lean();
    if (known?.name) return message;
    // One request per person for a burst of messages, and none for a while after one failed.
    const profile = await this.profiles.get(message.externalChatId);
    return profile ? { ...message, profile: { ...message.profile, ...profile } } : message;
  }

  /**
   * The name and, when the page may read it, the locale (`ru_RU`) the User Profile API gives. The locale needs an
   * advanced permission: refused, the name is asked for alone.
   */
  private async fetchProfile(psid: string): Promise<CustomerProfile | undefined> {
    const ask = (fields: string) => {
      const url = new URL(`${this.options.graphApiBaseUrl}/${encodeURIComponent(psid)}`);
      url.searchParams.set('fields', fields);
      url.searchParams.set('access_token', this.options.pageToken);
      return fetch(url, { signal: AbortSignal.timeout(10_000) });
    };
    let response = await ask('first_name,last_name,locale');
    if (response.status === 400) response = await ask('first_name,last_name');
    if (!response.ok) throw new Error(`User Profile API answered HTTP ${response.status}`);
    const profile = (await response.json()) as { first_name?: string; last_name?: string; locale?: string };
    const name = [profile.first_name, profile.last_name].filter(Boolean).join(' ') || undefined;
    return name || profile.locale ? { name, language: profile.locale } : undefined;
  }

  async send(externalChatId: string, message: OutboundMessage): Promise<SendResult> {
    const policy = await this.messagingPolicy(externalChatId);
    const base = { recipient: { id: externalChatId }, ...policy };
    const lines = [message.text];
    let lastId: string | undefined;
    for (const attachment of message.attachments) {
      if (attachment.kind === 'location' && attachment.location) {
        const { latitude, longitude } = attachment.location;
        lines.push(`📍 https://maps.google.com/?q=${latitude},${longitude}`);
      } else if (attachment.kind === 'contact' && attachment.contact) {
        lines.push([attachment.contact.name, attachment.contact.phone].filter(Boolean).join(': '));
      } else {
        lastId = await this.sendAttachment(base, attachment);
      }
    }
    const text = lines.filter(Boolean).join('\n');
    const pieces = text ? splitText(text, TEXT_LIMIT) : [];
    // Quick replies (at most 13) ride on the last piece; a tap comes back as a message with the title as its text.
    const quickReplies = message.quickReplies?.slice(0, 13).map((title) => ({ content_type: 'text', title, payload: title }));
    for (const [index, piece] of pieces.entries()) {
      const withChoices = quickReplies?.length && index === pieces.length - 1 ? { quick_replies: quickReplies } : {};
      lastId = await this.post(JSON.stringify({ ...base, message: { text: piece, ...withChoices } }), 'application/json');
    }
    if (lastId === undefined) throw DeliveryError.permanent('nothing to send: the message has neither text nor attachments');
    return { externalMessageId: lastId };
  }

  /** RESPONSE inside 24 h of the customer's last message, the HUMAN_AGENT tag up to 7 days, nothing after. */
  private async messagingPolicy(psid: string): Promise<{ messaging_type: 'RESPONSE' } | { messaging_type: 'MESSAGE_TAG'; tag: 'HUMAN_AGENT' }> {
    const customer = await CustomerModel.findOne({ channel: 'messenger', externalChatId: psid }).lean();
    const latest = customer && (await ConversationModel.findOne({ customer: customer._id, lastCustomerMessageAt: { $exists: true } }).sort({ lastCustomerMessageAt: -1 }).lean());
    const lastAt = latest?.lastCustomerMessageAt;
    const age = lastAt ? (this.options.now?.() ?? new Date()).getTime() - lastAt.getTime() : Infinity;
    if (age <= RESPONSE_WINDOW_MS) return { messaging_type: 'RESPONSE' };
    if (age <= HUMAN_AGENT_WINDOW_MS) return { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };
    throw DeliveryError.permanent(OUTSIDE_HUMAN_AGENT_WINDOW);
  }

  private async sendAttachment(base: Record<string, unknown>, attachment: Attachment): Promise<string> {
    if (!attachment.dataBase64) throw DeliveryError.permanent(`the ${attachment.kind} has no bytes to send to Messenger`);
    const type = { photo: 'image', sticker: 'image', video: 'video', video_note: 'video', audio: 'audio', voice: 'audio' }[attachment.kind as string] ?? 'file';
    const form = new FormData();
    for (const [key, value] of Object.entries(base)) form.append(key, typeof value === 'string' ? value : JSON.stringify(value));
    form.append('message', JSON.stringify({ attachment: { type, payload: { is_reusable: false } } }));
    const bytes = Buffer.from(attachment.dataBase64, 'base64');
    form.append('filedata', new Blob([bytes], { type: attachment.mimeType ?? 'application/octet-stream' }), attachment.fileName ?? `${attachment.kind}.bin`);
    return this.post(form);
  }

  /** One Send API call; Graph errors become outbox outcomes. */
  private async post(body: string | FormData, contentType?: string): Promise<string> {
    const url = new URL(`${this.options.graphApiBaseUrl}/me/messages`);
    url.searchParams.set('access_token', this.options.pageToken);
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : undefined, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      const detail = operatorText('channels.apiUnreachable', { api: 'Messenger Send API', error: (error as Error).message });
      this.status.set('down', detail);
      throw DeliveryError.transient(detail);
    }
    const answer = (await response.json().catch(() => ({}))) as { message_id?: string; error?: GraphError };
    if (response.status >= 500) this.status.set('down', operatorText('channels.apiAnswered', { api: 'Messenger Send API', status: response.status }));
    else this.status.set('up');
    if (response.ok && answer.message_id) return answer.message_id;
    throw graphDeliveryError(response.status, answer.error, response.headers.get('retry-after'));
  }
}

export function graphDeliveryError(httpStatus: number, error: GraphError | undefined, retryAfterHeader?: string | null): DeliveryError {
  const code = error?.code;
  const detail = `${error?.message ?? `HTTP ${httpStatus}`}${code !== undefined ? ` [${code}${error?.error_subcode ? `/${error.error_subcode}` : ''}]` : ''}`;
  if (httpStatus === 429 || code === 4 || code === 32 || code === 613) {
    const seconds = Number(retryAfterHeader);
    return DeliveryError.retryAfter(Number.isFinite(seconds) && seconds > 0 ? seconds : RATE_LIMIT_RETRY_SECONDS, `Messenger rate limit: ${detail}`);
  }
  if (code === 551) return DeliveryError.permanent(`Messenger: this person isn't available (they blocked the page or deactivated their account) ${detail}`);
  if (code === 10 || code === 200) return DeliveryError.permanent(`Messenger refused the message (user unavailable, outside the allowed window, or missing permission): ${detail}`);
  if (httpStatus >= 500 || code === 1 || code === 2) return DeliveryError.transient(`Messenger error: ${detail}`);
  if (httpStatus >= 400) return DeliveryError.permanent(`Messenger rejected the message: ${detail}`);
  return DeliveryError.transient(`Messenger gave no message id: ${detail}`);
}

/** A message event as messagingEventSchema read it (messages and postbacks always carry a timestamp there). */
export function normalizeMessengerMessage(event: MessagingEvent): InboundMessage {
  const message = event.message!;
  const attachments: Attachment[] = [];
  const extra: string[] = [];
  for (const item of message.attachments ?? []) {
    const url = item.payload?.url;
    const ref = url ? `fb:${url}` : undefined;
    if (item.type === 'image') attachments.push(item.payload?.sticker_id ? { kind: 'sticker', ref } : { kind: 'photo', ref });
    else if (item.type === 'video') attachments.push({ kind: 'video', ref });
    else if (item.type === 'audio') attachments.push({ kind: 'audio', ref });
    else if (item.type === 'file') attachments.push({ kind: 'document', ref, fileName: fileNameOf(url) });
    else if (item.type === 'location' && item.payload?.coordinates) attachments.push({ kind: 'location', location: { latitude: item.payload.coordinates.lat, longitude: item.payload.coordinates.long } });
    else if (item.type === 'fallback') extra.push([item.title ?? item.payload?.title, item.url ?? url].filter(Boolean).join(' '));
    else extra.push(`[${item.type}]`);
  }
  return {
    channel: 'messenger',
    externalChatId: event.sender.id,
    externalMessageId: message.mid,
    profile: {},
    text: [message.text ?? '', ...extra].filter(Boolean).join('\n'),
    attachments,
    replyToExternalId: message.reply_to?.mid,
    sentAt: new Date(event.timestamp!),
    meta: message.quick_reply ? [{ name: 'quickReplyPayload', value: message.quick_reply.payload }] : undefined,
  };
}

/** A button press: the button's title is what the customer saw and "said"; the payload is kept alongside. */
export function normalizePostback(event: MessagingEvent): InboundMessage {
  const postback = event.postback!;
  return {
    channel: 'messenger',
    externalChatId: event.sender.id,
    externalMessageId: postback.mid ?? `postback:${event.sender.id}:${event.timestamp!}`,
    profile: {},
    text: postback.title || postback.payload || '',
    attachments: [],
    sentAt: new Date(event.timestamp!),
    meta: postback.payload ? [{ name: 'postbackPayload', value: postback.payload }] : undefined,
  };
}

function fileNameOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || undefined;
  } catch {
    return undefined;
  }
}

async function downloadFile(url: string): Promise<{ data: Buffer; mimeType?: string }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Messenger file download answered HTTP ${response.status}`);
  return { data: Buffer.from(await response.arrayBuffer()), mimeType: response.headers.get('content-type') ?? undefined };
}
