import { describe, expect, it } from 'vitest';
import { bob, carol, registerTeam } from './support/team.js';
import { eventually, useTelegramHarness } from './support/gateway.js';
import { ConversationModel, MessageModel, OperatorModel, OutboxItemModel } from '../src/db/models/index.js';
import { withInlineBytes } from '../src/attachments.js';
import { sendSystemMessage } from '../src/conversations/system-message.js';
import { RATING_CHOICES } from '../src/jobs/survey.js';
import { recordCustomerChange } from '../src/conversations/message-changes.js';

const h = useTelegramHarness({ forum: true }, ['bob']);
const alice = { id: 5001, first_name: 'Alice', last_name: 'Smith', username: 'alice_s', language_code: 'en' };


async function customerOpensChat(text = 'My order #4411 has not arrived') {
  h.telegram.customerWrites(alice, { text });
  const conversation = await eventually(() => ConversationModel.findOne({ 'console.topicId': { $exists: true } }));
  const topicId = conversation.console!.topicId!;
  await eventually(() => h.telegram.groupMessages(topicId).length > 0);
  return { conversation, topicId };
}

describe('Telegram console in forum mode', () => {
  it('creates a topic named with status, number, channel and customer, and relays the message with the customer card', async () => {
    const { topicId } = await customerOpensChat('Hello <b>there</b> & bye');
    expect(h.telegram.state.topics.get(topicId)?.name).toBe('🆕 #1 · Telegram · Alice Smith');
    const [relayed] = h.telegram.groupMessages(topicId);
    expect(relayed?.text).toContain('👤 <b>Alice Smith</b> · @alice_s');
    expect(relayed?.text).toContain('Hello &lt;b&gt;there&lt;/b&gt; &amp; bye');
  });

  it('shows only the content from the second message on', async () => {
    const { topicId } = await customerOpensChat();
    h.telegram.customerWrites(alice, { text: 'Any news?' });
    await eventually(() => h.telegram.groupMessages(topicId).length === 2);
    expect(h.telegram.groupMessages(topicId)[1]?.text).toBe('Any news?');
  });

  it('announces the new chat in General with a Take button, mentioning on-duty operators', async () => {
    await customerOpensChat();
    const alert = await eventually(() => h.telegram.groupMessages().find((m) => m.message_thread_id === undefined && m.text?.includes('New chat #1')));
    expect(alert.text).toContain('tg://user?id=2');
    expect(alert.reply_markup?.inline_keyboard?.[0]?.[0]?.text).toBe('✋ Take');
  });

  it('the Take button makes the presser the owner and says so', async () => {
    await customerOpensChat();
    const alert = await eventually(() => h.telegram.groupMessages().find((m) => m.text?.includes('New chat #1')));
    h.telegram.operatorPresses(bob, alert, alert.reply_markup!.inline_keyboard![0]![0]!.callback_data!);
    const conversation = await eventually(async () => {
      const c = await ConversationModel.findOne();
      return c?.status === 'active' ? c : undefined;
    });
    const owner = await OperatorModel.findById(conversation.owner);
    expect(owner?.telegramUserId).toBe(bob.id);
    await eventually(() => h.telegram.state.edits.some((e) => e.text.includes('taken by Bob')));
  });

  it("the Take button of a chat another operator already answered says who has it, and does not take it over", async () => {
    const { topicId } = await customerOpensChat();
    const alert = await eventually(() => h.telegram.groupMessages().find((m) => m.text?.includes('New chat #1')));
    h.telegram.operatorWrites(bob, { text: 'I am on it' }, { threadId: topicId });
    await eventually(async () => (await ConversationModel.findOne())?.owner);
    await registerTeam('carol');

    h.telegram.operatorPresses(carol, alert, alert.reply_markup!.inline_keyboard![0]![0]!.callback_data!);
    await eventually(() => h.telegram.state.callbackAnswers.some((a) => String(a.text).includes('Bob has chat #1 already')));
    const owner = await OperatorModel.findById((await ConversationModel.findOne())!.owner);
    expect(owner?.telegramUserId).toBe(bob.id);
    await eventually(() => h.telegram.state.edits.some((e) => e.text.includes('taken by Bob')));
  });

  it("sends what an operator types in the topic to the customer, makes them owner and marks it sent", async () => {
    const { topicId } = await customerOpensChat();
    const operatorMessage = h.telegram.operatorWrites(bob, { text: 'Hi Alice, checking your order now.' }, { threadId: topicId });
    const delivered = await eventually(() => h.telegram.privateMessages(alice.id).find((m) => m.text === 'Hi Alice, checking your order now.'));
    expect(delivered.chat_id).toBe(alice.id);
    await eventually(() => h.telegram.state.reactions.get(`${h.telegram.groupId}:${operatorMessage.message_id}`) === '🕊');
    const conversation = await eventually(async () => {
      const c = await ConversationModel.findOne();
      return c?.status === 'awaiting' ? c : undefined;
    });
    expect((await OperatorModel.findById(conversation?.owner))?.telegramUserId).toBe(bob.id);
    await eventually(() => h.telegram.state.topics.get(topicId)?.name.startsWith('⏳ #1'));
  });

  it('offers a survey\'s answers as a one-time keyboard, and a tap comes back as the customer\'s message', async () => {
    const { conversation } = await customerOpensChat();
    await sendSystemMessage(conversation, 'How would you rate our help, 1 to 5?', { quickReplies: RATING_CHOICES });
    const asked = await eventually(() => h.telegram.privateMessages(alice.id).find((m) => m.text === 'How would you rate our help, 1 to 5?'));
    expect(asked.params.reply_markup).toEqual({ keyboard: [['1', '2', '3', '4', '5'].map((text) => ({ text }))], one_time_keyboard: true, resize_keyboard: true });
    h.telegram.customerWrites(alice, { text: '5' });
    await eventually(() => MessageModel.findOne({ direction: 'in', text: '5' }));
  });

  it('keeps a message starting with ! as an internal note and never sends it', async () => {
    const { topicId } = await customerOpensChat();
    h.telegram.operatorWrites(bob, { text: '!customer sounds upset, be gentle' }, { threadId: topicId });
    await eventually(() => MessageModel.findOne({ direction: 'note' }));
    expect((await MessageModel.findOne({ direction: 'note' }))?.text).toBe('customer sounds upset, be gentle');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.telegram.privateMessages(alice.id).some((m) => m.text?.includes('upset'))).toBe(false);
  });

  it('relays customer photos by file id with the caption', async () => {
    const { topicId } = await customerOpensChat();
    h.telegram.customerWrites(alice, { photo: [{ file_id: 'small', file_unique_id: 's', width: 90, height: 90 }, { file_id: 'big', file_unique_id: 'b', width: 1280, height: 960, file_size: 120000 }], caption: 'the damaged box' });
    const photo = await eventually(() => h.telegram.groupMessages(topicId).find((m) => m.method === 'sendPhoto'));
    expect(photo.params.photo).toBe('big');
    expect(photo.caption).toBe('the damaged box');
  });

  it('shows a failed delivery with the reason when the customer blocked the bot', async () => {
    const { topicId } = await customerOpensChat();
    h.telegram.state.blocked.add(alice.id);
    const operatorMessage = h.telegram.operatorWrites(bob, { text: 'Are you still there?' }, { threadId: topicId });
    const warning = await eventually(() => h.telegram.groupMessages(topicId).find((m) => m.text?.includes('Not delivered')));
    expect(warning.text).toContain('bot was blocked by the user');
    expect(warning.reply_to_message_id).toBe(operatorMessage.message_id);
    // The reaction is cosmetic: it follows the notice, on budget nothing else needs.
    await eventually(() => h.telegram.state.reactions.get(`${h.telegram.groupId}:${operatorMessage.message_id}`) === '💔');
    expect((await MessageModel.findOne({ direction: 'out' }))?.delivery?.status).toBe('failed');
  });

  it('refuses a stranger who writes in a topic, and sends nothing to the customer', async () => {
    const { topicId } = await customerOpensChat();
    h.telegram.operatorWrites({ id: 66, first_name: 'Mallory' }, { text: 'give me the data' }, { threadId: topicId });
    await eventually(() => h.telegram.groupMessages(topicId).some((m) => m.text?.includes('Only registered operators')));
    expect(h.telegram.privateMessages(alice.id)).toHaveLength(0);
    expect(await MessageModel.countDocuments({ direction: 'out' })).toBe(0);
  });

  it('greets a customer who sends /start from the greeting template', async () => {
    h.telegram.customerWrites(alice, { text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] });
    const greeting = await eventually(() => h.telegram.privateMessages(alice.id)[0]);
    expect(greeting.text).toContain('Hello, Alice!');
    expect(await ConversationModel.countDocuments()).toBe(0);
  });

  it("describes /start to customers in their Telegram app's language", () => {
    const privateCommands = h.telegram.state.commands.filter((c) => (c.scope as { type: string }).type === 'all_private_chats');
    expect(privateCommands.map((c) => [c.language_code, c.commands[0]?.description])).toEqual([
      [undefined, 'Start a conversation with support'],
      ['ru', 'Начать разговор с поддержкой'],
    ]);
  });

  it('registers the command list for the operator group and keeps a pinned dashboard', async () => {
    const registered = h.telegram.state.commands.find((c) => (c.scope as { type: string }).type === 'chat');
    expect(registered?.commands.map((c) => c.command)).toEqual(expect.arrayContaining(['take', 'close', 'help']));
    await customerOpensChat();
    await eventually(() => h.telegram.state.pinned.get(h.telegram.groupId));
    const pinnedId = h.telegram.state.pinned.get(h.telegram.groupId);
    await eventually(() => h.telegram.state.sent.find((m) => m.message_id === pinnedId)?.text?.includes('new: <b>1</b>'));
  });

  it('relays voice, location and contact messages with what each is', async () => {
    const { topicId } = await customerOpensChat();
    h.telegram.customerWrites(alice, { voice: { file_id: 'voice-1', file_unique_id: 'v1', duration: 3, mime_type: 'audio/ogg', file_size: 4000 } });
    h.telegram.customerWrites(alice, { location: { latitude: 55.75, longitude: 37.61 } });
    h.telegram.customerWrites(alice, { contact: { phone_number: '+7000', first_name: 'Olga' } });
    await eventually(() => ['sendVoice', 'sendLocation'].every((method) => h.telegram.groupMessages(topicId).some((m) => m.method === method)));
    const stored = await eventually(async () => {
      const messages = await MessageModel.find({ direction: 'in' }).sort({ createdAt: 1 }).lean();
      return messages.length === 4 ? messages : undefined;
    });
    expect(stored.map((m) => m.attachments[0]?.kind)).toEqual([undefined, 'voice', 'location', 'contact']);
    await eventually(() => h.telegram.groupMessages(topicId).some((m) => m.text?.includes('contact Olga +7000')));
  });

  it("sends an operator's photo to a Telegram customer by its file id", async () => {
    const { topicId } = await customerOpensChat();
    h.telegram.operatorWrites(bob, { photo: [{ file_id: 'op-photo', file_unique_id: 'p', width: 800, height: 600 }], caption: 'like this one?' }, { threadId: topicId });
    const photo = await eventually(() => h.telegram.privateMessages(alice.id).find((m) => m.method === 'sendPhoto'));
    expect(photo.params.photo).toBe('op-photo');
    expect(photo.caption).toBe('like this one?');
  });

  it('downloads the bytes of a Telegram file (getFile, then the file URL) for channels that need them', async () => {
    h.telegram.addFile('doc-42', Buffer.from('%PDF-1.4 invoice'), 'documents/invoice.pdf');
    const inline = await withInlineBytes({ kind: 'document', ref: 'tg:doc-42' });
    expect(Buffer.from(inline.dataBase64!, 'base64').toString()).toBe('%PDF-1.4 invoice');
    expect(inline).toMatchObject({ fileName: 'invoice.pdf', size: 16 });
  });

  it('opens a new topic when someone deleted the chat\'s topic, replays the recent messages there and tells General', async () => {
    const { conversation, topicId } = await customerOpensChat('First question');
    h.telegram.customerWrites(alice, { text: 'Second question' });
    await eventually(() => h.telegram.groupMessages(topicId).length === 2);
    h.telegram.state.topics.delete(topicId);

    h.telegram.customerWrites(alice, { text: 'Are you there?' });
    const reopened = await eventually(async () => {
      const c = await ConversationModel.findById(conversation._id);
      return c?.console?.topicId && c.console.topicId !== topicId && !c.console.topicLost ? c : undefined;
    });
    const newTopic = reopened.console!.topicId!;
    await eventually(() => h.telegram.groupMessages(newTopic).some((m) => m.text?.includes('Are you there?')));
    const [replay, relay] = h.telegram.groupMessages(newTopic);
    expect(replay?.text).toContain('previous topic was deleted');
    expect(replay?.text).toContain('First question');
    expect(replay?.text).toContain('Second question');
    expect(relay?.text).toContain('👤 <b>Alice Smith</b>');
    expect(relay?.text).toContain('Are you there?');
    const notice = await eventually(() => h.telegram.groupMessages().find((m) => m.message_thread_id === undefined && m.text?.includes('topic of chat #1 was deleted')));
    expect(notice).toBeDefined();
  });

  it("sends an operator's answer once when Telegram delivers the same update twice (as after a crash)", async () => {
    const { topicId } = await customerOpensChat();
    const answer = h.telegram.operatorWrites(bob, { text: 'On its way!' }, { threadId: topicId });
    await eventually(() => h.telegram.privateMessages(alice.id).some((m) => m.text === 'On its way!'));
    h.telegram.pushUpdate({ message: answer });
    h.telegram.operatorWrites(bob, { text: 'Anything else?' }, { threadId: topicId });
    await eventually(() => h.telegram.privateMessages(alice.id).some((m) => m.text === 'Anything else?'));
    expect(h.telegram.privateMessages(alice.id).filter((m) => m.text === 'On its way!')).toHaveLength(1);
    expect(await MessageModel.countDocuments({ direction: 'out', text: 'On its way!' })).toBe(1);
  });

  it('marks a relay that a crashed gateway may already have shown as possibly repeated', async () => {
    const { conversation, topicId } = await customerOpensChat();
    h.telegram.customerWrites(alice, { text: 'Sent just before the crash' });
    const message = await eventually(async () => {
      const shown = await MessageModel.findOne({ text: 'Sent just before the crash' });
      return shown?.consoleMessageIds.length ? shown : undefined;
    });
    // What a crash between the send and its recording leaves behind: the relay queued again, the send in doubt.
    await MessageModel.updateOne({ _id: message._id }, { $set: { consoleMessageIds: [] } });
    await OutboxItemModel.create({ route: 'console', action: 'relay', stream: `console:conv:${conversation._id}`, seq: Date.now() * 1000, conversation: conversation._id, message: message._id, nextAttemptAt: new Date(), createdAt: new Date(), mayRepeat: true });
    h.gateway.worker.wake();
    await eventually(() => h.telegram.groupMessages(topicId).length === 3);
    const repeated = h.telegram.groupMessages(topicId)[2]!;
    expect(repeated.text).toContain('↻');
    expect(repeated.text).toContain('Sent just before the crash');
  });
});

