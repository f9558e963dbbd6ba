import { describe, expect, it } from 'vitest';
import { eventually, useTelegramHarness } from './support/gateway.js';
import { bob, carol, sue } from './support/team.js';
import { ConversationModel, CustomerModel, MessageModel, OperatorModel } from '../src/db/models/index.js';

const h = useTelegramHarness({ forum: true }, ['bob', 'carol', 'sue']);
const admin = { id: 1, first_name: 'Ada', username: 'ada' };
const stranger = { id: 66, first_name: 'Mallory' };
let customerSeq = 0;


/** A customer opens a chat; resolves with its topic once the first message is shown there. */
async function openChat(text = 'My parcel is lost', user?: { id: number; first_name: string; language_code?: string }) {
  customerSeq += 1;
  const customer = user ?? { id: 7000 + customerSeq, first_name: `Customer${customerSeq}`, language_code: 'en' };
  h.telegram.customerWrites(customer, { text });
  const conversation = await eventually(() => ConversationModel.findOne({ chatKey: `telegram:${customer.id}`, 'console.topicId': { $exists: true } }));
  const topicId = conversation.console!.topicId!;
  await eventually(() => h.telegram.groupMessages(topicId).length > 0);
  return { customer, topicId, conversationId: conversation._id };
}

/** Runs a command and waits for the bot's answer in the same place that contains `expected`. */
async function command(user: { id: number; first_name: string }, text: string, expected: string | RegExp, threadId?: number) {
  const before = h.telegram.state.sent.length;
  h.telegram.operatorWrites(user, { text }, { threadId });
  return eventually(() =>
    h.telegram.state.sent.slice(before).find((m) => m.chat_id === h.telegram.groupId && m.message_thread_id === threadId && (typeof expected === 'string' ? m.text?.includes(expected) : expected.test(m.text ?? ''))),
  );
}

const status = async (id: unknown) => (await ConversationModel.findById(id))?.status;

describe('/take', () => {
  it('makes the operator the owner of a new chat', async () => {
    const { topicId, conversationId } = await openChat();
    await command(bob, '/take', '✋ Bob took chat #1.', topicId);
    expect(await status(conversationId)).toBe('active');
  });

  it("refuses a chat someone else handles, and it stays theirs", async () => {
    const { topicId, conversationId } = await openChat();
    await command(bob, '/take', 'took chat', topicId);
    await command(carol, '/take', 'already being handled by someone else', topicId);
    expect((await OperatorModel.findById((await ConversationModel.findById(conversationId))?.owner))?.name).toBe('Bob');
  });

  it('explains where to use it when run in General', async () => {
    await command(bob, '/take', "Use /take inside a chat's topic");
  });
});

describe('/lang', () => {
  it("sets the customer's language: the farewell of /close comes in Russian", async () => {
    const { topicId, customer } = await openChat('My parcel is lost');
    await command(bob, '/lang', 'gets messages in en (from their messenger)', topicId);
    await command(bob, '/lang ru', "now gets the gateway's messages and templates in ru", topicId);
    await command(bob, '/close solved', 'closed by Bob', topicId);
    await eventually(() => h.telegram.privateMessages(customer.id).some((m) => m.text?.includes('Этот диалог закрыт')));
  });

  it("'auto' gives the language back to what the customer's messenger says", async () => {
    const { topicId, conversationId, customer } = await openChat();
    await command(bob, '/lang ru', 'in ru', topicId);
    await command(bob, '/lang auto', "the customer's language follows their messages again", topicId);
    const conversation = await ConversationModel.findById(conversationId);
    h.telegram.customerWrites(customer, { text: 'still there?' });
    await eventually(async () => (await CustomerModel.findById(conversation!.customer))?.language === 'en');
  });

  it('refuses a language the gateway has no messages in, and changes nothing', async () => {
    const { topicId, conversationId } = await openChat();
    await command(bob, '/lang xx', '"xx" is not a language the gateway has messages in (en, ru)', topicId);
    const conversation = await ConversationModel.findById(conversationId);
    expect((await CustomerModel.findById(conversation!.customer))?.language).toBe('en');
  });
});

