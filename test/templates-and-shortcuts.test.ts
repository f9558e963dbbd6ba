import { describe, expect, it } from 'vitest';
import { eventually, useTelegramHarness } from './support/gateway.js';
import { ConversationModel, MessageModel, ShortcutModel } from '../src/db/models/index.js';
import { seedReplyTemplates } from '../src/reply-templates.js';
import { bob } from './support/team.js';

const h = useTelegramHarness({ forum: true }, ['bob']);
let customerSeq = 0;


async function openChat(language = 'en') {
  const customer = { id: 8000 + ++customerSeq, first_name: `Customer${customerSeq}`, language_code: language };
  h.telegram.customerWrites(customer, { text: 'Hello' });
  const conversation = await eventually(() => ConversationModel.findOne({ chatKey: `telegram:${customer.id}`, 'console.topicId': { $exists: true } }));
  return { customer, topicId: conversation.console!.topicId! };
}

async function command(text: string, expected: string, threadId?: number) {
  const before = h.telegram.state.sent.length;
  h.telegram.operatorWrites(bob, { text }, { threadId });
  return eventually(() => h.telegram.state.sent.slice(before).find((m) => m.chat_id === h.telegram.groupId && m.message_thread_id === threadId && m.text?.includes(expected)));
}

describe('the template library, managed from the group', () => {
  it('/template add makes a template /t sends and /templates lists, in each language', async () => {
    await command('/template add delivery Your parcel leaves today, {{customerName}}.', 'Template “delivery” (en) added by Bob');
    await command('/template add delivery ru Посылка уходит сегодня, {{customerName}}.', 'Template “delivery” (ru) added by Bob');
    const list = await command('/templates', 'Reply templates');
    expect(list.text).toContain('<code>delivery</code> — en, ru');
    const english = await openChat('en');
    await command('/t delivery', 'Sent template', english.topicId);
    await eventually(() => h.telegram.privateMessages(english.customer.id).some((m) => m.text === `Your parcel leaves today, ${english.customer.first_name}.`));
    const russian = await openChat('ru');
    await command('/t delivery', 'Sent template', russian.topicId);
    await eventually(() => h.telegram.privateMessages(russian.customer.id).some((m) => m.text === `Посылка уходит сегодня, ${russian.customer.first_name}.`));
  });

  it('/template edit changes the text, and refuses a template that does not exist', async () => {
    await command('/template edit hello Hi there, {{customerName}}!', 'Template “hello” (en) changed by Bob');
    const chat = await openChat();
    await command('/t hello', 'Sent template', chat.topicId);
    await eventually(() => h.telegram.privateMessages(chat.customer.id).some((m) => m.text === `Hi there, ${chat.customer.first_name}!`));
    const refusal = await command('/template edit nosuch Some text', 'There is no template “nosuch” (en) to edit.');
    expect(refusal.text).toContain('Usage: /template add|edit name [language] text');
    await command('/template add hello Again', 'Template “hello” (en) exists already: use /template edit.');
  });

  it('/template remove takes a template out for good, the shipped ones too', async () => {
    await command('/template remove bye', 'Template “bye” (en) removed by Bob.');
    await seedReplyTemplates();
    const chat = await openChat();
    await command('/t bye', 'No template named "bye".', chat.topicId);
    expect(h.telegram.privateMessages(chat.customer.id)).toHaveLength(0);
    await command('/template remove bye', 'There is no template “bye” (en).');
    expect((await command('/templates', 'Reply templates')).text).toContain('<code>bye</code> — ru');
  });
});

describe('auto-replace shortcuts', () => {
  it('expands a shortcut in a reply: the customer gets the full text, the topic shows what was sent', async () => {
    await command('/shortcut add ;thanks Thank you for your patience!', ';thanks now stands for: Thank you for your patience!');
    const chat = await openChat();
    h.telegram.operatorWrites(bob, { text: 'Done. ;thanks' }, { threadId: chat.topicId });
    await eventually(() => h.telegram.privateMessages(chat.customer.id).some((m) => m.text === 'Done. Thank you for your patience!'));
    expect(h.telegram.privateMessages(chat.customer.id).some((m) => m.text?.includes(';thanks'))).toBe(false);
    await eventually(() => h.telegram.groupMessages(chat.topicId).some((m) => m.text === '📤 Sent: Done. Thank you for your patience!'));
    expect(await MessageModel.countDocuments({ direction: 'out', text: 'Done. Thank you for your patience!' })).toBe(1);
  });

  it('leaves a reply without shortcuts as it is, and shows nothing more', async () => {
    await command('/shortcut add ;thanks Thank you!', 'now stands for');
    const chat = await openChat();
    h.telegram.operatorWrites(bob, { text: 'thanks;thanks is not a word of its own' }, { threadId: chat.topicId });
    await eventually(() => h.telegram.privateMessages(chat.customer.id).some((m) => m.text === 'thanks;thanks is not a word of its own'));
    await h.gateway.worker.settled();
    expect(h.telegram.groupMessages(chat.topicId).some((m) => m.text?.startsWith('📤 Sent'))).toBe(false);
  });

  it('refuses a shortcut that clashes with a command, and stores nothing', async () => {
    const refusal = await command('/shortcut add /close Bye!', '"/close" clashes with the command /close.');
    expect(refusal.text).toContain('Usage: /shortcut add ;name text');
    await command('/shortcut add !x note?', 'would start an internal note');
    expect(await ShortcutModel.countDocuments()).toBe(0);
  });

  it('/shortcut list shows them and /shortcut remove takes one away', async () => {
    await command('/shortcut add ;hi Hello!', 'now stands for');
    expect((await command('/shortcut list', 'Shortcuts')).text).toContain('<code>;hi</code> → Hello!');
    await command('/shortcut remove ;hi', 'Shortcut ;hi removed.');
    await command('/shortcut remove ;hi', 'There is no shortcut ";hi".');
  });
});
