import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import { MessageModel, OutboxItemModel, type ConversationDoc, type CustomerDoc, type MessageDoc } from '../../db/models/index.js';
import type { Attachment } from '../../domain.js';
import { withInlineBytes } from '../../attachments.js';
import type { ClaimedItem, DeliveryOutcome } from '../../outbox/worker.js';
import { updateConversation, updateMessage } from '../../db/serialized-writes.js';
import { untilDatabaseAnswers } from '../../db/retry.js';
import { isLockHeld, releaseLock, takeLock } from '../../db/exclusive-lock.js';
import { DeliveryError } from '../../outbox/errors.js';
import { escapeHtml } from '../../util/html.js';
import { operatorText } from '../../i18n/operator-texts.js';
import { splitEscaped } from '../../util/split-text.js';
import type { ConsoleAction, ConsoleContext } from './console-action.js';
import type { GroupCalls } from './group-calls.js';
import { CAPTION_LIMIT, sendAttachment, sendHtml, TEXT_LIMIT } from './group-send.js';
import { attachmentSummary, channelLabel, customerCard, customerName, topicTitle } from './render.js';
import { transcriptLine } from './transcript.js';

/** How long a relay waits for its message to be stored (they are queued together) before it gives up on it. */
const RELAY_WAITS_FOR_MESSAGE_MS = 30_000;
/** Messages replayed into a conversation's new topic after its old one was deleted. */
const REPLAY_MESSAGES = 20;
/**
 * How long an attempt may take to open a topic before another may try (its holder died, or never heard back):
 * longer than the outbox's send timeout (30 s by default), short enough not to hold a chat up long after a crash.
 */
const TOPIC_LOCK_MS = 45_000;
const TOPIC_WAIT_MS = 1000;
const topicLockOf = (conversation: Types.ObjectId) => `topic:${conversation}`;
/** What the Bot API accepts as an upload. */
const UPLOAD_LIMIT = 50 * 1024 * 1024;

interface Prepared {
  message: MessageDoc;
  conversation: ConversationDoc;
  customer: CustomerDoc;
}

/**
 * Shows a message of the conversation (the customer's, or one the gateway sent them) in its topic, opening the
 * topic first when there is none (one call per attempt: the item then runs again on a slot of its own).
 */