describe('/close', () => {
  it("closes the chat with reason 'solved' and a comment, tells the customer and closes the topic", async () => {
    const { topicId, conversationId, customer } = await openChat();
    await command(bob, '/close solved refund issued', 'closed by Bob: Problem solved — refund issued', topicId);
    const closed = await ConversationModel.findById(conversationId);
    expect(closed).toMatchObject({ status: 'closed', closeReason: 'solved', closeComment: 'refund issued' });
    await eventually(() => h.telegram.privateMessages(customer.id).some((m) => m.text?.includes('This conversation is now closed')));
    await eventually(() => h.telegram.state.topics.get(topicId)?.closed && h.telegram.state.topics.get(topicId)?.name.startsWith('✅'));
  });

  it('asks for the reason with buttons, then for confirmation', async () => {
    const { topicId, conversationId } = await openChat();
    const question = await command(bob, '/close', 'Choose the reason', topicId);
    expect(question.reply_markup?.inline_keyboard?.map((row) => row[0]!.text)).toEqual(['Problem solved', 'Customer not responding', 'Transferred to another specialist', 'Other']);
    h.telegram.operatorPresses(bob, question, question.reply_markup!.inline_keyboard![1]![0]!.callback_data!);
    const confirm = await eventually(() => h.telegram.state.edits.find((e) => e.text.includes('as “Customer not responding”?')));
    expect(await status(conversationId)).toBe('new');
    const confirmButton = (confirm.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard[0]![0]!.callback_data;
    h.telegram.operatorPresses(bob, { ...question, text: confirm.text }, confirmButton);
    await eventually(async () => (await status(conversationId)) === 'closed');
    expect((await ConversationModel.findById(conversationId))?.closeReason).toBe('no_response');
  });

  it('refuses an unknown reason with the usage, and closing a closed chat', async () => {
    const { topicId, conversationId } = await openChat();
    const refusal = await command(bob, '/close fixed', '"fixed" is not a close reason.', topicId);
    expect(refusal.text).toContain('Usage: /close [solved|no_response|transferred|other] [comment]');
    expect(await status(conversationId)).toBe('new');
    await command(bob, '/close other', 'closed by Bob', topicId);
    await command(bob, '/close solved', 'is already closed', topicId);
    expect((await ConversationModel.findById(conversationId))?.closeReason).toBe('other');
  });
});

describe('/forward and /escalate', () => {
  it('forwards to a colleague with a comment: transferred, new owner mentioned', async () => {
    const { topicId, conversationId } = await openChat();
    await command(bob, '/take', 'took', topicId);
    const notice = await command(bob, '/forward @carol_op billing question', 'forwarded chat #1', topicId);
    expect(notice.text).toContain('tg://user?id=3');
    expect(notice.text).toContain('billing question');
    const conversation = await ConversationModel.findById(conversationId);
    expect(conversation?.status).toBe('transferred');
    expect((await OperatorModel.findById(conversation?.owner))?.name).toBe('Carol');
  });

  it('offers the active colleagues as buttons when nobody is named', async () => {
    const { topicId, conversationId } = await openChat();
    const question = await command(bob, '/forward', 'Forward chat #1 to:', topicId);
    const names = question.reply_markup!.inline_keyboard!.map((row) => row[0]!.text);
    expect(names).toEqual(expect.arrayContaining(['Ada' === names[0] ? 'Ada' : names[0]!, 'Carol', 'Sue']));
    expect(names.some((n) => n.includes('Bob'))).toBe(false);
    const carolButton = question.reply_markup!.inline_keyboard!.find((row) => row[0]!.text === 'Carol')![0]!;
    h.telegram.operatorPresses(bob, question, carolButton.callback_data!);
    const askComment = await eventually(() => h.telegram.state.edits.find((e) => e.text.includes('Forward chat #1 to Carol: reply to this message with a comment')));
    expect(await status(conversationId)).toBe('new');
    const withoutComment = (askComment.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard[0]![0]!;
    expect(withoutComment.text).toBe('Forward without a comment');
    h.telegram.operatorPresses(bob, question, withoutComment.callback_data);
    await eventually(() => h.telegram.state.edits.find((e) => e.text.includes('Bob forwarded chat #1 to')));
    expect(await status(conversationId)).toBe('transferred');
  });

  it('asks for the comment after a colleague is picked: the reply forwards with it and confirms, the customer sees nothing', async () => {
    const { topicId, conversationId, customer } = await openChat();
    const question = await command(bob, '/forward', 'Forward chat #1 to:', topicId);
    h.telegram.operatorPresses(bob, question, question.reply_markup!.inline_keyboard!.find((row) => row[0]!.text === 'Carol')![0]!.callback_data!);
    await eventually(() => h.telegram.state.edits.some((e) => e.message_id === question.message_id && e.text.includes('reply to this message with a comment')));
    h.telegram.operatorWrites(bob, { text: 'VIP, refund approved' }, { threadId: topicId, replyTo: question.message_id });
    const confirmation = await eventually(() => h.telegram.state.edits.find((e) => e.message_id === question.message_id && e.text.includes('forwarded chat #1 to')));
    expect(confirmation.text).toContain('tg://user?id=3');
    expect(confirmation.text).toContain(': VIP, refund approved');
    expect(confirmation.reply_markup).toBeUndefined();
    const conversation = await ConversationModel.findById(conversationId);
    expect(conversation?.status).toBe('transferred');
    expect((await OperatorModel.findById(conversation?.owner))?.name).toBe('Carol');
    expect(await MessageModel.countDocuments({ conversation: conversationId, direction: 'out' })).toBe(0);
    await h.gateway.worker.settled();
    expect(h.telegram.privateMessages(customer.id)).toHaveLength(0);
  });

  it('forwards nothing when the picked forward is cancelled', async () => {
    const { topicId, conversationId } = await openChat();
    const question = await command(bob, '/forward', 'Forward chat #1 to:', topicId);
    h.telegram.operatorPresses(bob, question, question.reply_markup!.inline_keyboard!.find((row) => row[0]!.text === 'Carol')![0]!.callback_data!);
    const asked = await eventually(() => h.telegram.state.edits.find((e) => e.text.includes('reply to this message with a comment')));
    const cancel = (asked.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard[1]![0]!.callback_data;
    h.telegram.operatorPresses(bob, question, cancel);
    await eventually(() => h.telegram.state.edits.some((e) => e.text === 'Chat #1 is not forwarded.'));
    expect(await status(conversationId)).toBe('new');
  });

  it('refuses an unknown operator with the usage', async () => {
    const { topicId, conversationId } = await openChat();
    const refusal = await command(bob, '/forward @nobody hi', 'No active operator "@nobody"', topicId);
    expect(refusal.text).toContain('Usage: /forward @operator [comment]');
    expect(await status(conversationId)).toBe('new');
  });

  it('escalates to the supervisors with a high priority', async () => {
    const { topicId, conversationId } = await openChat();
    const notice = await command(bob, '/escalate angry VIP', 'escalated chat #1: angry VIP', topicId);
    expect(notice.text).toContain('tg://user?id=4');
    expect((await ConversationModel.findById(conversationId))?.priority).toBe('high');
    await eventually(() => h.telegram.state.topics.get(topicId)?.name.startsWith('🆕❗'));
  });
});

describe('/reopen, /note, /priority', () => {
  it('reopens a closed chat and refuses to reopen an open one', async () => {
    const { topicId, conversationId } = await openChat();
    await command(bob, '/reopen', 'is new, not closed', topicId);
    await command(bob, '/close solved', 'closed', topicId);
    await command(bob, '/reopen', 'Bob reopened chat #1', topicId);
    expect(await status(conversationId)).toBe('active');
    await eventually(() => h.telegram.state.topics.get(topicId)?.closed === false);
  });

  it('stores a note the customer never sees, and wants its text', async () => {
    const { topicId, customer } = await openChat();
    await command(bob, '/note called them by phone', 'Note saved', topicId);
    expect(await MessageModel.countDocuments({ direction: 'note', text: 'called them by phone' })).toBe(1);
    await command(bob, '/note', 'Write the note after /note.', topicId);
    expect(h.telegram.privateMessages(customer.id).some((m) => m.text?.includes('phone'))).toBe(false);
  });

  it('sets the priority and refuses a bogus one', async () => {
    const { topicId, conversationId } = await openChat();
    await command(bob, '/priority low', 'is now low', topicId);
    await command(bob, '/priority urgent', '"urgent" is not a priority.', topicId);
    expect((await ConversationModel.findById(conversationId))?.priority).toBe('low');
  });
});

describe('templates', () => {
  it('/t sends the template in the customer’s language with placeholders filled', async () => {
    const { topicId, customer } = await openChat('Здравствуйте', { id: 7900, first_name: 'Иван', language_code: 'ru' });
    await command(bob, '/t hello', 'Sent template', topicId);
    const sent = await eventually(() => h.telegram.privateMessages(customer.id).find((m) => m.text?.startsWith('Здравствуйте, Иван!')));
    expect(sent.text).toContain('Меня зовут Bob');
  });

  it('/t tells the operator when the template lacks the customer’s language and English was sent', async () => {
    const { topicId, customer } = await openChat('Guten Tag', { id: 7901, first_name: 'Hans', language_code: 'de' });
    await command(bob, '/template add refund en Your refund is on its way.', 'refund', topicId);
    const answer = await command(bob, '/t refund', 'Sent template', topicId);
    expect(answer.text).toContain('(no de version, sent en)');
    await eventually(() => h.telegram.privateMessages(customer.id).find((m) => m.text === 'Your refund is on its way.'));
  });

  it('/t with an unknown name says so and sends nothing', async () => {
    const { topicId, customer } = await openChat();
    await command(bob, '/t nosuch', 'No template named "nosuch".', topicId);
    expect(h.telegram.privateMessages(customer.id)).toHaveLength(0);
  });

  it('/templates lists the templates with their languages', async () => {
    const list = await command(bob, '/templates', 'Reply templates');
    expect(list.text).toContain('<code>hello</code> — en, ru');
  });
});

describe('lists and search', () => {
  it('/chats lists open chats in pages of ten with buttons, and filters by status', async () => {
    for (let i = 0; i < 11; i++) await openChat(`question ${i}`);
    const first = await command(bob, '/chats', 'page 1/2');
    expect(first.text).toContain('11 in all');
    const older = first.reply_markup!.inline_keyboard![0]!.find((b) => b.text === 'Next ▶')!;
    h.telegram.operatorPresses(bob, first, older.callback_data!);
    await eventually(() => h.telegram.state.edits.some((e) => e.text.includes('page 2/2')));
    await command(bob, '/chats closed', 'No chats match');
  });

  it('/chats refuses a filter it does not know', async () => {
    await command(bob, '/chats purple', '"purple" is not a status');
  });

  it('/search finds chats by customer name and by message text', async () => {
    await openChat('The blender exploded', { id: 7801, first_name: 'Zelda' });
    await openChat('Where is my invoice?', { id: 7802, first_name: 'Yuri' });
    const byName = await command(bob, '/search zeld', 'Found');
    expect(byName.text).toContain('Zelda');
    expect(byName.text).not.toContain('Yuri');
    const byText = await command(bob, '/search invoice', 'Found');
    expect(byText.text).toContain('Yuri');
    await command(bob, '/search nothing-like-this', 'Nothing found');
  });

  it('/history shows the transcript with authors and delivery, and refuses a bad count', async () => {
    const { topicId, customer } = await openChat('first question');
    h.telegram.operatorWrites(bob, { text: 'first answer' }, { threadId: topicId });
    await eventually(() => h.telegram.privateMessages(customer.id).length === 1);
    await eventually(async () => (await MessageModel.findOne({ direction: 'out' }))?.delivery?.status === 'sent');
    const transcript = await command(bob, '/history', 'last 2 messages', topicId);
    expect(transcript.text).toMatch(/👤 Customer\d+: first question/);
    expect(transcript.text).toContain('🧑‍💼 Bob ✓: first answer');
    await command(bob, '/history abc', '"abc" is not a number from 1 to 200.', topicId);
  });

  it('/info shows the customer card and past chats', async () => {
    const { topicId } = await openChat('again me', { id: 7803, first_name: 'Xena' });
    const card = await command(bob, '/info', 'Xena', topicId);
    expect(card.text).toContain('No past chats.');
  });
});

describe('operators and permissions', () => {
  it('/duty switches duty and /operators lists who is on', async () => {
    await command(carol, '/duty on', 'Carol is now on duty.');
    expect((await OperatorModel.findOne({ telegramUserId: carol.id }))?.onDuty).toBe(true);
    const list = await command(carol, '/operators', 'Operators');
    expect(list.text).toContain('🟢 Carol');
    await command(carol, '/duty maybe', 'You are on duty.');
  });

  it('/ban is for supervisors: a banned customer is stored but not shown; /unban lifts it', async () => {
    const { topicId, customer } = await openChat();
    await command(bob, '/ban', 'Only supervisors may use /ban.', topicId);
    await command(sue, '/ban', 'Customer banned by Sue', topicId);
    const shownBefore = h.telegram.groupMessages(topicId).length;
    h.telegram.customerWrites(customer, { text: 'spam spam' });
    await eventually(() => MessageModel.findOne({ text: 'spam spam' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(h.telegram.groupMessages(topicId).filter((m) => m.text?.includes('spam spam'))).toHaveLength(0);
    expect(h.telegram.groupMessages(topicId).length).toBeGreaterThanOrEqual(shownBefore);
    await command(sue, '/unban', 'Customer unbanned by Sue', topicId);
    expect((await CustomerModel.findOne({ externalChatId: String(customer.id) }))?.blocked).toBe(false);
  });

  it('/op is for admins: add by reply or id, change role, remove', async () => {
    await command(bob, '/op add 555', 'Only admins may use /op.');
    expect(await OperatorModel.exists({ telegramUserId: 555 })).toBeNull();
    await command(admin, '/op add 555 Dave supervisor', 'Dave (555) is now a supervisor.');
    const newcomer = h.telegram.operatorWrites({ id: 556, first_name: 'Erin', username: 'erin' }, { text: 'hi all' });
    const before = h.telegram.state.sent.length;
    h.telegram.pushUpdate({ message: { message_id: 99999, date: Math.floor(Date.now() / 1000), chat: { id: h.telegram.groupId, type: 'supergroup' }, from: { id: admin.id, is_bot: false, first_name: 'Ada' }, text: '/op add', entities: [{ type: 'bot_command', offset: 0, length: 3 }], reply_to_message: newcomer } });
    await eventually(() => h.telegram.state.sent.slice(before).some((m) => m.text?.includes('Erin (556) is now an operator.')));
    await command(admin, '/op role @erin supervisor', 'Erin is now a supervisor.');
    await command(admin, '/op remove @erin', 'Erin is no longer an operator.');
    expect((await OperatorModel.findOne({ telegramUserId: 556 }))?.active).toBe(false);
    await command(admin, '/op fly', 'Unknown or incomplete /op fly.');
  });

  it('refuses anyone who is not an operator, and changes nothing', async () => {
    const { topicId, conversationId } = await openChat();
    await command(stranger, '/close solved', 'Only registered operators can do that here.', topicId);
    expect(await status(conversationId)).toBe('new');
  });

  it('answers an unknown command with a pointer to /help', async () => {
    await command(bob, '/dance', 'Unknown command /dance. Send /help for the list.');
  });

  it('/help lists only what the operator may run', async () => {
    const forOperator = await command(bob, '/help', 'Commands');
    expect(forOperator.text).toContain('/take');
    expect(forOperator.text).not.toContain('/stats');
    expect(forOperator.text).not.toContain('/op ');
    const forAdmin = await command(admin, '/help', 'Commands');
    expect(forAdmin.text).toContain('/stats');
    expect(forAdmin.text).toContain('/op add');
  });

  it('/stats is refused to a plain operator', async () => {
    await command(bob, '/stats', 'Only supervisors may use /stats.');
  });
});
