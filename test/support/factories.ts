import type { InboundMessage } from '../../src/domain.js';
import { OperatorModel } from '../../src/db/models/index.js';

let counter = 0;

/** A customer message as a channel adapter would hand it over. */
export function inbound(overrides: Partial<InboundMessage> = {}): InboundMessage {
  counter += 1;
  return {
    channel: 'telegram',
    externalChatId: '5001',
    externalMessageId: `m${counter}-${Math.random().toString(36).slice(2, 8)}`,
    profile: { name: 'Alice Customer', username: 'alice' },
    text: `hello ${counter}`,
    attachments: [],
    sentAt: new Date(),
    ...overrides,
  };
}

export function createOperator(overrides: { telegramUserId?: number; name?: string; username?: string; role?: 'operator' | 'supervisor' | 'admin' } = {}) {
  counter += 1;
  return OperatorModel.create({ telegramUserId: 9000 + counter, name: `Operator ${counter}`, username: `op${counter}`, role: 'operator', ...overrides });
}
