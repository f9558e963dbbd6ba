import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator, inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { recordCustomerChange } from '../src/conversations/message-changes.js';
import { createInbox, type InboundResult } from '../src/inbox.js';
import { countCommands } from './support/command-count.js';
import { closeConversation } from '../src/conversations/operator-actions.js';
import { ConversationModel, CustomerModel, MessageModel, OutboxItemModel } from '../src/db/models/index.js';
import { insertMessage } from '../src/db/batched-writes.js';
import { customerMessageDoc, customerMessageId } from '../src/conversations/customer-message.js';

useTestDatabase();
const HOUR = 3600_000;
const inbox = createInbox({ reopenWindowMs: 24 * HOUR, logger: testLogger });

describe('inbox', () => {
  it('stores a first message in a new conversation numbered #1 and asks the console to show it', async () => {
    const result = await inbox.receive(inbound({ text: 'My order is late', profile: { name: 'Alice', email: 'a@example.com' } }));
    expect(result.status).toBe('stored');
    if (result.status !== 'stored') return;
    expect(result.opened).toBe(true);
    expect(result.conversation).toMatchObject({ number: 1, status: 'new', channel: 'telegram' });
    const customer = await CustomerModel.findOne({ externalChatId: '5001' });
    expect(customer).toMatchObject({ name: 'Alice', email: 'a@example.com' });
    const items = await OutboxItemModel.find().sort({ createdAt: 1 }).lean();
    expect(items.map((i) => i.action).sort()).toEqual(['newConversationAlert', 'relay']);
  });

  it('stores the same inbound message once, however often it is delivered', async () => {
    const message = inbound();
    const results = await Promise.all([inbox.receive(message), inbox.receive(message), inbox.receive(message)]);
    await inbox.receive(message);
    expect(results.filter((r) => r.status === 'stored')).toHaveLength(1);
    expect(await MessageModel.countDocuments({ dedupeKey: `telegram:${message.externalMessageId}` })).toBe(1);
    expect(await OutboxItemModel.countDocuments({ action: 'relay' })).toBe(1);
  });

  it('keeps one open conversation per customer even when messages arrive together', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => inbox.receive(inbound({ text: `burst ${i}` }))));
    expect(await ConversationModel.countDocuments()).toBe(1);
    const conversation = await ConversationModel.findOne();
    expect(conversation?.counts?.in).toBe(10);
  });

  it('stores a burst of one customer\'s messages in order, each once, and queues their relays in that order', async () => {
    const burst = Array.from({ length: 30 }, (_, i) => inbound({ text: `part ${i}`, sentAt: new Date(Date.now() + i) }));
    let results: InboundResult[] = [];
    // Handled as a group: the conversation is updated once for many messages, not once per message.
    const conversationUpdates = await countCommands(ConversationModel.collection.name, ['updateOne', 'bulkWrite'], async () => {
      results = await Promise.all([...burst, burst[3]!].map((m) => inbox.receive(m)));
    });
    expect(conversationUpdates).toBeLessThanOrEqual(3);
    expect(results.filter((r) => r.status === 'stored')).toHaveLength(30);
    expect(results.at(-1)!.status).toBe('duplicate');
    expect(results.filter((r) => r.status === 'stored' && r.opened)).toHaveLength(1);
    const conversation = await ConversationModel.findOne().lean();
    expect(conversation?.counts?.in).toBe(30);
    expect(conversation?.lastCustomerMessageAt?.getTime()).toBe(burst.at(-1)!.sentAt.getTime());
    const relays = await OutboxItemModel.find({ action: 'relay' }).sort({ seq: 1 }).lean();
    const texts = await Promise.all(relays.map(async (r) => (await MessageModel.findById(r.message).lean())?.text));
    expect(texts).toEqual(burst.map((m) => m.text));
  });

  it('asks the intercept hooks only until a message of the burst opens a conversation', async () => {
    const asked: string[] = [];
    // A hook that consumes a message stores it where it belongs: here, a conversation of another customer.
    const elsewhere = await ConversationModel.create({ number: 999, customer: new Types.ObjectId(), channel: 'telegram', openKey: 'elsewhere', lastActivityAt: new Date() });
    const stop = inbox.use({
      intercept: async (message) => {
        asked.push(message.text);
        return message.text === 'consume me' ? elsewhere : undefined;
      },
    });
    try {
      const results = await Promise.all(['consume me', 'consume me', 'hello', 'consume me'].map((text) => inbox.receive(inbound({ text }))));
      expect(results.map((r) => r.status)).toEqual(['intercepted', 'intercepted', 'stored', 'stored']);
      expect(asked).toEqual(['consume me', 'consume me', 'hello']);
    } finally {
      stop();
    }
  });

  it('does not count a message that another process stored while this one was handling it', async () => {
    const raced = inbound({ externalChatId: '7001', text: 'stored elsewhere meanwhile' });
    const fresh = inbound({ externalChatId: '7001', text: 'new' });
    const stop = inbox.use({
      // Runs after the inbox found the message new and before it stores it: the other process's moment.
      intercept: async (message, customer) => {
        if (message === raced) await insertMessage(customerMessageDoc(message, new Types.ObjectId(), customer));
        return undefined;
      },
    });
    try {
      const results = await Promise.all([raced, fresh].map((m) => inbox.receive(m)));
      expect(results.map((r) => r.status)).toEqual(['duplicate', 'stored']);
    } finally {
      stop();
    }
    const conversation = await ConversationModel.findOne({ chatKey: 'telegram:7001' }).lean();
    expect(conversation?.counts?.in).toBe(1);
    // Each message is shown once, whichever process queues its relay.
    const relayed = (await OutboxItemModel.find({ action: 'relay' }).lean()).map((item) => String(item.message));
    expect(relayed.sort()).toEqual([raced, fresh].map((m) => String(customerMessageId(m))).sort());
  });

  it('gives different customers different, increasing conversation numbers', async () => {
    const results = await Promise.all(['1', '2', '3', '4'].map((id) => inbox.receive(inbound({ externalChatId: id }))));
    const numbers = results.map((r) => (r.status === 'stored' ? r.conversation.number : 0)).sort();
    expect(numbers).toEqual([1, 2, 3, 4]);
  });

  it('reopens a chat closed less than the reopen window ago', async () => {
    const operator = await createOperator();
    const first = await inbox.receive(inbound());
    if (first.status !== 'stored') throw new Error();
    await closeConversation(first.conversation, operator, 'solved');
    const again = await inbox.receive(inbound({ sentAt: new Date(Date.now() + 23 * HOUR) }));
    expect(again.status === 'stored' && again.reopened).toBe(true);
    expect(again.status === 'stored' && again.conversation.number).toBe(first.conversation.number);
    expect(await ConversationModel.countDocuments()).toBe(1);
  });

  it('opens a new conversation when the chat was closed longer ago than the window', async () => {
    const operator = await createOperator();
    const first = await inbox.receive(inbound());
    if (first.status !== 'stored') throw new Error();
    await closeConversation(first.conversation, operator, 'solved');
    const later = await inbox.receive(inbound({ sentAt: new Date(Date.now() + 25 * HOUR) }));
    expect(later.status === 'stored' && later.opened).toBe(true);
    expect(later.status === 'stored' && later.conversation.number).toBe(first.conversation.number + 1);
  });

  it("stores a banned customer's messages without showing them to operators", async () => {
    await inbox.receive(inbound());
    await CustomerModel.updateOne({ externalChatId: '5001' }, { $set: { blocked: true } });
    const result = await inbox.receive(inbound({ text: 'spam' }));
    expect(result.status === 'stored' && result.relayed).toBe(false);
    expect(await MessageModel.countDocuments({ text: 'spam' })).toBe(1);
    expect(await OutboxItemModel.countDocuments({ action: 'relay' })).toBe(1);
    const spam = inbound({ text: 'spam again' });
    await inbox.receive(spam);
    expect((await inbox.receive(spam)).status).toBe('duplicate');
    expect(await OutboxItemModel.countDocuments({ action: 'relay' })).toBe(1);
  });

  it('shows a message stored just before a crash when its channel delivers it again, and only once', async () => {
    const first = await inbox.receive(inbound());
    if (first.status !== 'stored') throw new Error('first message not stored');
    // The gateway stopped after storing this message and before queueing its relay.
    const lost = inbound({ text: 'are you there?' });
    const customer = (await CustomerModel.findOne({ externalChatId: '5001' }))!;
    const stored = await insertMessage(customerMessageDoc(lost, first.conversation._id, customer));

    expect((await inbox.receive(lost)).status).toBe('duplicate');
    expect((await inbox.receive(lost)).status).toBe('duplicate');
    const relays = await OutboxItemModel.find({ action: 'relay', message: stored._id }).lean();
    expect(relays).toHaveLength(1);
    expect(await MessageModel.countDocuments({ text: 'are you there?' })).toBe(1);

    // Once shown (the console recorded its message ids and dropped the item), a further copy changes nothing.
    await MessageModel.updateOne({ _id: stored._id }, { $set: { consoleMessageIds: [77] } });
    await OutboxItemModel.deleteMany({ message: stored._id });
    await inbox.receive(lost);
    expect(await OutboxItemModel.countDocuments({ message: stored._id })).toBe(0);
  });

  it('an edit keeps the old text as a version and is shown to operators once, however often it is reported', async () => {
    const message = inbound({ text: 'teh typo' });
    await inbox.receive(message);
    const edit = { channel: 'telegram' as const, externalMessageId: message.externalMessageId, kind: 'edited' as const, text: 'the typo', at: new Date() };
    expect(await recordCustomerChange(edit)).toBe(true);
    expect(await recordCustomerChange(edit)).toBe(true);
    const stored = await MessageModel.findOne({ externalId: message.externalMessageId });
    expect(stored?.text).toBe('the typo');
    expect(stored?.versions.map((v) => ({ text: v.text, by: v.by.kind }))).toEqual([{ text: 'teh typo', by: 'customer' }]);
    expect(await OutboxItemModel.countDocuments({ action: 'messageChanged' })).toBe(1);
    expect(await recordCustomerChange({ ...edit, externalMessageId: 'unknown' })).toBe(false);
  });

  it('a deletion marks the message deleted and keeps its text for the history', async () => {
    const message = inbound({ text: 'my card number is 1234' });
    await inbox.receive(message);
    expect(await recordCustomerChange({ channel: 'telegram', externalMessageId: message.externalMessageId, kind: 'deleted', at: new Date() })).toBe(true);
    const stored = await MessageModel.findOne({ externalId: message.externalMessageId });
    expect(stored?.deletedAt).toBeInstanceOf(Date);
    expect(stored?.deletedBy?.kind).toBe('customer');
    expect(stored?.text).toBe('my card number is 1234');
  });
});
