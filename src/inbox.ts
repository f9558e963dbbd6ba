import type { ChannelKind, InboundMessage } from './domain.js';
import { ChatKeyModel, CustomerModel, ConversationModel, type ConversationDoc, type CustomerDoc } from './db/models/index.js';
import { OPEN_STATUSES } from './db/models/conversation.js';
import { isDuplicateKeyError } from './db/errors.js';
import { chatKeyOf, openConversation } from './conversations/open.js';
import { statusOnCustomerMessage, transition } from './conversations/lifecycle.js';
import { requestConsole } from './console/actions.js';
import { KeyedMutex } from './util/keyed-mutex.js';
import { conversationLogger, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { updateConversation, updateMessage } from './db/serialized-writes.js';
import { insertMessage } from './db/batched-writes.js';
import { customerMessageDoc, customerMessageId } from './conversations/customer-message.js';
import { loadChatKey, loadConversation, loadCustomer, loadStoredMessage, type StoredMessage } from './db/loaders.js';

export type InboundResult =
  | { status: 'duplicate' }
  | { status: 'stored'; conversation: ConversationDoc; messageId: string; opened: boolean; reopened: boolean; relayed: boolean }
  | { status: 'intercepted'; conversation: ConversationDoc };

export interface Inbox {
  receive(message: InboundMessage): Promise<InboundResult>;
  edited(channel: ChannelKind, externalMessageId: string, text: string): Promise<boolean>;
}

/** Work other parts plug in around every customer message (src/jobs: survey replies, job planning). */
export interface InboxHooks {
  /**
   * Called before the conversation is resolved. Returning a conversation means the hook consumed the message
   * (and stored it there itself, e.g. a survey rating on a closed chat): no reopen, no relay.
   */
  intercept?: (message: InboundMessage, customer: CustomerDoc) => Promise<ConversationDoc | undefined>;
  /** Called after the message is stored, the status updated and the relay queued. */
  afterStored?: (result: Extract<InboundResult, { status: 'stored' }>, message: InboundMessage) => Promise<void>;
}

export interface InboxOptions extends InboxHooks {
  reopenWindowMs: number;
  logger: Logger;
  metrics?: Metrics;
  /** Called after a conversation is resolved, before the message is stored: channels use it for threading. */
  resolveConversation?: (message: InboundMessage, customer: CustomerDoc) => Promise<ConversationDoc | undefined>;
}

/**
 * The one entry point for customer messages from every channel: dedupe, customer, conversation,
 * message, status, and the console request to show it. Messages of one customer are handled in order.
 */
export function createInbox(options: InboxOptions): Inbox & { use(hooks: InboxHooks): () => void } {
  const perCustomer = new KeyedMutex();
  const { logger, metrics } = options;
  const hooks: InboxHooks[] = [options];

  /**
   * A message stored before. One stored just before the gateway stopped or the database failed, whose relay
   * was never queued, is queued now (a webhook retry, a replay after restart): its relay item's _id comes from
   * the message's, so one that is queued or failed is left alone; a shown message has its console ids.
   */
  async function duplicate(message: InboundMessage, seen: StoredMessage | null): Promise<InboundResult> {
    metrics?.duplicates.inc({ channel: message.channel });
    if (seen && !seen.consoleSkipped && !seen.consoleMessageIds?.length) {
      await requestConsole({ action: 'relay', conversation: seen.conversation, message: seen._id });
    }
    return { status: 'duplicate' };
  }

  async function receive(message: InboundMessage): Promise<InboundResult> {
    const messageId = customerMessageId(message);
    const chatKey = chatKeyOf(message.channel, message.externalChatId);
    return perCustomer.run(chatKey, async () => {
      // Independent reads go out together, batched with those of the other messages in flight (db/loaders.ts).
      const [seen, chat] = await Promise.all([loadStoredMessage(messageId), loadChatKey(chatKey)]);
      if (seen) return duplicate(message, seen);
      const [customer, open] = await Promise.all([
        findOrCreateCustomer(message, chat?.customer),
        chat?.openConversation ? loadConversation(chat.openConversation) : null,
      ]);
      for (const hook of hooks) {
        const consumed = await hook.intercept?.(message, customer);
        if (consumed) return { status: 'intercepted', conversation: consumed } as const;
      }
      const found = await findOrOpenConversation(message, customer, open, chat ?? undefined);
      let conversation = found.conversation;
      const log = conversationLogger(logger, conversation);

      let stored;
      try {
        stored = await insertMessage(customerMessageDoc(message, conversation._id, customer, customer.blocked ? 'blocked customer' : undefined));
      } catch (error) {
        // Stored meanwhile by another process, or by a batch that failed as a whole after storing it.
        if (isDuplicateKeyError(error)) return duplicate(message, await loadStoredMessage(messageId));
        throw error;
      }
      metrics?.inbound.inc({ channel: message.channel });

      await updateConversation(conversation._id, { $set: { lastCustomerMessageAt: message.sentAt, lastActivityAt: new Date() }, $inc: { 'counts.in': 1 } });
      const next = statusOnCustomerMessage(conversation);
      if (next) conversation = await transition(conversation, next, { actor: { kind: 'customer' }, reason: 'customer wrote' });

      // Only now: once operators see the message they act on the chat, and on FerretDB (whose updates are not
      // atomic) a conversation write still in flight would overwrite what they did.
      const relayed = !stored.consoleSkipped;
      if (relayed) await requestConsole({ action: 'relay', conversation: conversation._id, message: stored._id });
      if (found.opened) await requestConsole({ action: 'newConversationAlert', conversation: conversation._id });
      log.info({ messageId: String(stored._id), channel: message.channel, opened: found.opened, reopened: found.reopened, relayed }, 'customer message stored');
      log.debug({ body: message.text }, 'customer message body');
      const result = { status: 'stored', conversation, messageId: String(stored._id), opened: found.opened, reopened: found.reopened, relayed } as const;
      for (const hook of hooks) await hook.afterStored?.(result, message);
      return result;
    });
  }

  async function findOrOpenConversation(message: InboundMessage, customer: CustomerDoc, open: ConversationDoc | null, chat?: { lastConversation?: unknown }) {
    if (open && isOpen(open)) return { conversation: open, opened: false, reopened: false };

    const threaded = await options.resolveConversation?.(message, customer);
    if (threaded && isOpen(threaded)) return { conversation: threaded, opened: false, reopened: false };
    const last = chat?.lastConversation ? await ConversationModel.findById(chat.lastConversation) : null;
    const lastClosed = threaded?.status === 'closed' ? threaded : last?.status === 'closed' ? last : null;
    if (lastClosed?.closedAt && message.sentAt.getTime() - lastClosed.closedAt.getTime() < options.reopenWindowMs) {
      const reopened = await transition(lastClosed, lastClosed.owner ? 'active' : 'new', { actor: { kind: 'customer' }, reason: 'customer wrote after close' });
      return { conversation: reopened, opened: false, reopened: true };
    }
    const { conversation, opened } = await openConversation(customer, message.channel, new Date());
    return { conversation, opened, reopened: false };
  }

  async function edited(channel: ChannelKind, externalMessageId: string, text: string): Promise<boolean> {
    const stored = await updateMessage(customerMessageId({ channel, externalMessageId }), { $set: { text, editedAt: new Date() } });
    if (!stored) return false;
    await requestConsole({ action: 'edited', conversation: stored.conversation, message: stored._id });
    return true;
  }

  function use(extra: InboxHooks): () => void {
    hooks.push(extra);
    return () => {
      const index = hooks.indexOf(extra);
      if (index >= 0) hooks.splice(index, 1);
    };
  }

  return { receive, edited, use };
}

const isOpen = (conversation: ConversationDoc): boolean => (OPEN_STATUSES as readonly string[]).includes(conversation.status);

/** The chat's customer, with the profile fields this message brings kept current. */
async function findOrCreateCustomer(message: InboundMessage, knownId: unknown): Promise<CustomerDoc> {
  const profile = Object.fromEntries(Object.entries(message.profile).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  const known = knownId ? await loadCustomer(knownId) : null;
  if (known) {
    const changed = Object.entries(profile).filter(([field, value]) => known.get(field) !== value);
    if (changed.length > 0) {
      known.set(Object.fromEntries(changed));
      await known.save();
    }
    return known;
  }
  const customer = await upsertCustomer(message, profile);
  await ChatKeyModel.updateOne({ _id: chatKeyOf(message.channel, message.externalChatId) }, { $set: { customer: customer._id } }, { upsert: true });
  return customer;
}

async function upsertCustomer(message: InboundMessage, profile: Record<string, string>): Promise<CustomerDoc> {
  const key = { channel: message.channel, externalChatId: message.externalChatId };
  try {
    // A plain insert: the unique (channel, externalChatId) index settles races without a collection scan.
    return await CustomerModel.create({ ...key, ...profile });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return (await CustomerModel.findOneAndUpdate(key, { $set: profile }, { returnDocument: 'after' }))!;
  }
}
