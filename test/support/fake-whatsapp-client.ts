import { EventEmitter } from 'node:events';
import type { WhatsAppClientLike, WhatsAppMediaLike, WhatsAppMessageLike } from '../../channels/whatsapp-web.js';

/**
 * Stands in for the whatsapp-web.js Client (nothing here can reach WhatsApp): an EventEmitter that the test
 * drives with the library's own events (qr, ready, disconnected, message, message_ack) and that records
 * what the adapter asked of it.
 */
export class FakeWhatsAppClient extends EventEmitter implements WhatsAppClientLike {
  initialized = false;
  destroyed = false;
  /** Makes initialize() fail, as a browser that can't start does. */
  failInitialize?: Error;
  failSend?: Error;
  readonly sends: Array<{ chatId: string; content: string | WhatsAppMediaLike; options?: Record<string, unknown>; id: string }> = [];
  readonly known = new Map<string, WhatsAppMessageLike>();
  private nextId = 1;

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
    return { id: { _serialized: id } };
  }

  async getMessageById(messageId: string) {
    return this.known.get(messageId);
  }

  /** A customer's message arrives, as the 'message' event carries it. */
  receive(message: WhatsAppMessageLike): void {
    this.known.set(message.id._serialized, message);
    this.emit('message', message);
  }
}

let counter = 0;

/** A whatsapp-web.js Message as the adapter reads it; media and contact are served by its methods. */
export function fakeMessage(fields: Partial<WhatsAppMessageLike> & { media?: WhatsAppMediaLike; contact?: { pushname?: string; number?: string }; quotedId?: string } = {}): WhatsAppMessageLike {
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
