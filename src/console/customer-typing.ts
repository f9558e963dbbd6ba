import { ChatKeyModel } from '../db/models/index.js';
import { chatKeyOf } from '../conversations/open.js';
import type { ChannelKind } from '../domain.js';
import type { Logger } from '../logger.js';
import type { OperatorConsole } from './console.js';

/** A customer's typing is passed on at most this often (the console shows it for about 5 s). */
const TYPING_EVERY_MS = 4000;
/** How long the chat's open conversation is remembered; "none yet" only until the next passing on. */
const CONVERSATION_KNOWN_MS = 30_000;
/** Chats remembered at most (a flood of one-time chats does not grow memory without bound). */
const MAX_CHATS = 10_000;

/**
 * The sink's `typing`: shows it on the customer's open conversation, if any. Answered from memory: at most one
 * pass every few seconds per chat, and the chat's open conversation is read from the database at most once per
 * CONVERSATION_KNOWN_MS, never per typing event. Best effort: failures are only logged.
 */
export function showCustomerTyping(operatorConsole: OperatorConsole | undefined, logger: Logger, now: () => number = Date.now) {
  const passedAt = new Map<string, number>();
  const conversations = new Map<string, { id?: string; until: number }>();
  return (channel: ChannelKind, externalChatId: string): void => {
    if (!operatorConsole?.showTyping) return;
    const key = chatKeyOf(channel, externalChatId);
    const at = now();
    if (at - (passedAt.get(key) ?? -Infinity) < TYPING_EVERY_MS) return;
    if (passedAt.size >= MAX_CHATS) passedAt.clear();
    passedAt.set(key, at);
    const known = conversations.get(key);
    if (known && known.until > at) {
      if (known.id) operatorConsole.showTyping(known.id);
      return;
    }
    ChatKeyModel.findById(key, { openConversation: 1 })
      .lean()
      .then((chat) => {
        const id = chat?.openConversation ? String(chat.openConversation) : undefined;
        if (conversations.size >= MAX_CHATS) conversations.clear();
        conversations.set(key, { id, until: now() + (id ? CONVERSATION_KNOWN_MS : TYPING_EVERY_MS) });
        if (id) operatorConsole.showTyping?.(id);
      })
      .catch((error: unknown) => logger.debug({ err: error, channel }, 'could not look up the typing customer'));
  };
}
