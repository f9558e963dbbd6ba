// The normalized vocabulary every channel adapter speaks. Nothing in here knows a messenger library.

export const CHANNEL_KINDS = ['webchat', 'telegram', 'whatsapp', 'vk', 'email', 'messenger'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const ATTACHMENT_KINDS = ['photo', 'document', 'audio', 'voice', 'video', 'video_note', 'sticker', 'location', 'contact'] as const;
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];

export interface Attachment {
  kind: AttachmentKind;
  fileName?: string;
  mimeType?: string;
  size?: number;
  /** Where the bytes live: a channel-specific file id or a URL the channel can resolve later. */
  ref?: string;
  /** Inline bytes for small files that must travel through the outbox (base64). */
  dataBase64?: string;
  location?: { latitude: number; longitude: number };
  contact?: { name: string; phone?: string };
}

export interface CustomerProfile {
  name?: string;
  username?: string;
  phone?: string;
  email?: string;
  language?: string;
}

export interface InboundMessage {
  channel: ChannelKind;
  /** The customer's chat on that channel: Telegram chat id, e-mail address, VK peer id... */
  externalChatId: string;
  /** Unique per channel; the same id delivered twice is stored once. */
  externalMessageId: string;
  profile: CustomerProfile;
  text: string;
  attachments: Attachment[];
  replyToExternalId?: string;
  sentAt: Date;
  /** Channel-specific threading hints, e.g. e-mail subject and Message-ID. Stored as name/value pairs. */
  meta?: Array<{ name: string; value: string }>;
}

/** A customer changed a message they sent earlier (edited its text, or deleted it), as every channel reports it. */
export interface InboundChange {
  channel: ChannelKind;
  /** The changed message's id, as its InboundMessage had it. */
  externalMessageId: string;
  kind: 'edited' | 'deleted';
  /** The text after the edit. */
  text?: string;
  at: Date;
}

export interface OutboundMessage {
  text: string;
  /** Safe formatting subset (b, i, code, a) the channel may render; plain `text` is the fallback. */
  html?: string;
  attachments: Attachment[];
  replyToExternalId?: string;
  meta?: Array<{ name: string; value: string }>;
  /**
   * Answers the customer can tap (a survey's 1-5); a tap comes back as an ordinary message with that text.
   * Channels without buttons ignore them, so the text itself must ask in words too.
   */
  quickReplies?: string[];
}

export interface SendResult {
  externalMessageId: string;
}

export interface ChannelCapabilities {
  /** Changes the text of a message the customer got (otherwise an operator's edit goes out as a correction). */
  edit: boolean;
  /** Removes a message the customer got, for them too. */
  delete: boolean;
  typing: boolean;
  deliveryReceipts: boolean;
  readReceipts: boolean;
  buttons: boolean;
  maxTextLength: number;
}

/** `elsewhere`: another copy of the gateway runs this channel (one that only one copy may run, WhatsApp Web). */
export type ChannelState = 'starting' | 'up' | 'down' | 'stopped' | 'elsewhere';

/** Everything a channel reports back to the core. */
export interface ChannelSink {
  inbound(message: InboundMessage): Promise<void>;
  /** The customer edited or deleted a message: stored as a version and shown to operators. */
  changed?(change: InboundChange): Promise<void>;
  deliveryStatus?(channel: ChannelKind, externalMessageId: string, status: 'delivered' | 'read' | 'failed', error?: string): Promise<void>;
  stateChanged?(channel: ChannelKind, state: ChannelState, detail?: string): void;
  /** The customer is typing: shown to operators where cheap, best effort, nothing stored. */
  typing?(channel: ChannelKind, externalChatId: string): void;
}

export interface SendContext {
  /** Stable for one outbox item across retries: channels with idempotent sends derive their key from it. */
  idempotencyKey: string;
}

/** One messenger, as the core sees it. */
export interface Channel {
  readonly kind: ChannelKind;
  readonly capabilities: ChannelCapabilities;
  state(): ChannelState;
  start(sink: ChannelSink): Promise<void>;
  stop(): Promise<void>;
  send(externalChatId: string, message: OutboundMessage, context: SendContext): Promise<SendResult>;
  /**
   * Replaces the text of a message sent earlier (capabilities.edit). False: this one can't be edited (too old, too
   * long, not a text); the customer then gets a correction instead.
   */
  edit?(externalChatId: string, externalMessageId: string, text: string, context: SendContext): Promise<boolean>;
  /** Deletes a message sent earlier, for the customer too (capabilities.delete). */
  delete?(externalChatId: string, externalMessageId: string, context: SendContext): Promise<void>;
  /** Rate limits the remote imposes on sends to this chat, as token buckets; none when absent. */
  rateLimits?(externalChatId: string): RateBucket[];
}

export interface RateBucket {
  key: string;
  capacity: number;
  refillPerSecond: number;
}

export const CONVERSATION_STATUSES = ['new', 'active', 'awaiting', 'transferred', 'closed', 'archived'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

export const CLOSE_REASONS = ['solved', 'no_response', 'transferred_to_specialist', 'other'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const PRIORITIES = ['low', 'normal', 'high'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const OPERATOR_ROLES = ['operator', 'supervisor', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export type MessageDirection = 'in' | 'out' | 'note' | 'system';
export type DeliveryStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export type Actor =
  | { kind: 'customer' }
  | { kind: 'system' }
  | { kind: 'operator'; operatorId: string; name: string };
