import { EventEmitter } from 'node:events';
import type { WhatsAppClientLike, WhatsAppMediaLike, WhatsAppMessageLike } from '../../channels/whatsapp-web.js';
import type { WhatsAppChatLike } from '../../channels/whatsapp-catch-up.js';

type FakeMessage = WhatsAppMessageLike & { isNotification?: boolean };

/**
 * A whatsapp-web.js Chat as Client.getChats() returns it (index.d.ts `Chat`): the same fields, and fetchMessages
 * doing what the library's does (Chat.js): notifications left out, `fromMe` keeps only ours (true) or only
 * theirs (false), `limit` keeps the latest that many, earliest first. A snapshot, as the library serializes
 * the chats at the time of the call.
 */
export class FakeChat implements WhatsAppChatLike {
  readonly id: { server: string; user: string; _serialized: string };
  readonly isGroup: boolean;
  readonly name: string;
  readonly archived = false;
  readonly isReadOnly = false;
  readonly isMuted = false;
  readonly muteExpiration = 0;
  readonly pinned = false;
  readonly isLocked = false;
  readonly unreadCount: number;
  /** Unix seconds of the last activity; absent for a chat without messages. */
  readonly timestamp?: number;
  readonly lastMessage?: WhatsAppMessageLike;
  private readonly messages: FakeMessage[];

  constructor(jid: string, messages: FakeMessage[]) {
    const [user = '', server = ''] = jid.split('@');
    this.id = { server, user, _serialized: jid };
    this.isGroup = server === 'g.us';
    this.name = user;
    this.messages = [...messages].sort((a, b) => a.timestamp - b.timestamp);
    this.lastMessage = this.messages.at(-1);
    this.timestamp = this.lastMessage?.timestamp;
    this.unreadCount = this.messages.filter((m) => !m.fromMe).length;
  }

  async fetchMessages(searchOptions: { limit?: number; fromMe?: boolean }): Promise<WhatsAppMessageLike[]> {
    let found = this.messages.filter((m) => !m.isNotification && (searchOptions?.fromMe === undefined || m.fromMe === searchOptions.fromMe));
    if (searchOptions?.limit && searchOptions.limit > 0 && found.length > searchOptions.limit) found = found.slice(found.length - searchOptions.limit);
    return found;
  }
}

/**
 * The business phone's WhatsApp account: every chat and its messages, whether or not a Client is connected.
 * Clients linked to one account (a restarted gateway) see the same chats.
 */
export class FakeWhatsAppAccount {
  private readonly chats = new Map<string, FakeMessage[]>();

  /** A message lands in the account: a customer wrote (its `from`), or we did (`fromMe`, in chat `chatId`). */
  add(message: FakeMessage, chatId = message.from): void {
    const chat = this.chats.get(chatId) ?? [];
    chat.push(message);
    this.chats.set(chatId, chat);
  }

  snapshot(): FakeChat[] {
    return [...this.chats].map(([jid, messages]) => new FakeChat(jid, messages));
  }
}

/**
 * Stands in for the whatsapp-web.js Client (nothing here can reach WhatsApp): an EventEmitter that the test
 * drives with the library's own events (qr, ready, disconnected, message, message_ack), reading and writing
 * the chats of its account, and recording what the adapter asked of it.
 */
export class FakeWhatsAppClient extends EventEmitter implements WhatsAppClientLike {
  initialized = false;
  destroyed = false;
  /** Makes initialize() fail, as a browser that can't start does. */
  failInitialize?: Error;
  failSend?: Error;
  readonly sends: Array<{ chatId: string; content: string | WhatsAppMediaLike; options?: Record<string, unknown>; id: string }> = [];
  readonly known = new Map<string, WhatsAppMessageLike>();
  /** Our messages edited (Message.edit) and deleted for everyone (Message.delete(true)). */
  readonly edits: Array<{ id: string; content: string }> = [];
  readonly deletedForEveryone: string[] = [];
  private nextId = 1;

  constructor(readonly account = new FakeWhatsAppAccount()) {
    super();
  }

  async initialize(): Promise<void> {
    if (this.failInitialize) throw this.failInitialize;
    this.initialized = true;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  async sendMessage(chatId: string, content: string | WhatsAppMediaLike, options?: Record<string, unknown>) {
    if (this.failSend) throw this.failSend;
    const id = `true_${chatId}_3EB0OUT${this.nextId++}`;
    this.sends.push({ chatId, content, options, id });
    const sent = fakeMessage({ id: { _serialized: id }, fromMe: true, from: 'business@c.us', body: typeof content === 'string' ? content : '', media: typeof content === 'string' ? undefined : content });
    // As Message.edit does: null when WhatsApp does not allow the edit (a media message here, or after 15 minutes).
    sent.edit = async (newContent: string) => {
      if (sent.hasMedia || Date.now() / 1000 - sent.timestamp > 15 * 60) return null;
      this.edits.push({ id, content: newContent });
      sent.body = newContent;
      return sent;
    };
    sent.delete = async (everyone?: boolean) => {
      if (everyone) this.deletedForEveryone.push(id);
    };
    this.known.set(id, sent);
    this.account.add(sent, chatId);
    return { id: { _serialized: id } };
  }

  async getMessageById(messageId: string) {
    return this.known.get(messageId);
  }

  async getChats(): Promise<FakeChat[]> {
    return this.account.snapshot();
  }

  /** A customer's message arrives: it lands in the account, and the 'message' event carries it. */
  receive(message: WhatsAppMessageLike): void {
    this.known.set(message.id._serialized, message);
    this.account.add(message);
    this.emit('message', message);
  }
}

let counter = 0;

/** A whatsapp-web.js Message as the adapter reads it; media and contact are served by its methods. */
export function fakeMessage(fields: Partial<FakeMessage> & { media?: WhatsAppMediaLike; contact?: { pushname?: string; number?: string }; quotedId?: string } = {}): FakeMessage {
  counter += 1;
  const { media, contact, quotedId, ...rest } = fields;
  return {
    id: { _serialized: `false_491701234567@c.us_3EB0IN${counter}` },
    from: '491701234567@c.us',
    fromMe: false,
    body: '',
    type: 'chat',
    timestamp: Math.floor(Date.now() / 1000),
    hasMedia: Boolean(media),
    hasQuotedMsg: Boolean(quotedId),
    async downloadMedia() {
      return media;
    },
    async getContact() {
      return contact ?? { pushname: 'Lena Schmidt', number: '491701234567' };
    },
    async getQuotedMessage() {
      return quotedId ? { id: { _serialized: quotedId } } : undefined;
    },
    ...rest,
  };
}
