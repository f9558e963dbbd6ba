import { ChatKeyModel } from '../db/models/index.js';
import { chatKeyOf } from '../conversations/open.js';
import type { ChannelKind } from '../domain.js';
import type { Logger } from '../logger.js';
import type { OperatorConsole } from './console.js';

/** The sink's `typing`: shows it on the customer's open conversation, if any. Best effort: failures are only logged. */
export function showCustomerTyping(operatorConsole: OperatorConsole | undefined, logger: Logger) {
  return (channel: ChannelKind, externalChatId: string): void => {
    if (!operatorConsole?.showTyping) return;
    ChatKeyModel.findById(chatKeyOf(channel, externalChatId), { openConversation: 1 })
      .lean()
      .then((chat) => chat?.openConversation && operatorConsole.showTyping?.(String(chat.openConversation)))
      .catch((error: unknown) => logger.debug({ err: error, channel }, 'could not look up the typing customer'));
  };
}