export function relayAction(ctx: ConsoleContext): ConsoleAction {
  return {
    async plan(item) {
      const message = await MessageModel.findById(item.message);
      // The relay is queued while its message is being stored: it waits for it a moment. Still missing after that,
      // its storing was interrupted (the channel delivers it again, and it is queued again then).
      if (!message) return Date.now() - new Date(item.createdAt).getTime() < RELAY_WAITS_FOR_MESSAGE_MS ? { waitMs: 100 } : { skip: 'the message was never stored' };
      if (message.consoleMessageIds.length > 0) return { skip: 'the message is shown already' };
      const loaded = await ctx.load(message.conversation);
      if (!loaded) return { skip: 'the conversation no longer exists' };
      const opensTopic = ctx.forum() && !loaded.conversation.console?.topicId;
      // An attempt elsewhere (another copy, or one of this process that outlived its send timeout) is opening it.
      if (opensTopic && (await isLockHeld(topicLockOf(loaded.conversation._id)))) return { waitMs: TOPIC_WAIT_MS };
      return { needs: { manageTopics: opensTopic }, prepared: { message, ...loaded } satisfies Prepared };
    },

    async run(item, calls, prepared) {
      const { message, conversation, customer } = prepared as Prepared;
      if (ctx.forum() && !conversation.console?.topicId) {
        await openTopic(calls, conversation, customer);
        return { repeat: true };
      }
      if (conversation.console?.topicLost) {
        await replayIntoNewTopic(calls, conversation, message);
        return { repeat: true };
      }
      return showMessage(item, calls, prepared as Prepared);
    },
  };

  /**
   * Opens the conversation's topic, under a lock: of two attempts at once (two copies, or a retry while a slow
   * attempt still runs) one opens it and the other waits for it. Nothing is opened when the lock is taken.
   */
  async function openTopic(calls: GroupCalls, conversation: ConversationDoc, customer: CustomerDoc): Promise<void> {
    const lock = topicLockOf(conversation._id);
    const holder = { instance: ctx.instanceId, attempt: randomUUID() };
    if (!(await takeLock(lock, holder, TOPIC_LOCK_MS))) return;
    const title = topicTitle(conversation, customer);
    let topic: { message_thread_id: number };
    try {
      topic = await calls.make({ manageTopics: true }, (api) => api.createForumTopic(ctx.groupId, title));
    } catch (error) {
      // Telegram answered (refused, or asked to wait): no topic was opened, the next attempt may try at once.
      if (error instanceof DeliveryError && error.kind !== 'transient') await releaseLock(lock, holder);
      throw error;
    }
    await recordSent(() => updateConversation(conversation._id, { $set: { 'console.topicId': topic.message_thread_id, 'console.topicTitle': title, 'console.topicClosed': false } }));
    await releaseLock(lock, holder);
  }

  /** The recent messages before `current`, as one transcript in the conversation's new topic. */
  async function replayIntoNewTopic(calls: GroupCalls, conversation: ConversationDoc, current: MessageDoc): Promise<void> {
    const recent = (await MessageModel.find({ conversation: conversation._id, _id: { $ne: current._id }, createdAt: { $lte: current.createdAt } }).sort({ createdAt: -1 }).limit(REPLAY_MESSAGES).lean()).reverse();
    if (recent.length > 0) {
      const heading = operatorText('relay.previousTopicDeleted', { count: recent.length });
      await sendHtml(calls, ctx.targetOf(conversation), [heading, ...recent.map(transcriptLine)].join('\n'));
    }
    await recordSent(() => updateConversation(conversation._id, { $unset: { 'console.topicLost': '' } }));
  }

  function header(conversation: ConversationDoc, customer: CustomerDoc, message: MessageDoc, mayRepeat: boolean): string {
    const lines: string[] = [];
    if (mayRepeat) lines.push(operatorText('relay.mayRepeat'));
    if (!conversation.console?.cardShown) lines.push(customerCard(conversation, customer));
    else if (!ctx.forum()) lines.push(operatorText('relay.replyHeader', { number: conversation.number, name: escapeHtml(customerName(customer)), channel: channelLabel(conversation.channel) }));
    if (message.direction === 'out' && message.author?.kind === 'system') lines.push(operatorText('relay.sentByGateway'));
    return lines.join('\n');
  }

  async function showMessage(item: ClaimedItem, calls: GroupCalls, { message, conversation, customer }: Prepared): Promise<DeliveryOutcome> {
    const target = ctx.targetOf(conversation);
    // Room for the longest header (with the mark) while the backlog is merged, then the header it needs.
    const absorbed = await absorbBacklog(item, message, TEXT_LIMIT - header(conversation, customer, message, true).length - 1);
    const head = header(conversation, customer, message, Boolean(item.mayRepeat) || absorbed.mayRepeat);
    const replyTo = message.replyToExternalId ? (await MessageModel.findOne({ channel: message.channel, externalId: message.replyToExternalId }, { consoleMessageId: 1 }).lean())?.consoleMessageId ?? undefined : undefined;

    const ids: number[] = [];
    const texts = [message, ...absorbed.messages].map((m) => m.text).filter(Boolean);
    // Files we hold (Telegram file ids, inline bytes, other channels' files we can fetch) and locations are sent
    // as media; the rest is described.
    const attachments = await Promise.all(message.attachments.map((a) => fetchForTelegram(a.toObject() as Attachment)));
    const sendable = (a: Attachment) => a.kind === 'location' || a.ref?.startsWith('tg:') || Boolean(a.dataBase64);
    const attachmentsToSend = attachments.filter(sendable);
    const unsendable = attachments.filter((a) => !sendable(a));
    const body = [texts.join('\n'), unsendable.length ? attachmentSummary(unsendable) : ''].filter(Boolean).join('\n');

    // The merged messages' own items were never claimed: should this process die between the send and its record,
    // they would be shown again unmarked. Marked first, unmarked again if the send fails.
    await absorbed.markMayRepeat(true);
    const bodyPieces = body ? splitEscaped(body, TEXT_LIMIT - head.length - 1) : [];
    const firstText = [head, bodyPieces[0] ?? ''].filter(Boolean).join('\n');
    const captionFits = attachmentsToSend.length > 0 && firstText.length <= CAPTION_LIMIT && bodyPieces.length <= 1;
    try {
      for (const [index, attachment] of attachmentsToSend.entries()) {
        const caption = index === 0 && captionFits ? firstText : undefined;
        ids.push(await sendAttachment(calls, target, attachment, caption, index === 0 ? replyTo : undefined));
      }
      if (!captionFits) {
        const pieces = [firstText, ...bodyPieces.slice(1)].filter(Boolean);
        for (const piece of pieces) ids.push(...(await sendHtml(calls, target, piece, { replyTo: ids.length === 0 ? replyTo : undefined })));
      }
    } catch (error) {
      if (ids.length === 0) await absorbed.markMayRepeat(false);
      throw error;
    }

    await recordSent(async () => {
      await updateMessage(message._id, { $set: { consoleMessageId: message.consoleMessageId ?? ids[0], consoleMessageIds: ids, consoleSenderId: calls.lastSender?.id, ...(head ? { consoleHead: head } : {}) } });
      if (absorbed.items.length > 0) {
        await Promise.all(absorbed.messages.map((m) => updateMessage(m._id, { $set: { consoleMessageId: ids[0], consoleMessageIds: ids, consoleSenderId: calls.lastSender?.id } })));
        await OutboxItemModel.deleteMany({ _id: { $in: absorbed.items } });
      }
      if (!conversation.console?.cardShown) await updateConversation(conversation._id, { $set: { 'console.cardShown': true } });
    });
    ctx.dashboardStale();
    return { externalId: String(ids[0]) };
  }
}

