import type { Types } from 'mongoose';
import { enqueue } from '../outbox/enqueue.js';

/**
 * What the core asks of the operator console. The console (Telegram today) is a deliverer on the
 * `console` route; every request is an outbox item, so a restart loses none of them.
 */
export type ConsoleRequest =
  | { action: 'relay'; conversation: Types.ObjectId; message: Types.ObjectId }
  | { action: 'edited'; conversation: Types.ObjectId; message: Types.ObjectId }
  | { action: 'conversationChanged'; conversation: Types.ObjectId }
  | { action: 'newConversationAlert'; conversation: Types.ObjectId }
  | { action: 'deliveryStatus'; conversation: Types.ObjectId; message: Types.ObjectId }
  | { action: 'notice'; conversation?: Types.ObjectId; text: string; mention?: 'onDuty' | 'supervisors' | 'owner' };

export const CONSOLE_ROUTE = 'console';
export const GENERAL_STREAM = 'console:general';

export function conversationStream(conversationId: Types.ObjectId | string): string {
  return `console:conv:${conversationId}`;
}

/** Queues a request to the console, ordered with everything else shown for the same conversation. */
export async function requestConsole(request: ConsoleRequest): Promise<void> {
  const { action, conversation } = request;
  const stream = action === 'newConversationAlert' || !conversation ? GENERAL_STREAM : conversationStream(conversation);
  await enqueue({
    route: CONSOLE_ROUTE,
    action,
    stream,
    conversation,
    message: 'message' in request ? request.message : undefined,
    payload: action === 'notice' ? { text: request.text, mention: request.mention } : {},
  });
}
