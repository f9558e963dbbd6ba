import type { Types } from 'mongoose';
import { enqueue, wakeWorkers } from '../outbox/enqueue.js';
import { derivedObjectId } from '../db/derived-id.js';
import { OutboxItemModel } from '../db/models/index.js';

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
export async function requestConsole(request: ConsoleRequest, options: { onceKey?: string; notBefore?: Date } = {}): Promise<void> {
  const { action, conversation, message, buttons, ...payload } = request as ConsoleRequest & { conversation?: Types.ObjectId; message?: Types.ObjectId; buttons?: NoticeButton[][] };
  // FerretDB stores no nested arrays: keyboard rows travel as objects.
  const buttonRows = buttons?.map((row) => ({ buttons: row }));
  const _id = options.onceKey ? derivedObjectId(options.onceKey) : action === 'relay' ? relayItemId(message!) : undefined;
  await enqueue({ _id, route: CONSOLE_ROUTE, action, stream: streamOf(request), conversation, message, payload: buttonRows ? { ...payload, buttonRows } : payload, notBefore: options.notBefore });
}

/** A message's relay is one outbox item, whoever asks for it and however often. */
const relayItemId = (message: Types.ObjectId | string) => derivedObjectId(`relay:${message}`);

/** How long a held relay waits for its message to be stored before it comes due by itself. */
const RELAY_HOLD_MS = 30_000;

/**
 * Queues the relays of customer messages about to be stored, held back until `showCustomerMessages` lets them
 * go. A crash between storing and showing leaves them to come due by themselves after a while, so a stored
 * message is shown whatever happens to the process, on every channel; a relay whose message was never
 * stored shows nothing.
 */
export async function holdRelays(conversation: Types.ObjectId, messages: Types.ObjectId[]): Promise<void> {
  const notBefore = new Date(Date.now() + RELAY_HOLD_MS);
  await Promise.all(messages.map((message) => requestConsole({ action: 'relay', conversation, message }, { notBefore })));
}

/** Shows stored customer messages now: releases their held relays, or queues those that are missing. */
export async function showCustomerMessages(conversation: Types.ObjectId, messages: Types.ObjectId[]): Promise<void> {
  if (messages.length === 0) return;
  const released = await OutboxItemModel.updateMany({ _id: { $in: messages.map(relayItemId) }, status: 'pending' }, { $set: { nextAttemptAt: new Date() } });
  if (released.matchedCount < messages.length) await Promise.all(messages.map((message) => requestConsole({ action: 'relay', conversation, message })));
  wakeWorkers();
}