/**
 * Customer messages that queued up behind this one (a burst while the group's budget was spent) are merged
 * into it, text only and within one Telegram message, so a burst costs one send instead of many.
 */
async function absorbBacklog(item: ClaimedItem, first: MessageDoc, room: number): Promise<Backlog> {
  const items: Types.ObjectId[] = [];
  const messages: MessageDoc[] = [];
  /** The merged items not yet marked as possibly shown. */
  const unmarked: Types.ObjectId[] = [];
  let mayRepeat = false;
  if (first.direction === 'in' && first.attachments.length === 0 && item.queuedBehind !== 0) {
    const following = await OutboxItemModel.find({ stream: item.stream, status: 'pending', seq: { $gt: item.seq } }).sort({ seq: 1 }).limit(50).lean();
    let used = escapeHtml(first.text).length;
    for (const next of following) {
      if (next.action !== 'relay' || next.nextAttemptAt > new Date()) break;
      const message = await MessageModel.findById(next.message);
      if (!message || message.direction !== 'in' || message.attachments.length > 0) break;
      used += escapeHtml(message.text).length + 1;
      if (used > room) break;
      items.push(next._id);
      messages.push(message);
      if (next.mayRepeat) mayRepeat = true;
      else unmarked.push(next._id);
    }
  }
  return {
    items,
    messages,
    mayRepeat,
    markMayRepeat: async (value) => {
      if (unmarked.length > 0) await OutboxItemModel.updateMany({ _id: { $in: unmarked } }, { $set: { mayRepeat: value } });
    },
  };
}

interface Backlog {
  items: Types.ObjectId[];
  messages: MessageDoc[];
  /** One of the merged messages may have been shown already (by a process that died). */
  mayRepeat: boolean;
  markMayRepeat(value: boolean): Promise<void>;
}

/**
 * The attachment with its bytes, when another channel holds them (a web chat upload, a VK photo) and they fit
 * an upload; as it was otherwise, or when fetching fails (it is then described by name instead of shown). Bytes
 * only another gateway copy can read (WhatsApp Web's browser) send the relay to that copy.
 */
async function fetchForTelegram(attachment: Attachment): Promise<Attachment> {
  if (attachment.kind === 'location' || attachment.dataBase64 || !attachment.ref || attachment.ref.startsWith('tg:') || (attachment.size ?? 0) > UPLOAD_LIMIT) return attachment;
  const fetched = await withInlineBytes(attachment).catch((error: unknown) => {
    if (error instanceof DeliveryError && error.kind === 'elsewhere') throw error;
    return undefined;
  });
  return fetched && (fetched.size ?? 0) <= UPLOAD_LIMIT ? fetched : attachment;
}

/** Records what a Bot API call did; given up, the retry would show it twice (or open a second topic). */
export function recordSent<T>(write: () => Promise<T>): Promise<T> {
  return untilDatabaseAnswers(write);
}
