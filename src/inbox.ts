import type { InboundMessage } from './domain.js';
import { ChatKeyModel, CustomerModel, ConversationModel, type ConversationDoc, type CustomerDoc, type MessageDoc } from './db/models/index.js';
import { OPEN_STATUSES } from './db/models/conversation.js';
import { isDuplicateKeyError } from './db/errors.js';
import { chatKeyOf, openConversation } from './conversations/open.js';
import { statusOnCustomerMessage, transition } from './conversations/lifecycle.js';
import { queueRelays, requestConsole } from './console/actions.js';
import { createKeyedGroupCommit } from './util/group-commit.js';
import { conversationLogger, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { updateConversation } from './db/serialized-writes.js';
import { insertMessage } from './db/batched-writes.js';
import { customerMessageDoc, customerMessageId } from './conversations/customer-message.js';
import { languageOfMessages, replaceableSources, type LanguageSource } from './language/customer-language.js';
import { loadChatKey, loadConversation, loadCustomer, loadStoredMessage, type StoredMessage } from './db/loaders.js';

export type InboundResult =
  | { status: 'duplicate' }
  | { status: 'stored'; conversation: ConversationDoc; messageId: string; opened: boolean; reopened: boolean; relayed: boolean }
  | { status: 'intercepted'; conversation: ConversationDoc };

export interface Inbox {
  receive(message: InboundMessage): Promise<InboundResult>;
}

/** Work other parts plug in around every customer message (src/jobs: survey replies, job planning). */
export interface InboxHooks {
  /**
   * Asked, in order, for the messages that arrive while the customer has no open conversation, up to the first
   * one not consumed (that one opens or reopens a conversation, and the messages after it belong there).
   * Returning a conversation means the hook consumed the message (and stored it there itself, e.g. a survey
   * rating on a closed chat): no reopen, no relay.
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

type Settled = PromiseSettledResult<InboundResult>;
const answered = (value: InboundResult): Settled => ({ status: 'fulfilled', value });

/**
 * The one entry point for customer messages from every channel: dedupe, customer, conversation,
 * message, status, and the console request to show it. Messages of one customer are handled in order; those
 * that arrive while the customer's previous ones are being handled (a burst, a backlog) are handled together,
 * with one read of the customer and the conversation and one conversation update for all of them.
 */
export function createInbox(options: InboxOptions): Inbox & { use(hooks: InboxHooks): () => void } {
  const { logger, metrics } = options;
  const hooks: InboxHooks[] = [options];
  // A customer's messages that arrive while earlier ones are being handled wait, and then go together.
  const perCustomer = createKeyedGroupCommit<InboundMessage, InboundResult>(async (batch) => {
    const results = await receiveInOrder(batch.map((w) => w.item));
    batch.forEach((w, i) => {
      const result = results[i]!;
      if (result.status === 'fulfilled') w.resolve(result.value);
      else w.reject(result.reason);
    });
  }, 100);

  /**
   * A message stored before. One stored just before the gateway stopped or the database failed, whose relay
   * was never queued, is queued now (a webhook retry, a replay after restart): its relay item's _id comes from
   * the message's, so one that is queued or failed is left alone; a shown message has its console ids.
   */
  async function duplicate(message: InboundMessage, seen: StoredMessage | null): Promise<InboundResult> {
    metrics?.duplicates.inc({ channel: message.channel });
    if (seen && !seen.consoleSkipped && !seen.consoleMessageIds?.length) await queueRelays(seen.conversation, [seen._id]);
    return { status: 'duplicate' };
  }

  function receive(message: InboundMessage): Promise<InboundResult> {
    return perCustomer(chatKeyOf(message.channel, message.externalChatId), message);
  }

  /** Messages of one customer, oldest first: each gets its own answer, as if they had come one by one. */
  async function receiveInOrder(messages: InboundMessage[]): Promise<Settled[]> {
    const first = messages[0]!;
    const chatKey = chatKeyOf(first.channel, first.externalChatId);
    // Independent reads go out together, batched with those of the other messages in flight (db/loaders.ts).
    const ids = messages.map((m) => String(customerMessageId(m)));
    const [seen, chat] = await Promise.all([Promise.all(ids.map((id) => loadStoredMessage(id))), loadChatKey(chatKey)]);
    const results: Settled[] = new Array(messages.length);
    const fresh: number[] = [];
    for (const [i, message] of messages.entries()) {
      // A message seen before, or twice in this burst.
      if (seen[i] || ids.indexOf(ids[i]!) < i) results[i] = answered(await duplicate(message, seen[i] ?? null));
      else fresh.push(i);
    }
    if (fresh.length === 0) return results;

    const [customer, open] = await Promise.all([
      findOrCreateCustomer(first, mergedProfile(fresh.map((i) => messages[i]!)), chat?.customer),
      chat?.openConversation ? loadConversation(chat.openConversation) : null,
    ]);
    let next = 0;
    if (!(open && isOpen(open))) {
      for (; next < fresh.length; next++) {
        const consumed = await intercepted(messages[fresh[next]!]!, customer);
        if (!consumed) break;
        results[fresh[next]!] = answered({ status: 'intercepted', conversation: consumed });
      }
    }
    const rest = fresh.slice(next);
    if (rest.length === 0) return results;
    const stored = await storeInConversation(rest.map((i) => messages[i]!), customer, open, chat ?? undefined);
    rest.forEach((index, j) => (results[index] = stored[j]!));
    return results;
  }

  async function intercepted(message: InboundMessage, customer: CustomerDoc): Promise<ConversationDoc | undefined> {
    for (const hook of hooks) {
      const consumed = await hook.intercept?.(message, customer);
      if (consumed) return consumed;
    }
    return undefined;
  }

  /** Stores new messages of one customer in their conversation (found, reopened or opened for the first). */
  async function storeInConversation(messages: InboundMessage[], customer: CustomerDoc, open: ConversationDoc | null, chat?: { lastConversation?: unknown }): Promise<Settled[]> {
    const found = await findOrOpenConversation(messages[0]!, customer, open, chat);
    let conversation = found.conversation;
    const log = conversationLogger(logger, conversation);

    const docs = messages.map((message) => customerMessageDoc(message, conversation._id, customer, customer.blocked ? 'blocked customer' : undefined));

    // The message inserts, their relays and the conversation's update go out together; the update counts every
    // message and is corrected for one that turns out to be stored already (another process) or cannot be stored.
    // A relay queued with its message shows it whatever happens to this process next.
    const [inserts] = await Promise.all([
      Promise.allSettled(docs.map((doc) => insertMessage(doc))),
      queueRelays(conversation._id, docs.filter((doc) => !doc.consoleSkipped).map((doc) => doc._id)),
      (async () => {
        await updateConversation(conversation._id, { $set: { lastCustomerMessageAt: messages.at(-1)!.sentAt, lastActivityAt: new Date() }, $inc: { 'counts.in': messages.length } });
        const status = statusOnCustomerMessage(conversation);
        if (status) conversation = await transition(conversation, status, { actor: { kind: 'customer' }, reason: 'customer wrote' });
      })(),
    ]);
    const results: Settled[] = new Array(messages.length);
    const stored: { message: InboundMessage; doc: MessageDoc; index: number }[] = [];
    for (const [index, insert] of inserts.entries()) {
      const message = messages[index]!;
      if (insert.status === 'fulfilled') stored.push({ message, doc: insert.value, index });
      // Stored meanwhile by another process, or by a batch that failed as a whole after storing it.
      else if (isDuplicateKeyError(insert.reason)) results[index] = answered(await duplicate(message, await loadStoredMessage(customerMessageId(message))));
      else results[index] = { status: 'rejected', reason: insert.reason };
    }
    if (stored.length < messages.length) await updateConversation(conversation._id, { $inc: { 'counts.in': stored.length - messages.length } });
    if (stored.length === 0) return results;
    metrics?.inbound.inc({ channel: messages[0]!.channel }, stored.length);

    if (found.opened) await requestConsole({ action: 'newConversationAlert', conversation: conversation._id });

    for (const [j, { message, doc, index }] of stored.entries()) {
      const firstStored = j === 0;
      const result = { status: 'stored', conversation, messageId: String(doc._id), opened: found.opened && firstStored, reopened: found.reopened && firstStored, relayed: !doc.consoleSkipped } as const;
      results[index] = answered(result);
      log.info({ messageId: result.messageId, channel: message.channel, opened: result.opened, reopened: result.reopened, relayed: result.relayed }, 'customer message stored');
      log.debug({ body: message.text }, 'customer message body');
      for (const hook of hooks) await hook.afterStored?.(result, message);
    }
    return results;
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

  function use(extra: InboxHooks): () => void {
    hooks.push(extra);
    return () => {
      const index = hooks.indexOf(extra);
      if (index >= 0) hooks.splice(index, 1);
    };
  }

  return { receive, use };
}

const isOpen = (conversation: ConversationDoc): boolean => (OPEN_STATUSES as readonly string[]).includes(conversation.status);

/** The profile fields the messages bring, later messages' values over earlier ones', and the language they tell. */
function mergedProfile(messages: InboundMessage[]): Record<string, string> {
  const fields = messages.map(({ profile: { language: _, ...profile } }) => Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined && v !== '')));
  return Object.assign({}, ...fields, languageOfMessages(messages));
}

/** The chat's customer, with the profile fields the messages bring kept current (a language from a better source stays). */
async function findOrCreateCustomer(message: InboundMessage, profile: Record<string, string>, knownId: unknown): Promise<CustomerDoc> {
  const known = knownId ? await loadCustomer(knownId) : null;
  if (known) {
    const keepsLanguage = profile.languageFrom && !replaceableSources(profile.languageFrom as LanguageSource).includes(known.languageFrom ?? 'text');
    const changed = Object.entries(profile).filter(([field, value]) => known.get(field) !== value && !(keepsLanguage && (field === 'language' || field === 'languageFrom')));
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
    const { language, languageFrom, ...rest } = profile;
    await CustomerModel.updateOne(key, { $set: rest });
    if (language) {
      const replaceable = [...replaceableSources(languageFrom as LanguageSource), null];
      await CustomerModel.updateOne({ ...key, languageFrom: { $in: replaceable } }, { $set: { language, languageFrom } });
    }
    return (await CustomerModel.findOne(key))!;
  }
}
