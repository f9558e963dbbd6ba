import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { bob, registerTeam, sue } from './support/team.js';
import { ChatKeyModel, ConversationModel, CustomerModel, ErasureAuditModel, MessageModel, OutboxItemModel } from '../src/db/models/index.js';
import { updateConversation } from '../src/db/serialized-writes.js';
import { rebuildFacts, recordFacts } from '../src/stats/facts-store.js';

const zelda = { id: 9901, first_name: 'Zelda', last_name: 'Quux', language_code: 'en' };
const SECRET = 'my parcel 4242 never came';

type Button = { text: string; callback_data: string };
const buttonsOf = (message: { reply_markup?: unknown }) => (message.reply_markup as { inline_keyboard: Button[][] }).inline_keyboard.flat();

async function withOperators(h: TelegramHarness) {
  await h.reset();
  await registerTeam('bob', 'sue');
}

/** Runs a command and waits for the bot's answer in the same place that contains `expected`. */
async function command(h: TelegramHarness, user: { id: number; first_name: string }, text: string, expected: string, where: { threadId?: number; replyTo?: number } = {}) {
  const before = h.telegram.state.sent.length;
  h.telegram.operatorWrites(user, { text }, where);
  return eventually(() => h.telegram.state.sent.slice(before).find((m) => m.chat_id === h.telegram.groupId && m.text?.includes(expected)));
}

/** Zelda writes; an operator answers and closes with a rating given: a chat with every statistic. */
async function zeldasChat(h: TelegramHarness, answer: (relayedId: number, topicId?: number) => void) {
  h.telegram.customerWrites(zelda, { text: SECRET });
  const opened = await eventually(() => ConversationModel.findOne({ chatKey: `telegram:${zelda.id}`, 'console.alertMessageId': { $exists: true } }));
  const relayed = await eventually(() => MessageModel.findOne({ conversation: opened._id, direction: 'in', consoleMessageId: { $exists: true } }));
  answer(relayed.consoleMessageId!, opened.console?.topicId ?? undefined);
  await eventually(() => MessageModel.findOne({ conversation: opened._id, direction: 'out', 'delivery.status': 'sent' }));
  await eventually(() => h.telegram.privateMessages(zelda.id).some((m) => m.text === 'We will find it, Zelda.'));
  await updateConversation(opened._id, { $set: { rating: { score: 4, at: new Date() } } });
  await recordFacts(opened._id);
  return (await ConversationModel.findById(opened._id))!;
}

const statsText = async (h: TelegramHarness) => (await command(h, sue, '/stats', 'Support statistics')).text;

/** Every document of every collection, as text: what a look for the customer would search. */
async function everythingStored(h: TelegramHarness): Promise<string> {
  const db = h.gateway.db.connection.db!;
  const texts: string[] = [];
  for (const { name } of await db.listCollections().toArray()) texts.push(JSON.stringify(await db.collection(name).find({}).toArray()));
  return texts.join('\n');
}

async function pressErase(h: TelegramHarness, question: Parameters<TelegramHarness['telegram']['operatorPresses']>[1]) {
  h.telegram.operatorPresses(sue, question, buttonsOf(question).find((b) => b.text.includes('Erase'))!.callback_data);
  await eventually(() => h.telegram.groupMessages().some((m) => m.text?.includes('was erased by Sue')));
}

async function expectNoTrace(h: TelegramHarness, customerId: unknown) {
  expect(await CustomerModel.countDocuments({})).toBe(0);
  expect(await ConversationModel.countDocuments({})).toBe(0);
  expect(await MessageModel.countDocuments({})).toBe(0);
  expect(await ChatKeyModel.countDocuments({})).toBe(0);
  await eventually(async () => (await OutboxItemModel.countDocuments({ route: 'console', action: 'eraseCopies' })) === 0);
  const stored = await everythingStored(h);
  for (const trace of ['Zelda', 'Quux', SECRET, `telegram:${zelda.id}`]) expect(stored).not.toContain(trace);
  const audit = await ErasureAuditModel.findOne({}).lean();
  expect(audit).toMatchObject({ by: 'operator', operatorTelegramId: sue.id, customerErased: true, counts: { conversations: 1 } });
  expect(String(audit!.customer)).toBe(String(customerId));
}

