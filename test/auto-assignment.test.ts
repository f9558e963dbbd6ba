import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { ConversationModel, OperatorModel } from '../src/db/models/index.js';

const MAX_OPEN = 3;
let h: TelegramHarness;
const bob = { id: 2, first_name: 'Bob', username: 'bob_op' };
const carol = { id: 3, first_name: 'Carol', username: 'carol_op' };
const dave = { id: 4, first_name: 'Dave', username: 'dave_op' };
const erin = { id: 5, first_name: 'Erin', username: 'erin_op' };
let customerSeq = 0;

beforeAll(async () => {
  h = await startTelegramHarness({ forum: true, env: { AUTO_ASSIGN: 'round_robin', MAX_OPEN_PER_OPERATOR: String(MAX_OPEN) } });
});
afterAll(() => h.stop());
beforeEach(async () => {
  await h.reset();
  await OperatorModel.updateMany({}, { $set: { onDuty: false } });
});

async function operators(onDuty: Array<{ id: number; first_name: string; username: string }>, offDuty: Array<{ id: number; first_name: string; username: string }> = []) {
  await OperatorModel.create([...onDuty.map((u) => ({ telegramUserId: u.id, name: u.first_name, username: u.username, onDuty: true })), ...offDuty.map((u) => ({ telegramUserId: u.id, name: u.first_name, username: u.username, onDuty: false }))]);
}

/** Customers write at once; resolves with their conversations once each is in the database. */
async function burst(count: number) {
  const customers = Array.from({ length: count }, () => ({ id: 7000 + ++customerSeq, first_name: `Customer${customerSeq}`, language_code: 'en' }));
  for (const customer of customers) h.telegram.customerWrites(customer, { text: 'Hello, anyone?' });
  await eventually(async () => (await ConversationModel.countDocuments({ chatKey: { $in: customers.map((c) => `telegram:${c.id}`) } })) === count);
  return customers;
}

/** Open chats per operator name, once assignment has settled. */
async function loads(): Promise<Record<string, number>> {
  await h.gateway.assigner!.settled();
  const owned = await ConversationModel.find({ status: { $in: ['new', 'active', 'awaiting', 'transferred'] }, owner: { $exists: true } }).lean();
  const names = new Map((await OperatorModel.find().lean()).map((o) => [String(o._id), o.name]));
  const result: Record<string, number> = {};
  for (const c of owned) result[names.get(String(c.owner))!] = (result[names.get(String(c.owner))!] ?? 0) + 1;
  return result;
}

async function command(user: { id: number; first_name: string }, text: string, expected: string, threadId?: number) {
  const before = h.telegram.state.sent.length;
  h.telegram.operatorWrites(user, { text }, { threadId });
  return eventually(() => h.telegram.state.sent.slice(before).find((m) => m.chat_id === h.telegram.groupId && m.message_thread_id === threadId && m.text?.includes(expected)));
}

const unowned = () => ConversationModel.find({ status: 'new', owner: { $exists: false } });

