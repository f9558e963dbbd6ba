import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { ConversationModel, MessageModel, OperatorModel } from '../src/db/models/index.js';

/** A plain group without Topics: operators answer by replying to the relayed message. */
let h: TelegramHarness;
const bob = { id: 2, first_name: 'Bob', username: 'bob_op' };
const alice = { id: 5101, first_name: 'Alice' };
const dan = { id: 5102, first_name: 'Dan' };

beforeAll(async () => {
  h = await startTelegramHarness({ forum: false });
});
afterAll(() => h.stop());
beforeEach(async () => {
  await h.reset();
  await OperatorModel.create({ telegramUserId: bob.id, name: 'Bob', username: 'bob_op', role: 'operator' });
});

/** The relayed message, once the gateway has recorded which chat it shows (what an operator's reply is matched by). */
async function relayedMessage(text: string) {
  return eventually(async () => {
    const shown = h.telegram.groupMessages().find((m) => m.text?.includes(text) && !m.text.includes('New chat'));
    return shown && (await MessageModel.exists({ consoleMessageIds: shown.message_id })) ? shown : undefined;
  });
}

describe('Telegram console in reply mode', () => {
  it('creates no topics; the first relay starts with the customer card, later ones with "#N · Name (Channel)"', async () => {
    h.telegram.customerWrites(alice, { text: 'first words' });
    const first = await relayedMessage('first words');
    expect(first.message_thread_id).toBeUndefined();
    expect(first.text).toMatch(/^👤 <b>Alice<\/b>\nTelegram · chat #1\n/);
    h.telegram.customerWrites(alice, { text: 'second words' });
    const second = await relayedMessage('second words');
    expect(second.text).toMatch(/^<b>#1<\/b> · Alice \(Telegram\)/);
    expect(h.telegram.state.topics.size).toBe(0);
  });

  it("sends an operator's reply to a relayed message to that message's customer", async () => {
    h.telegram.customerWrites(alice, { text: 'question from alice' });
    h.telegram.customerWrites(dan, { text: 'question from dan' });
    const fromDan = await relayedMessage('question from dan');
    h.telegram.operatorWrites(bob, { text: 'Hello Dan!' }, { replyTo: fromDan.message_id });
    await eventually(() => h.telegram.privateMessages(dan.id).some((m) => m.text === 'Hello Dan!'));
    expect(h.telegram.privateMessages(alice.id)).toHaveLength(0);
  });

  it('ignores group chatter that replies to nothing, and acts on the replied chat for commands', async () => {
    h.telegram.customerWrites(alice, { text: 'please close me' });
    const relayed = await relayedMessage('please close me');
    h.telegram.operatorWrites(bob, { text: 'coffee anyone?' });
    h.telegram.operatorWrites(bob, { text: '/close solved' }, { replyTo: relayed.message_id });
    await eventually(async () => (await ConversationModel.findOne())?.status === 'closed');
    expect(h.telegram.privateMessages(alice.id).some((m) => m.text?.includes('coffee'))).toBe(false);
  });

  it('explains how to pick a chat when a command needs one', async () => {
    h.telegram.operatorWrites(bob, { text: '/take' });
    await eventually(() => h.telegram.groupMessages().some((m) => m.text?.includes("Use /take inside a chat's topic (reply to one of its messages).")));
  });

  it("keeps the chat's header when a customer's edit changes the relayed message, and /delete works as a reply there too", async () => {
    h.telegram.customerWrites(alice, { text: 'first words' });
    await relayedMessage('first words');
    const sent = h.telegram.customerWrites(alice, { text: 'size M' });
    const relayed = await relayedMessage('size M');
    h.telegram.editsMessage(sent, { text: 'size L' });
    const edit = await eventually(() => h.telegram.state.edits.find((e) => e.message_id === relayed.message_id));
    expect(edit.text).toBe('<b>#1</b> · Alice (Telegram)\nsize L <i>✏️ edited</i>');

    const answer = h.telegram.operatorWrites(bob, { text: 'M is sold out' }, { replyTo: relayed.message_id });
    await eventually(() => h.telegram.privateMessages(alice.id).some((m) => m.text === 'M is sold out'));
    await eventually(async () => (await MessageModel.findOne({ direction: 'out' }))?.externalId);
    h.telegram.operatorWrites(bob, { text: '/delete' }, { replyTo: answer.message_id });
    await eventually(() => h.telegram.state.deleted.some((d) => d.chat_id === alice.id));
    expect(h.telegram.privateMessages(alice.id).some((m) => m.text === 'M is sold out')).toBe(false);
  });
});
