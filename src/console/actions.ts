import type { Types } from 'mongoose';
import { enqueue } from '../outbox/enqueue.js';
import { derivedObjectId } from '../db/derived-id.js';

/**
 * What the core asks of the operator console. The console (Telegram today) is a deliverer on the
 * `console` route; every request is an outbox item, so a restart loses none of them.
 */
export type ConsoleRequest =
  | { action: 'relay'; conversation: Types.ObjectId; message: Types.ObjectId }
  | { action: 'messageChanged'; conversation: Types.ObjectId; message: Types.ObjectId }
  | { action: 'conversationChanged'; conversation: Types.ObjectId }
  | { action: 'newConversationAlert'; conversation: Types.ObjectId }
  /** The chat got an owner without the alert's Take button: the alert says who, and loses the button. */
  | { action: 'alertAnswered'; conversation: Types.ObjectId }
  | { action: 'deliveryStatus'; conversation: Types.ObjectId; message: Types.ObjectId }
  | { action: 'notice'; conversation?: Types.ObjectId; text: string; mention?: 'onDuty' | 'supervisors' | 'owner'; html?: boolean; buttons?: NoticeButton[][]; threadId?: number; replyTo?: number; file?: NoticeFile; alert?: boolean }
  | { action: 'dashboard' }
  /** An erased conversation's copies in the group: its forum topic, or (reply mode) up to 100 of its messages. */
  | { action: 'eraseCopies'; topicId?: number; messageIds?: number[] };

/**
 * Who gets the operator group's budget first (Telegram allows a bot about 20 sends a minute into a group): a
 * customer's words, answers to operators and failure notices; then alerts (new chat, SLA, reminders, reports);
 * then cosmetics, which only ever spend what nothing else is waiting for.
 */
export const CONSOLE_PRIORITY = { words: 1, alert: 2, cosmetic: 3 } as const;

/**
 * Cosmetic requests show the latest state of one thing (a topic's name, a message's reaction, the dashboard):
 * one item per thing, however often asked; it reads the state when it runs.
 */
function cosmeticKey(request: ConsoleRequest): string | undefined {
  if (request.action === 'conversationChanged') return `topic:${request.conversation}`;
  if (request.action === 'deliveryStatus') return `reaction:${request.message}`;
  if (request.action === 'dashboard') return 'dashboard';
  return undefined;
}

function priorityOf(request: ConsoleRequest): number {
  if (cosmeticKey(request)) return CONSOLE_PRIORITY.cosmetic;
  if (request.action === 'newConversationAlert' || request.action === 'alertAnswered' || request.action === 'eraseCopies' || (request.action === 'notice' && request.alert)) return CONSOLE_PRIORITY.alert;
  return CONSOLE_PRIORITY.words;
}

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

export function conversationStream(conversationId: Types.ObjectId | string): string {
  return `console:conv:${conversationId}`;
}

function streamOf(request: ConsoleRequest): string {
  // A cosmetic item is its own stream: a waiting topic rename never holds up the chat's messages.
  const cosmetic = cosmeticKey(request);
  if (cosmetic) return `console:${cosmetic}`;
  // The alert and its answer share a stream: the answer runs once the alert was shown (or skipped).
  if (request.action === 'dashboard' || request.action === 'newConversationAlert' || request.action === 'alertAnswered' || request.action === 'eraseCopies' || !request.conversation) return GENERAL_STREAM;
  return conversationStream(request.conversation);
}

/**
 * Queues a request to the console, ordered with everything else shown for the same conversation.
 * `onceKey` names a request that must not be queued twice (a scheduled report): while its item waits, asking
 * again changes nothing. A relay is always once per message; a cosmetic request once per thing it shows.
 */
export async function requestConsole(request: ConsoleRequest, options: { onceKey?: string; notBefore?: Date } = {}): Promise<void> {
  const { action, conversation, message, buttons, alert: _alert, ...payload } = request as ConsoleRequest & { conversation?: Types.ObjectId; message?: Types.ObjectId; buttons?: NoticeButton[][]; alert?: boolean };
  // FerretDB stores no nested arrays: keyboard rows travel as objects.
  const buttonRows = buttons?.map((row) => ({ buttons: row }));
  const cosmetic = cosmeticKey(request);
  const key = options.onceKey ?? cosmetic ?? (action === 'relay' ? relayKey(message!) : action === 'messageChanged' ? `changed:${message}` : undefined);
  await enqueue({
    _id: key ? derivedObjectId(key) : undefined,
    route: CONSOLE_ROUTE,
    action,
    stream: streamOf(request),
    conversation,
    message,
    payload: buttonRows ? { ...payload, buttonRows } : payload,
    notBefore: options.notBefore,
    priority: priorityOf(request),
    // A change shows the message as it is when it runs: changes made while it waits ride along.
    coalesce: Boolean(cosmetic) || action === 'messageChanged',
  });
}

/** A message's relay is one outbox item, whoever asks for it and however often. */
const relayKey = (message: Types.ObjectId | string) => `relay:${message}`;

/**
 * Queues the relays of customer messages that are being stored, at the same time as they are stored: whatever
 * of them gets stored is shown, even if the process dies right after, on every channel. A relay whose message is
 * not stored (yet) waits for it a while (`RELAY_WAITS_FOR_MESSAGE_MS` in the console) and then shows nothing.
 */
export async function queueRelays(conversation: Types.ObjectId, messages: Types.ObjectId[]): Promise<void> {
  await Promise.all(messages.map((message) => requestConsole({ action: 'relay', conversation, message })));
}