describe('/forget in a forum group', () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: true });
  });
  afterAll(() => h.stop());
  beforeEach(() => withOperators(h));

  const chat = () => zeldasChat(h, (_relayed, topicId) => h.telegram.operatorWrites(bob, { text: 'We will find it, Zelda.' }, { threadId: topicId }));

  it('asks first, then erases the customer, their chat, messages, chat key, topic and planned jobs; /stats keeps its totals, also after a rebuild', async () => {
    const conversation = await chat();
    const topicId = conversation.console!.topicId!;
    await command(h, bob, '/close solved', 'closed by Bob', { threadId: topicId });
    const before = await statsText(h);
    expect(before).toContain('1 opened, 1 closed');
    // Closed as solved: the satisfaction survey is planned for the customer.
    const plannedJobs = () => mongoose.connection.db!.collection('agendaJobs').countDocuments({ 'data.conversationId': String(conversation._id) });
    await eventually(async () => (await plannedJobs()) > 0);

    const question = await command(h, sue, '/forget', `Erase the customer of chat #${conversation.number}?`, { threadId: topicId });
    expect(await CustomerModel.countDocuments({})).toBe(1);
    await pressErase(h, question);

    await eventually(() => h.telegram.state.deletedTopics.includes(topicId));
    await eventually(() => h.telegram.state.deleted.some((d) => d.message_id === conversation.console!.alertMessageId));
    await expectNoTrace(h, conversation.customer);
    expect(await plannedJobs()).toBe(0);
    expect(await statsText(h)).toBe(before);
    await rebuildFacts();
    expect(await statsText(h)).toBe(before);
  });

  it('leaves no message behind that the customer sent while their chat was being erased: each is erased or in a new chat', async () => {
    const conversation = await chat();
    const question = await command(h, sue, '/forget', 'Erase the customer', { threadId: conversation.console!.topicId! });
    h.telegram.operatorPresses(sue, question, buttonsOf(question).find((b) => b.text.includes('Erase'))!.callback_data);
    for (let i = 0; i < 40; i++) {
      h.telegram.customerWrites(zelda, { text: `still there? ${i}` });
      await new Promise((r) => setTimeout(r, 5));
    }
    await eventually(() => h.telegram.groupMessages().some((m) => m.text?.includes('was erased by Sue')));
    // A customer's messages are handled in order: once this one is stored, all before it are.
    h.telegram.customerWrites(zelda, { text: 'written after the erasure' });
    await eventually(() => MessageModel.findOne({ text: 'written after the erasure' }));

    expect(await MessageModel.countDocuments({ conversation: conversation._id })).toBe(0);
    for (const message of await MessageModel.find({}).lean()) expect(await ConversationModel.exists({ _id: message.conversation }), message.text ?? '').not.toBeNull();
  });

  it('refuses an operator who is not a supervisor, and changes nothing', async () => {
    const conversation = await chat();
    await command(h, bob, '/forget', 'Only supervisors may use /forget.', { threadId: conversation.console!.topicId! });
    expect(await CustomerModel.countDocuments({})).toBe(1);
    expect(await MessageModel.countDocuments({ conversation: conversation._id })).toBeGreaterThan(0);
    expect(await ErasureAuditModel.countDocuments({})).toBe(0);
  });

  it('erases nothing when the supervisor cancels', async () => {
    const conversation = await chat();
    const question = await command(h, sue, '/forget', 'Erase the customer', { threadId: conversation.console!.topicId! });
    h.telegram.operatorPresses(sue, question, buttonsOf(question).find((b) => b.text === 'Cancel')!.callback_data);
    await eventually(() => h.telegram.state.edits.some((e) => e.text === 'Nothing was erased.'));
    expect(await ConversationModel.countDocuments({})).toBe(1);
    expect(h.telegram.state.deletedTopics).toEqual([]);
  });
});