describe('edits and deletions in a Telegram chat', () => {
  /** The chat's topic, an operator's answer in it, and that answer as the customer got it. */
  async function answered(text = 'Your parcel ships on Monday.') {
    const { conversation, topicId } = await customerOpensChat();
    const answer = h.telegram.operatorWrites(bob, { text }, { threadId: topicId });
    const atCustomer = await eventually(() => h.telegram.privateMessages(alice.id).find((m) => m.text === text));
    await eventually(async () => (await MessageModel.findOne({ direction: 'out', text }))?.externalId);
    return { conversation, topicId, answer, atCustomer };
  }

  async function historyIn(topicId: number): Promise<string> {
    h.telegram.operatorWrites(bob, { text: '/history' }, { threadId: topicId });
    return (await eventually(() => h.telegram.groupMessages(topicId).find((m) => m.text?.includes('last ')))).text!;
  }

  it("edits the customer's copy when an operator edits an answer, and keeps the old text as a version", async () => {
    const { topicId, answer, atCustomer } = await answered();
    h.telegram.editsMessage(answer, { text: 'Your parcel ships on Tuesday.' });
    await eventually(() => h.telegram.state.edits.some((e) => e.chat_id === alice.id && e.message_id === atCustomer.message_id && e.text === 'Your parcel ships on Tuesday.'));
    const stored = (await MessageModel.findOne({ direction: 'out' }))!;
    expect(stored.text).toBe('Your parcel ships on Tuesday.');
    expect(stored.versions).toHaveLength(1);
    expect(stored.versions[0]).toMatchObject({ text: 'Your parcel ships on Monday.', by: { kind: 'operator', name: 'Bob' } });
    expect(stored.versions[0]!.at).toBeInstanceOf(Date);
    expect(h.telegram.privateMessages(alice.id).filter((m) => m.text?.includes('Tuesday'))).toHaveLength(1);
    expect(await historyIn(topicId)).toMatch(/Bob ✓ \(✏️ edited\): Your parcel ships on Tuesday\./);
  });

  it("edits the caption of an operator's photo", async () => {
    const { topicId } = await customerOpensChat();
    const answer = h.telegram.operatorWrites(bob, { photo: [{ file_id: 'op-photo', file_unique_id: 'p', width: 800, height: 600 }], caption: 'the blue one' }, { threadId: topicId });
    const photo = await eventually(() => h.telegram.privateMessages(alice.id).find((m) => m.method === 'sendPhoto'));
    await eventually(async () => (await MessageModel.findOne({ direction: 'out' }))?.externalId);
    h.telegram.editsMessage(answer, { photo: [{ file_id: 'op-photo', file_unique_id: 'p', width: 800, height: 600 }], caption: 'the red one' });
    await eventually(() => h.telegram.privateMessages(alice.id).find((m) => m.message_id === photo.message_id)?.caption === 'the red one');
  });

  it('keeps an edited note as a version and sends nothing', async () => {
    const { topicId } = await customerOpensChat();
    const note = h.telegram.operatorWrites(bob, { text: '!customer is VIP' }, { threadId: topicId });
    await eventually(() => MessageModel.findOne({ direction: 'note' }));
    h.telegram.editsMessage(note, { text: '!customer is a VIP since 2020' });
    const stored = await eventually(async () => {
      const m = await MessageModel.findOne({ direction: 'note' });
      return m?.versions.length ? m : undefined;
    });
    expect(stored.text).toBe('customer is a VIP since 2020');
    expect(h.telegram.privateMessages(alice.id)).toHaveLength(0);
  });

  it('/delete as a reply to an answer deletes it at the customer and marks it deleted in the history', async () => {
    const { topicId, answer, atCustomer } = await answered('Wrong chat, sorry');
    h.telegram.operatorWrites(bob, { text: '/delete' }, { threadId: topicId, replyTo: answer.message_id });
    await eventually(() => h.telegram.state.deleted.some((d) => d.chat_id === alice.id && d.message_id === atCustomer.message_id));
    await eventually(() => h.telegram.groupMessages(topicId).some((m) => m.text?.includes('removed at the customer')));
    const stored = (await MessageModel.findOne({ direction: 'out' }))!;
    expect(stored.deletedAt).toBeInstanceOf(Date);
    expect(stored.deletedBy).toMatchObject({ kind: 'operator', name: 'Bob' });
    expect(await historyIn(topicId)).toContain('🗑 deleted by Bob');
  });

  it('refuses /delete without a reply, or as a reply to a customer message, and changes nothing', async () => {
    const { topicId } = await answered();
    h.telegram.operatorWrites(bob, { text: '/delete' }, { threadId: topicId });
    await eventually(() => h.telegram.groupMessages(topicId).some((m) => m.text?.includes('Reply /delete to the answer')));
    const relayed = h.telegram.groupMessages(topicId)[0]!;
    h.telegram.operatorWrites(bob, { text: '/delete' }, { threadId: topicId, replyTo: relayed.message_id });
    await eventually(() => h.telegram.groupMessages(topicId).some((m) => m.text?.includes('Only a message sent to the customer can be deleted')));
    expect(await MessageModel.countDocuments({ deletedAt: { $exists: true } })).toBe(0);
    expect(h.telegram.state.deleted).toHaveLength(0);
  });

  it("tells the operators when Telegram refuses to delete the answer (older than 48 hours)", async () => {
    const { topicId, answer } = await answered();
    h.telegram.state.failNext.set('deleteMessage', { status: 400, description: "Bad Request: message can't be deleted for everyone" });
    h.telegram.operatorWrites(bob, { text: '/delete' }, { threadId: topicId, replyTo: answer.message_id });
    const notice = await eventually(() => h.telegram.groupMessages(topicId).find((m) => m.text?.includes('Could not delete the answer at the customer')));
    expect(notice.text).toContain("can't be deleted for everyone");
    expect(notice.reply_to_message_id).toBe(answer.message_id);
  });

  it("shows a customer's edit by editing the relayed message, and the old text stays as a version", async () => {
    const { topicId } = await customerOpensChat('I ordered 3 boxes');
    const sent = h.telegram.customerWrites(alice, { text: 'Size M' });
    await eventually(() => h.telegram.groupMessages(topicId).length === 2);
    const relayed = h.telegram.groupMessages(topicId)[1]!;
    h.telegram.editsMessage(sent, { text: 'Size L' });
    await eventually(() => h.telegram.state.edits.some((e) => e.message_id === relayed.message_id && e.text === 'Size L <i>✏️ edited</i>'));
    const stored = (await MessageModel.findOne({ text: 'Size L' }))!;
    expect(stored.versions.map((v) => v.text)).toEqual(['Size M']);
    expect(h.telegram.groupMessages(topicId)).toHaveLength(2);
  });

  it('keeps the customer card when the edited message is the one that carried it', async () => {
    const { topicId } = await customerOpensChat('I ordered 3 boxes');
    const [relayed] = h.telegram.groupMessages(topicId);
    const customerMessageId = Number((await MessageModel.findOne({ direction: 'in' }))!.externalId!.split(':')[1]);
    h.telegram.editsMessage({ message_id: customerMessageId, date: Math.floor(Date.now() / 1000), chat: { id: alice.id, type: 'private' }, from: { ...alice, is_bot: false } }, { text: 'I ordered 4 boxes' });
    const edit = await eventually(() => h.telegram.state.edits.find((e) => e.message_id === relayed!.message_id));
    expect(edit.text).toContain('👤 <b>Alice Smith</b>');
    expect(edit.text).toContain('I ordered 4 boxes <i>✏️ edited</i>');
  });

  it("strikes out a message the customer deleted on their side (WhatsApp, web chat...) in its relayed copy", async () => {
    const { topicId } = await customerOpensChat('first');
    h.telegram.customerWrites(alice, { text: 'my password is hunter2' });
    await eventually(() => h.telegram.groupMessages(topicId).length === 2);
    const relayed = h.telegram.groupMessages(topicId)[1]!;
    const stored = (await MessageModel.findOne({ text: 'my password is hunter2' }))!;
    await recordCustomerChange({ channel: 'telegram', externalMessageId: stored.externalId!, kind: 'deleted', at: new Date() });
    await eventually(() => h.telegram.state.edits.some((e) => e.message_id === relayed.message_id && e.text === '<s>my password is hunter2</s> <i>🗑 deleted by the customer</i>'));
  });

  it('answers a change of a message shown with a photo as a reply to it', async () => {
    const { topicId } = await customerOpensChat();
    const photo = h.telegram.customerWrites(alice, { photo: [{ file_id: 'ph-1', file_unique_id: 'u1', width: 10, height: 10 }], caption: 'broken lid' });
    await eventually(() => h.telegram.groupMessages(topicId).some((m) => m.method === 'sendPhoto'));
    const relayed = h.telegram.groupMessages(topicId).find((m) => m.method === 'sendPhoto')!;
    h.telegram.editsMessage(photo, { photo: [{ file_id: 'ph-1', file_unique_id: 'u1', width: 10, height: 10 }], caption: 'broken lid and handle' });
    const reply = await eventually(() => h.telegram.groupMessages(topicId).find((m) => m.text?.includes('The customer edited this message')));
    expect(reply.text).toContain('broken lid and handle');
    expect(reply.reply_to_message_id).toBe(relayed.message_id);
  });
});
