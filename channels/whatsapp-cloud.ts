import type { FastifyInstance } from 'fastify';
import type { Attachment, Channel, ChannelCapabilities, ChannelSink, ChannelState, InboundChange, InboundMessage, OutboundMessage, SendResult } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { registerAttachmentSource } from '../src/attachments.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { splitText } from '../src/util/split-text.js';
import { registerMetaWebhook } from './meta-webhook.js';
import type { InboundEvents } from './inbound-events.js';
import type { RejectionCounter } from './webhook-rejections.js';
import { cloudChangeSchema, cloudEntrySchema, cloudMessageSchema, cloudStatusSchema, cloudValueSchema, type CloudMedia, type CloudMessage } from './whatsapp-cloud-events.js';
import { lastCustomerMessageAt, OUTSIDE_WHATSAPP_WINDOW, templateOf, WHATSAPP_WINDOW_MS, WhatsAppStatus } from './whatsapp-shared.js';
import { operatorText } from '../src/i18n/operator-texts.js';

const TEXT_LIMIT = 4096;
/**
 * Meta's rate-limit errors rarely carry Retry-After; these waits follow its docs. No token buckets of our own:
 * the outbox sends one message at a time per chat, so a pause for one customer's pair limit (131056) holds up
 * that chat only, and a throughput limit (130429, 80 msg/s) is far above what operators type.
 */
const THROUGHPUT_RETRY_SECONDS = 5;
const PAIR_RATE_RETRY_SECONDS = 6;
const REF_PREFIX = 'wacloud';

export interface WhatsAppCloudChannelOptions {
  token: string;
  phoneNumberId: string;
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
  error_data?: { details?: string };
  title?: string;
}

/**
 * WhatsApp Business Cloud API through the Graph API with plain fetch: a signed webhook in, /messages out.
 * Free-form replies go only within 24 h of the customer's last message; after that the operator is told to
 * send an approved template (/wa_template), which this adapter sends from the message's meta.
 */
export class WhatsAppCloudChannel implements Channel {
  readonly kind = 'whatsapp' as const;
  readonly capabilities: ChannelCapabilities = { edit: false, delete: false, typing: false, deliveryReceipts: true, readReceipts: true, buttons: false, maxTextLength: TEXT_LIMIT };
  private readonly status: WhatsAppStatus;
  private sink?: ChannelSink;
  private unregisterFiles?: () => void;

  constructor(private readonly options: WhatsAppCloudChannelOptions) {
    this.status = new WhatsAppStatus('WhatsApp (Cloud API)', options.logger);
  }

  state(): ChannelState {
    return this.status.get();
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.status.attach(sink);
    this.unregisterFiles = registerAttachmentSource(REF_PREFIX, (ref) => this.downloadMedia(ref.slice(REF_PREFIX.length + 1)));
    // Webhooks need no connection of ours; 'down' comes from the Graph API being unreachable.
    this.status.set('up');
  }

  async stop(): Promise<void> {
    this.unregisterFiles?.();
    this.status.set('stopped');
  }

  registerRoutes(app: FastifyInstance): Promise<void> {
    return registerMetaWebhook(app, {
      path: '/webhooks/whatsapp',
      label: 'WhatsApp',
      channel: 'whatsapp',
      verifyToken: this.options.verifyToken,
      appSecret: this.options.appSecret,
      logger: this.options.logger,
      rejected: this.options.rejected,
      object: 'whatsapp_business_account',
      acknowledgement: 'OK',
      ready: () => Boolean(this.sink),
      handle: async (entries, events) => {
        for (const raw of entries) {
          for (const item of events.read(cloudEntrySchema, raw, 'entry')?.changes ?? []) {
            const change = events.read(cloudChangeSchema, item, 'change');
            // Other fields (template status, account updates...) are not for this channel.
            if (change?.field === 'messages') await this.handleChange(change.value, events);
          }
        }
      },
    });
  }

