import type { Types } from 'mongoose';
import {
  ChatKeyModel,
  ConversationEventModel,
  ConversationModel,
  CustomerModel,
  EmailThreadModel,
  JobMarkModel,
  ErasureAuditModel,
  MessageModel,
  OutboxItemModel,
  WebchatFileModel,
  type ConversationDoc,
} from '../db/models/index.js';
import { requestConsole } from '../console/actions.js';
import { keepFactsAnonymously } from '../stats/facts-store.js';
import type { Planner } from '../jobs/context.js';

/** How a web chat file is named in a stored attachment (`wc:<file id>`), or by the message it came with. */
const WEBCHAT_FILE_REF = /^wc:(.+)$/;
/** Telegram deletes at most this many messages in one call. */
const GROUP_DELETE_BATCH = 100;

/** Who erased: a supervisor with /forget, or the RETENTION_AFTER job. */
export type Eraser = { kind: 'operator'; telegramUserId: number } | { kind: 'retention' };

/** An erasure: who does it, and the jobs planned for the chats (reminders, surveys...), cancelled with them. */
export interface Erasure {
  by: Eraser;
  plannedJobs?: Pick<Planner, 'cancelAll'>;
}

export interface Erased {
  conversations: number;
  messages: number;
  files: number;
  groupTopics: number;
  groupMessages: number;
  /** The customer's profile went too (no chat of theirs is left). */
  customerErased: boolean;
}

/** Every chat of the customer, their profile, their chat key; returns what went (also recorded in ErasureAudit). */
export async function eraseCustomer(customerId: Types.ObjectId, erasure: Erasure): Promise<Erased> {
  return eraseConversations(customerId, await ConversationModel.find({ customer: customerId }), erasure);
}

/** These chats of one customer; the customer's profile goes too when no other chat of theirs is left. */
export async function eraseConversations(customerId: Types.ObjectId, conversations: ConversationDoc[], { by, plannedJobs }: Erasure): Promise<Erased> {
  const ids = conversations.map((c) => c._id);
  // A reminder or survey that ran after the erasure would find nothing, but it would still sit in the job list.
  for (const id of ids) await plannedJobs?.cancelAll({ conversationId: String(id) });
  // Statistics first: once the conversation is gone, its facts can no longer be read.
  for (const id of ids) await keepFactsAnonymously(id);
  const messages = await MessageModel.find({ conversation: { $in: ids } }, { conversation: 1, consoleMessageId: 1, consoleMessageIds: 1, attachments: 1 }).lean();
  const groupCopies = await eraseGroupCopies(conversations, messages);

  const fileIds = messages.flatMap((m) => m.attachments.flatMap((a, index) => [WEBCHAT_FILE_REF.exec(a.ref ?? '')?.[1], `${m._id}-${index}`])).filter((id): id is string => Boolean(id));
  let files = (await WebchatFileModel.deleteMany({ _id: { $in: fileIds } })).deletedCount;
  // The chats go first: a message arriving from now on opens a new chat instead of joining one being erased.
  await ConversationModel.deleteMany({ _id: { $in: ids } });
  const deletedMessages = await deleteMessagesOf(ids, messages.map((m) => m._id));
  await ConversationEventModel.deleteMany({ conversation: { $in: ids } });
  await EmailThreadModel.deleteMany({ conversation: { $in: ids } });
  await JobMarkModel.deleteMany({ conversation: { $in: ids } });

  const customer = await CustomerModel.findById(customerId);
  const customerErased = Boolean(customer) && (await ConversationModel.countDocuments({ customer: customerId })) === 0;
  if (customer && customerErased) {
    const chatKey = `${customer.channel}:${customer.externalChatId}`;
    // A web chat visitor's uploads that never made it into a message are theirs too.
    if (customer.channel === 'webchat') files += (await WebchatFileModel.deleteMany({ visitorId: customer.externalChatId })).deletedCount;
    await ChatKeyModel.deleteOne({ _id: chatKey });
    await CustomerModel.deleteOne({ _id: customerId });
  } else if (customer) {
    await ChatKeyModel.updateOne({ _id: `${customer.channel}:${customer.externalChatId}`, lastConversation: { $in: ids } }, { $unset: { lastConversation: '' } });
  }

  // One that was being stored in an erased chat as it went (read the chat just before) is erased too.
  const lateMessages = await deleteMessagesOf(ids, []);
  const erased: Erased = { conversations: ids.length, messages: deletedMessages + lateMessages, files, ...groupCopies, customerErased };
  await ErasureAuditModel.create({
    at: new Date(),
    by: by.kind,
    operatorTelegramId: by.kind === 'operator' ? by.telegramUserId : undefined,
    customer: customerId,
    customerErased,
    counts: { conversations: erased.conversations, messages: erased.messages, files: erased.files, groupTopics: erased.groupTopics, groupMessages: erased.groupMessages },
  });
  return erased;
}

/** The messages of these chats and the outbox items about them (relays, deliveries); returns how many messages. */
async function deleteMessagesOf(conversations: Types.ObjectId[], messages: Types.ObjectId[]): Promise<number> {
  await OutboxItemModel.deleteMany({ $or: [{ conversation: { $in: conversations } }, ...(messages.length > 0 ? [{ message: { $in: messages } }] : [])] });
  return (await MessageModel.deleteMany({ conversation: { $in: conversations } })).deletedCount;
}

/**
 * Asks the console to remove what the operator group shows of these chats: a chat's forum topic (with all in it),
 * or in reply mode its relayed messages and answers; the new-chat alert in either mode.
 */
async function eraseGroupCopies(conversations: ConversationDoc[], messages: Array<{ conversation: Types.ObjectId; consoleMessageId?: number | null; consoleMessageIds: number[] }>): Promise<Pick<Erased, 'groupTopics' | 'groupMessages'>> {
  const topicIds = conversations.map((c) => c.console?.topicId).filter((id): id is number => Boolean(id));
  const withTopic = new Set(conversations.filter((c) => c.console?.topicId).map((c) => String(c._id)));
  const shown = messages.filter((m) => !withTopic.has(String(m.conversation))).flatMap((m) => [...m.consoleMessageIds, ...(m.consoleMessageId ? [m.consoleMessageId] : [])]);
  const alerts = conversations.flatMap((c) => [c.console?.alertMessageId, ...(c.console?.noticeMessageIds ?? [])]).filter((id): id is number => Boolean(id));
  const messageIds = [...new Set([...shown, ...alerts])];
  for (const topicId of topicIds) await requestConsole({ action: 'eraseCopies', topicId });
  for (let i = 0; i < messageIds.length; i += GROUP_DELETE_BATCH) await requestConsole({ action: 'eraseCopies', messageIds: messageIds.slice(i, i + GROUP_DELETE_BATCH) });
  return { groupTopics: topicIds.length, groupMessages: messageIds.length };
}

/** How many chats the retention job erased at or after `since` (all it ever erased without one). */
export async function erasedByRetentionSince(since: Date | undefined): Promise<number> {
  const audits = await ErasureAuditModel.find({ by: 'retention', ...(since ? { at: { $gte: since } } : {}) }).lean();
  return audits.reduce((sum, audit) => sum + (audit.counts?.conversations ?? 0), 0);
}
