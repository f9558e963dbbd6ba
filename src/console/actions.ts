import type { Types } from 'mongoose';
import { enqueue } from '../outbox/enqueue.js';
import { derivedObjectId } from '../db/derived-id.js';

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
  | { action: 'notice'; conversation?: Types.ObjectId; text: string; mention?: 'onDuty' | 'supervisors' | 'owner'; html?: boolean; buttons?: NoticeButton[][]; threadId?: number; file?: NoticeFile }
  | { action: 'dashboard' };

export interface NoticeButton {
  text: string;
  /** Callback data the console routes back to a command. */
  data: string;
}

export interface NoticeFile {
  fileName: string;
  mimeType: string;
  dataBase64: string;
}

export const CONSOLE_ROUTE = 'console';
export const GENERAL_STREAM = 'console:general';
export const DASHBOARD_STREAM = 'console:dashboard';

export function conversationStream(conversationId: Types.ObjectId | string): string {
  return `console:conv:${conversationId}`;
}

function streamOf(request: ConsoleRequest): string {
  if (request.action === 'dashboard') return DASHBOARD_STREAM;
  if (request.action === 'newConversationAlert' || !request.conversation) return GENERAL_STREAM;
  return conversationStream(request.conversation);
}

/**
 * Queues a request to the console, ordered with everything else shown for the same conversation.
 * `onceKey` names a request that must not be queued twice (a scheduled report): while its item waits, asking
 * again changes nothing. A relay is always once per message.
 */
export async function requestConsole(request: ConsoleRequest, options: { onceKey?: string } = {}): Promise<void> {
  const { action, conversation, message, buttons, ...payload } = request as ConsoleRequest & { conversation?: Types.ObjectId; message?: Types.ObjectId; buttons?: NoticeButton[][] };
  // FerretDB stores no nested arrays: keyboard rows travel as objects.
  const buttonRows = buttons?.map((row) => ({ buttons: row }));
  const onceKey = options.onceKey ?? (action === 'relay' ? `relay:${message}` : undefined);
  const _id = onceKey ? derivedObjectId(onceKey) : undefined;
  await enqueue({ _id, route: CONSOLE_ROUTE, action, stream: streamOf(request), conversation, message, payload: buttonRows ? { ...payload, buttonRows } : payload });
}