  /** One `messages` change: customer messages and statuses of our replies, each read and handled on its own. */
  private async handleChange(raw: unknown, events: InboundEvents): Promise<void> {
    const sink = this.sink!;
    const value = events.read(cloudValueSchema, raw, 'messages change');
    // One Meta app may serve several business numbers: only ours concern this gateway.
    if (!value || (value.metadata?.phone_number_id && value.metadata.phone_number_id !== this.options.phoneNumberId)) return;
    for (const item of value.messages ?? []) {
      const message = events.read(cloudMessageSchema, item, 'message');
      if (!message) continue;
      const change = changeOf(message);
      if (change) {
        await events.handle('change', async () => void (await sink.changed?.(change)));
        continue;
      }
      const name = value.contacts?.find((c) => c.wa_id === message.from)?.profile?.name;
      await events.handle('message', () => sink.inbound(normalizeCloudMessage(message, name)));
    }
    for (const item of value.statuses ?? []) {
      const status = events.read(cloudStatusSchema, item, 'status');
      if (!status) continue;
      await events.handle('status', async () => {
        if (status.status === 'delivered' || status.status === 'read') await sink.deliveryStatus?.('whatsapp', status.id, status.status);
        else if (status.status === 'failed') await sink.deliveryStatus?.('whatsapp', status.id, 'failed', describeFailure(status.errors?.[0]));
      });
    }
  }

  async send(externalChatId: string, message: OutboundMessage): Promise<SendResult> {
    const template = templateOf(message);
    if (template) {
      const id = await this.postMessage({ to: externalChatId, type: 'template', template: { name: template.name, language: { code: template.language } } });
      return { externalMessageId: id };
    }
    const lastAt = await lastCustomerMessageAt(externalChatId);
    const age = lastAt ? (this.options.now?.() ?? new Date()).getTime() - lastAt.getTime() : Infinity;
    if (age > WHATSAPP_WINDOW_MS) throw DeliveryError.permanent(OUTSIDE_WHATSAPP_WINDOW);

    const context = message.replyToExternalId ? { context: { message_id: message.replyToExternalId } } : {};
    const lines = [message.text];
    let lastId: string | undefined;
    for (const attachment of message.attachments) {
      if (attachment.kind === 'location' && attachment.location) {
        lastId = await this.postMessage({ to: externalChatId, type: 'location', location: { latitude: attachment.location.latitude, longitude: attachment.location.longitude } });
      } else if (attachment.kind === 'contact' && attachment.contact) {
        lines.push([attachment.contact.name, attachment.contact.phone].filter(Boolean).join(': '));
      } else {
        lastId = await this.sendMedia(externalChatId, attachment);
      }
    }
    const text = lines.filter(Boolean).join('\n');
    for (const piece of text ? splitText(text, TEXT_LIMIT) : []) {
      lastId = await this.postMessage({ to: externalChatId, type: 'text', text: { body: piece, preview_url: false }, ...context });
    }
    if (lastId === undefined) throw DeliveryError.permanent('nothing to send: the message has neither text nor attachments');
    return { externalMessageId: lastId };
  }

  /** Uploads the bytes to /{phone-number-id}/media, then sends a message that names the media id. */
  private async sendMedia(to: string, attachment: Attachment): Promise<string> {
    if (!attachment.dataBase64) throw DeliveryError.permanent(`the ${attachment.kind} has no bytes to send to WhatsApp`);
    const mimeType = attachment.mimeType ?? 'application/octet-stream';
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', mimeType);
    form.append('file', new Blob([Buffer.from(attachment.dataBase64, 'base64')], { type: mimeType }), attachment.fileName ?? `${attachment.kind}.bin`);
    const uploaded = await this.graphCall<{ id?: string }>(`${this.options.phoneNumberId}/media`, form);
    if (!uploaded.id) throw DeliveryError.transient('WhatsApp media upload gave no media id');
    const type = ({ photo: 'image', video: 'video', video_note: 'video', audio: 'audio', voice: 'audio', sticker: 'sticker' } as Record<string, string>)[attachment.kind] ?? 'document';
    const media: Record<string, string> = { id: uploaded.id };
    if (type === 'document' && attachment.fileName) media.filename = attachment.fileName;
    return this.postMessage({ to, type, [type]: media });
  }