describe('a customer asking to be forgotten (FORGET_KEYWORD)', () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: true, env: { FORGET_KEYWORD: '/forget_me' } });
  });
  afterAll(() => h.stop());
  beforeEach(() => withOperators(h));

  const told = (text: string) => eventually(() => h.telegram.privateMessages(zelda.id).find((m) => m.text?.includes(text)));

  it('is asked to confirm in their language; once confirmed, the supervisors get the request with the erase button', async () => {
    h.telegram.customerWrites({ ...zelda, language_code: 'ru' }, { text: SECRET });
    await eventually(() => ConversationModel.findOne({ chatKey: `telegram:${zelda.id}`, 'console.topicId': { $exists: true } }));
    h.telegram.customerWrites({ ...zelda, language_code: 'ru' }, { text: '/forget_me' });
    await told('Вы просите стереть ваши данные');
    expect(h.telegram.groupMessages().some((m) => m.text?.includes('asks to erase their data'))).toBe(false);
    h.telegram.customerWrites({ ...zelda, language_code: 'ru' }, { text: 'Да' });
    await told('Запрос передан нашей команде');

    const request = await eventually(() => h.telegram.groupMessages().find((m) => !m.message_thread_id && m.text?.includes('asks to erase their data')));
    expect(request.text).toContain('@sue_sup');
    const ask = buttonsOf(request).find((b) => b.text.includes('Erase'))!.callback_data;
    h.telegram.operatorPresses(bob, request, ask);
    await eventually(() => h.telegram.state.callbackAnswers.some((a) => String(a.text).includes('Only supervisors')));
    h.telegram.operatorPresses(sue, request, ask);
    const question = await eventually(() => h.telegram.state.edits.find((e) => e.text.includes('Erase the customer of chat')));
    await pressErase(h, { ...request, text: question.text, reply_markup: question.reply_markup as typeof request.reply_markup });
    await expectNoTrace(h, (await ErasureAuditModel.findOne({}))!.customer);
  });

  it('any other answer than yes cancels the request', async () => {
    h.telegram.customerWrites(zelda, { text: '/forget_me' });
    await told('Reply YES to confirm');
    h.telegram.customerWrites(zelda, { text: 'hmm, no' });
    h.telegram.customerWrites(zelda, { text: 'yes' });
    await eventually(async () => (await MessageModel.countDocuments({ direction: 'in' })) === 3);
    await h.gateway.worker.settled();
    expect(h.telegram.groupMessages().some((m) => m.text?.includes('asks to erase their data'))).toBe(false);
    expect(h.telegram.privateMessages(zelda.id).some((m) => m.text?.includes('Your request has been passed'))).toBe(false);
  });
});

describe('/forget in a group without topics (reply mode)', () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: false });
  });
  afterAll(() => h.stop());
  beforeEach(() => withOperators(h));

  it("deletes the relayed messages, the operators' answers and the commands' answers about the chat from the group", async () => {
    const conversation = await zeldasChat(h, (relayed) => h.telegram.operatorWrites(bob, { text: 'We will find it, Zelda.' }, { replyTo: relayed }));
    const relayed = (await MessageModel.findOne({ conversation: conversation._id, direction: 'in' }))!.consoleMessageId!;
    // /info answers with the customer's card: their name, in the group.
    const card = await command(h, bob, '/info', 'Zelda Quux', { replyTo: relayed });
    const shown = [...(await MessageModel.find({ conversation: conversation._id }).lean()).flatMap((m) => m.consoleMessageIds), card.message_id];
    expect(shown.length).toBeGreaterThanOrEqual(3);
    const question = await command(h, sue, '/forget', 'Erase the customer', { replyTo: relayed });
    await pressErase(h, question);

    await eventually(() => shown.every((id) => h.telegram.state.deleted.some((d) => d.message_id === id)));
    expect(h.telegram.groupMessages().some((m) => m.text?.includes(SECRET))).toBe(false);
    expect(h.telegram.groupMessages().some((m) => m.text?.includes('Zelda'))).toBe(false);
    await expectNoTrace(h, conversation.customer);
  });
});