describe('auto-assignment (AUTO_ASSIGN=round_robin)', () => {
  it('gives a new chat to the operator on duty at once: owner set, mentioned in the topic, no Take button left', async () => {
    await operators([bob]);
    const [customer] = await burst(1);
    const conversation = await eventually(() => ConversationModel.findOne({ chatKey: `telegram:${customer!.id}`, status: 'active', 'console.topicId': { $exists: true } }));
    expect((await OperatorModel.findById(conversation.owner))?.name).toBe('Bob');
    const notice = await eventually(() => h.telegram.groupMessages(conversation.console!.topicId!).find((m) => m.text?.includes('is assigned to Bob')));
    expect(notice.text).toContain('tg://user?id=2');
    await h.gateway.worker.settled();
    const takeButtons = h.telegram.groupMessages().filter((m) => m.reply_markup?.inline_keyboard?.some((row) => row.some((b) => b.callback_data?.startsWith('c:take:'))));
    expect(takeButtons).toEqual([]);
  });

  it('shares a burst fairly among three operators on duty, none above MAX_OPEN_PER_OPERATOR, none to the one off duty', async () => {
    await operators([bob, carol, dave], [erin]);
    await burst(11);
    await eventually(async () => (await ConversationModel.countDocuments({ status: 'active' })) === 9);
    expect(await loads()).toEqual({ Bob: 3, Carol: 3, Dave: 3 });
    const waiting = await unowned();
    expect(waiting).toHaveLength(2);
    // The refusal: the chats over the cap say why they wait, in their topics.
    for (const chat of waiting) {
      const topicId = (await eventually(() => ConversationModel.findOne({ _id: chat._id, 'console.topicId': { $exists: true } }))).console!.topicId!;
      await eventually(() => h.telegram.groupMessages(topicId).some((m) => m.text?.includes('every operator on duty already has 3 open chats')));
    }
  });

  it('assigns a waiting chat as soon as someone can take it: a chat closed, an operator coming on duty', async () => {
    await operators([bob, carol, dave], [erin]);
    await burst(11);
    await eventually(async () => (await unowned()).length === 2 && (await ConversationModel.countDocuments({ status: 'active' })) === 9);
    const waiting = await unowned();
    // Their new-chat alerts offer Take while they wait.
    for (const chat of waiting) await eventually(() => h.telegram.groupMessages().some((m) => m.text?.includes(`New chat #${chat.number}</b>`) && m.reply_markup?.inline_keyboard?.length));
    const bobsChat = await eventually(async () => ConversationModel.findOne({ owner: (await OperatorModel.findOne({ telegramUserId: bob.id }))!._id, 'console.topicId': { $exists: true } }));
    await command(bob, '/close solved', 'closed by Bob', bobsChat.console!.topicId!);
    await eventually(async () => (await unowned()).length === 1);
    expect(await loads()).toEqual({ Bob: 3, Carol: 3, Dave: 3 });
    await command(erin, '/duty on', 'Erin is now on duty.');
    await eventually(async () => (await unowned()).length === 0);
    expect(await loads()).toEqual({ Bob: 3, Carol: 3, Dave: 3, Erin: 1 });
    // The alerts of the two that waited lost their Take buttons once assigned.
    for (const chat of waiting) await eventually(() => h.telegram.state.edits.some((e) => e.text.includes(`Chat #${chat.number} `) && e.text.includes('is assigned to')));
    await h.gateway.worker.settled();
    expect(h.telegram.groupMessages().filter((m) => m.reply_markup?.inline_keyboard?.some((row) => row.some((b) => b.callback_data?.startsWith('c:take:'))))).toEqual([]);
  });

  it('assigns nothing while everyone is off duty, and the waiting chats once someone comes on', async () => {
    await operators([], [bob]);
    await burst(2);
    await h.gateway.assigner!.settled();
    expect(await unowned()).toHaveLength(2);
    await command(bob, '/duty on', 'Bob is now on duty.');
    await eventually(async () => (await unowned()).length === 0);
    expect(await loads()).toEqual({ Bob: 2 });
  });

  it('/duty off handback hands the unanswered chats back to the others; answered ones stay', async () => {
    await operators([bob, carol]);
    await burst(4);
    await eventually(async () => (await loads()).Bob === 2 && (await loads()).Carol === 2);
    const bobId = (await OperatorModel.findOne({ telegramUserId: bob.id }))!._id;
    const [answered, unanswered] = await eventually(async () => {
      const chats = await ConversationModel.find({ owner: bobId, 'console.topicId': { $exists: true } }).sort({ number: 1 });
      return chats.length === 2 ? chats : undefined;
    });
    h.telegram.operatorWrites(bob, { text: 'Looking into it' }, { threadId: answered!.console!.topicId! });
    await eventually(async () => (await ConversationModel.findById(answered!._id))?.status === 'awaiting');
    const done = await command(bob, '/duty off handback', 'Bob is now off duty.');
    expect(done.text).toContain(`Handed back: #${unanswered!.number}.`);
    await eventually(async () => (await ConversationModel.findById(unanswered!._id))?.owner?.equals((await OperatorModel.findOne({ telegramUserId: carol.id }))!._id));
    expect((await ConversationModel.findById(answered!._id))?.owner?.equals(bobId)).toBe(true);
    expect(await loads()).toEqual({ Bob: 1, Carol: 3 });
    await command(carol, '/duty off now', 'only "/duty off handback" takes a second word');
  });
});