  private async postMessage(body: Record<string, unknown>): Promise<string> {
    const answer = await this.graphCall<{ messages?: Array<{ id: string }> }>(`${this.options.phoneNumberId}/messages`, JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', ...body }));
    const id = answer.messages?.[0]?.id;
    if (!id) throw DeliveryError.transient('WhatsApp accepted the message but gave no message id');
    return id;
  }

  /** One Graph API call; its errors become outbox outcomes. */
  private async graphCall<T>(path: string, body: string | FormData): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.options.graphApiBaseUrl}/${path}`, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${this.options.token}`, ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}) },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const detail = operatorText('channels.apiUnreachable', { api: 'WhatsApp Cloud API', error: (error as Error).message });
      this.status.set('down', detail);
      throw DeliveryError.transient(detail);
    }
    const answer = (await response.json().catch(() => ({}))) as T & { error?: GraphError };
    if (response.status >= 500) this.status.set('down', operatorText('channels.apiAnswered', { api: 'WhatsApp Cloud API', status: response.status }));
    else if (response.status === 401 || answer.error?.code === 190) this.status.set('down', operatorText('channels.tokenInvalid', { variable: 'WHATSAPP_CLOUD_TOKEN' }));
    else this.status.set('up');
    if (response.ok && !answer.error) return answer;
    throw cloudDeliveryError(response.status, answer.error, response.headers.get('retry-after'));
  }

  /** Inbound media: GET /{media-id} gives a short-lived URL, fetched with the same bearer token. */
  private async downloadMedia(mediaId: string): Promise<{ data: Buffer; mimeType?: string }> {
    const headers = { authorization: `Bearer ${this.options.token}` };
    const info = await fetch(`${this.options.graphApiBaseUrl}/${encodeURIComponent(mediaId)}`, { headers, signal: AbortSignal.timeout(30_000) });
    if (!info.ok) throw new Error(`WhatsApp media lookup answered HTTP ${info.status}`);
    const { url, mime_type } = (await info.json()) as { url?: string; mime_type?: string };
    if (!url) throw new Error('WhatsApp media lookup gave no URL');
    const file = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
    if (!file.ok) throw new Error(`WhatsApp media download answered HTTP ${file.status}`);
    return { data: Buffer.from(await file.arrayBuffer()), mimeType: mime_type ?? file.headers.get('content-type') ?? undefined };
  }
}

/** Graph errors of the Cloud API, mapped onto what the outbox should do. */
export function cloudDeliveryError(httpStatus: number, error: GraphError | undefined, retryAfterHeader?: string | null): DeliveryError {
  const code = error?.code;
  const detail = `${error?.error_data?.details ?? error?.message ?? `HTTP ${httpStatus}`}${code !== undefined ? ` [${code}]` : ''}`;
  const header = Number(retryAfterHeader);
  const hinted = retryAfterHeader && Number.isFinite(header) && header > 0 ? header : undefined;
  if (code === 131056) return DeliveryError.retryAfter(hinted ?? PAIR_RATE_RETRY_SECONDS, `WhatsApp: too many messages to this customer in a short time: ${detail}`);
  if (httpStatus === 429 || code === 130429 || code === 80007 || code === 4) return DeliveryError.retryAfter(hinted ?? THROUGHPUT_RETRY_SECONDS, `WhatsApp rate limit: ${detail}`);
  if (code === 131047) return DeliveryError.permanent(OUTSIDE_WHATSAPP_WINDOW);
  // A bad token fails every send alike; retried, so replies go out once an administrator renews it.
  if (httpStatus === 401 || code === 190) return DeliveryError.transient(`WhatsApp refused the access token: ${detail}`);
  if (code === 131026) return DeliveryError.permanent(`WhatsApp could not deliver to this number (not on WhatsApp, or an old app version): ${detail}`);
  if (httpStatus >= 500 || code === 1 || code === 2 || code === 131000 || code === 131016) return DeliveryError.transient(`WhatsApp error: ${detail}`);
  if (httpStatus >= 400) return DeliveryError.permanent(`WhatsApp rejected the message: ${detail}`);
  return DeliveryError.transient(`WhatsApp error: ${detail}`);
}

