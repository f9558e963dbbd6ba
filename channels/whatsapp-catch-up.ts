import { MessageModel, advanceChannelCursor, loadChannelCursor } from '../src/db/models/index.js';
import { customerMessageId } from '../src/conversations/customer-message.js';
import type { Logger } from '../src/logger.js';
import type { WhatsAppMessageLike } from './whatsapp-web.js';

/*
 * WhatsApp Web emits a message once, to the client that is connected at that moment. What arrived while the
 * gateway was down, or was held in memory when it died, is found again here: on every 'ready' the chats with
 * activity since the last stored message are read back, and the customers' messages among them go through the
 * normal inbound path (dedupe by message id makes the ones stored already harmless).
 */

/** How much is read back on connecting: the most recently active chats, and the latest messages of each. */
export interface CatchUpLimits {
  chats: number;
  messagesPerChat: number;
}

export const DEFAULT_CATCH_UP: CatchUpLimits = { chats: 50, messagesPerChat: 20 };

/**
 * Read back this much before the watermark: messages are stored in arrival order, which can differ a little
 * from WhatsApp's timestamps (and the first watermark is the gateway's clock).
 */
export const CATCH_UP_SLACK_SECONDS = 10 * 60;

/** The part of a whatsapp-web.js Chat the catch-up reads. */
export interface WhatsAppChatLike {
  id: { _serialized: string };
  isGroup: boolean;
  /** Unix seconds of the chat's last activity (its last message, ours included); absent for an empty chat. */
  timestamp?: number;
  /** The chat's messages, earliest first; with `limit` the latest that many, with `fromMe: false` only the other side's. */
  fetchMessages(searchOptions: { limit?: number; fromMe?: boolean }): Promise<WhatsAppMessageLike[]>;
}

/** One-to-one chats only: groups, status updates, broadcasts and channels are not customer conversations. */
export function isPersonalChat(jid: string): boolean {
  return /@(c\.us|lid)$/.test(jid);
}

/**
 * The customers' messages since `since` (unix seconds), oldest first: from the `limits.chats` personal chats
 * most recently active since then, those among the latest `limits.messagesPerChat` messages of each. (Not
 * `fromMe: false` with the limit: the library would then page back through a chat's whole history until it
 * found that many of the customer's.)
 */
export async function messagesSince(client: { getChats(): Promise<WhatsAppChatLike[]> }, since: number, limits: CatchUpLimits): Promise<WhatsAppMessageLike[]> {
  const chats = (await client.getChats())
    .filter((chat) => !chat.isGroup && isPersonalChat(chat.id._serialized) && (chat.timestamp ?? 0) >= since)
    .sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0))
    .slice(0, limits.chats);
  const found: WhatsAppMessageLike[] = [];
  for (const chat of chats) {
    const messages = await chat.fetchMessages({ limit: limits.messagesPerChat });
    found.push(...messages.filter((m) => !m.fromMe && m.timestamp >= since));
  }
  // Stable: each chat's messages stay in their order.
  return found.sort((a, b) => a.timestamp - b.timestamp);
}

/** Whether the inbox has this WhatsApp message already (a look-up by _id), so its media is not fetched again. */
export async function isStored(message: WhatsAppMessageLike): Promise<boolean> {
  return Boolean(await MessageModel.exists({ _id: customerMessageId({ channel: 'whatsapp', externalMessageId: message.id._serialized }) }));
}

const CURSOR_ID = 'whatsapp-web:stored-until';

/**
 * The WhatsApp time (unix seconds) up to which every customer message is stored, kept in the database. Messages
 * are stored one at a time in arrival order, so once one is stored so are those before it. Moved with `$max`
 * (it never goes back) and written behind: a write lost in a crash only makes the next catch-up read more.
 */
export class StoredUntil {
  private target = 0;
  private writing?: Promise<void>;

  constructor(private readonly logger: Logger) {}

  /** undefined before the first connection ever. */
  async read(): Promise<number | undefined> {
    const value = await loadChannelCursor<number>(CURSOR_ID);
    return typeof value === 'number' ? value : undefined;
  }

  advance(seconds: number): void {
    if (!(seconds > this.target)) return;
    this.target = seconds;
    this.writing ??= this.write();
  }

  /** Resolves once what advance() was given is written (or failed to be). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async write(): Promise<void> {
    try {
      for (let written = 0; written < this.target; ) {
        const value = this.target;
        await advanceChannelCursor(CURSOR_ID, value);
        written = value;
      }
    } catch (error) {
      // The next stored message or connection writes it; until then a catch-up reads back a little more.
      this.logger.warn({ err: error }, 'could not record how far WhatsApp messages are stored');
    } finally {
      this.writing = undefined;
    }
  }
}