/** The reason of a `failed` status webhook, worded for operators. */
function describeFailure(error: GraphError | undefined): string {
  if (!error) return 'WhatsApp reported the message as failed';
  if (error.code === 131047) return OUTSIDE_WHATSAPP_WINDOW;
  return cloudDeliveryError(400, error).message;
}

/** An edit or a revocation of an earlier customer message, or undefined for a message of its own. */
function changeOf(message: CloudMessage): InboundChange | undefined {
  const at = new Date(Number(message.timestamp ?? Date.now() / 1000) * 1000);
  if (message.type === 'edit' && message.edit) {
    const text = message.edit.message?.text?.body ?? message.edit.message?.caption ?? '';
    return { channel: 'whatsapp', externalMessageId: message.edit.original_message_id, kind: 'edited', text, at };
  }
  if (message.type === 'revoke' && message.revoke) return { channel: 'whatsapp', externalMessageId: message.revoke.original_message_id, kind: 'deleted', at };
  return undefined;
}

export function normalizeCloudMessage(message: CloudMessage, name?: string): InboundMessage {
  const attachments: Attachment[] = [];
  const text: string[] = [];
  const meta: Array<{ name: string; value: string }> = [];
  const media = (kind: Attachment['kind'], item: CloudMedia | undefined) => {
    if (!item) return;
    attachments.push({ kind, ref: `${REF_PREFIX}:${item.id}`, mimeType: item.mime_type, fileName: item.filename });
    if (item.caption) text.push(item.caption);
  };
  switch (message.type) {
    case 'text':
      text.push(message.text?.body ?? '');
      break;
    case 'image':
      media('photo', message.image);
      break;
    case 'document':
      media('document', message.document);
      break;
    case 'audio':
      media(message.audio?.voice ? 'voice' : 'audio', message.audio);
      break;
    case 'voice':
      media('voice', message.voice);
      break;
    case 'video':
      media('video', message.video);
      break;
    case 'sticker':
      media('sticker', message.sticker);
      break;
    case 'location':
      if (message.location) {
        attachments.push({ kind: 'location', location: { latitude: message.location.latitude, longitude: message.location.longitude } });
        const place = [message.location.name, message.location.address].filter(Boolean).join(', ');
        if (place) text.push(place);
      }
      break;
    case 'contacts':
      for (const contact of message.contacts ?? []) {
        attachments.push({ kind: 'contact', contact: { name: contact.name?.formatted_name ?? '', phone: contact.phones?.[0]?.phone ?? contact.phones?.[0]?.wa_id } });
      }
      break;
    case 'interactive': {
      const choice = message.interactive?.button_reply ?? message.interactive?.list_reply;
      if (choice) {
        text.push(choice.title);
        meta.push({ name: 'buttonId', value: choice.id });
      }
      break;
    }
    case 'button':
      // A quick-reply button of a template message.
      text.push(message.button?.text ?? message.button?.payload ?? '');
      if (message.button?.payload) meta.push({ name: 'buttonId', value: message.button.payload });
      break;
    case 'reaction':
      text.push(message.reaction?.emoji ? `[reaction ${message.reaction.emoji}]` : '[reaction removed]');
      break;
    default:
      text.push(`[${message.type} message: not supported by the WhatsApp Cloud API]`);
  }
  return {
    channel: 'whatsapp',
    externalChatId: message.from,
    externalMessageId: message.id,
    profile: { name, phone: `+${message.from}` },
    text: text.filter(Boolean).join('\n'),
    attachments,
    replyToExternalId: message.context?.id,
    sentAt: new Date(Number(message.timestamp) * 1000 || Date.now()),
    meta: meta.length ? meta : undefined,
  };
}

