import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bob, registerTeam } from './support/team.js';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { ConversationModel, MessageModel, OutboxItemModel } from '../src/db/models/index.js';
import { scaledGroupLimit } from './support/fake-telegram.js';

const TEN_TIMES_FASTER = scaledGroupLimit(10);

/**
 * The operator group's budget: Telegram lets each bot make about 20 changes a minute in one group. Time runs ten
 * times faster here: the fake server allows each bot 20 calls into the group per 6 s, the gateway is set to 200 a
 * minute.
 */
let h: TelegramHarness;
const GROUP_METHODS = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'createForumTopic', 'editForumTopic', 'closeForumTopic', 'reopenForumTopic', 'setMessageReaction', 'editMessageText', 'pinChatMessage']);

const groupCalls = () => h.telegram.state.calls.filter((c) => GROUP_METHODS.has(c.method) && Number(c.params.chat_id) === h.telegram.groupId);
const customer = (id: number) => ({ id, first_name: `Customer ${id}` });

async function topicOf(customerId: number): Promise<number> {
  const conversation = await eventually(async () => {
    const found = await ConversationModel.findOne({ chatKey: `telegram:${customerId}`, 'console.topicId': { $exists: true } });
    return found ?? undefined;
  }, 30_000);
  return conversation.console!.topicId!;
}

describe('the operator group budget', () => {
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: true, groupLimit: TEN_TIMES_FASTER.groupLimit, env: { RATE_TELEGRAM_PER_GROUP_PER_MINUTE: TEN_TIMES_FASTER.gatewayPerMinute, TOPIC_RENAME_DELAY: '1s', DASHBOARD_INTERVAL: '200ms' } });
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.reset();
    await registerTeam('bob');
  });

  it('sends customers’ messages before topic names, reactions and the dashboard that were waiting before them', async () => {
    // Ten answered chats: their renames, reactions and a dashboard edit wait for budget.
    for (let id = 100; id < 110; id++) h.telegram.customerWrites(customer(id), { text: `question of ${id}` });
    for (let id = 100; id < 110; id++) h.telegram.operatorWrites(bob, { text: `answer to ${id}` }, { threadId: await topicOf(id) });
    await eventually(() => Array.from({ length: 10 }, (_, i) => h.telegram.privateMessages(100 + i).length > 0).every(Boolean), 30_000);
    // The sends into the group pause (a busy minute) while the same customers write again.
    await h.gateway.worker.stop();
    const resumedAt = await (async () => {
      try {
        for (let id = 100; id < 110; id++) h.telegram.customerWrites(customer(id), { text: `follow-up of ${id}` });
        await eventually(async () => {
          const followUps = await MessageModel.find({ text: /^follow-up of/ }, { _id: 1 }).lean();
          const due = await OutboxItemModel.countDocuments({ action: 'relay', message: { $in: followUps.map((m) => m._id) }, nextAttemptAt: { $lte: new Date() } });
          return followUps.length === 10 && due === 10;
        }, 30_000);
        const cosmeticsWaiting = await OutboxItemModel.countDocuments({ action: { $in: ['conversationChanged', 'deliveryStatus', 'dashboard'] }, status: 'pending' });
        expect(cosmeticsWaiting).toBeGreaterThan(0);
        return Date.now();
      } finally {
        h.gateway.worker.start();
      }
    })();
    const relayed = (id: number) => groupCalls().find((c) => c.method === 'sendMessage' && String(c.params.text).includes(`follow-up of ${id}`));
    await eventually(() => Array.from({ length: 10 }, (_, i) => relayed(100 + i)).every(Boolean), 60_000);
    const firstTen = groupCalls().filter((c) => c.at >= resumedAt).slice(0, 10);
    expect(firstTen.map((c) => c.method), firstTen.map((c) => `${c.method}: ${String(c.params.text ?? c.params.name ?? '').slice(0, 24)}`).join('\n')).toEqual(Array(10).fill('sendMessage'));
    // The cosmetics still come, after them, on the budget left.
    await eventually(async () => (await OutboxItemModel.countDocuments({ action: { $in: ['conversationChanged', 'deliveryStatus'] } })) === 0, 60_000);
    expect(h.telegram.state.rejected429).toBe(0);
  }, 120_000);

  it('renames a topic once for a back-and-forth within the rename delay, to the status it ended in', async () => {
    h.telegram.customerWrites(customer(200), { text: 'hello' });
    const topicId = await topicOf(200);
    h.telegram.operatorWrites(bob, { text: 'hi, how can I help?' }, { threadId: topicId });
    await eventually(() => h.telegram.privateMessages(200).length === 1);
    h.telegram.customerWrites(customer(200), { text: 'my order is late' });
    await eventually(() => groupCalls().some((c) => String(c.params.text).includes('my order is late')));
    h.telegram.operatorWrites(bob, { text: 'checking now' }, { threadId: topicId });
    await eventually(() => h.telegram.privateMessages(200).length === 2);
    await eventually(() => h.telegram.state.topics.get(topicId)?.name.startsWith('⏳'), 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    const renames = groupCalls().filter((c) => c.method === 'editForumTopic' && Number(c.params.message_thread_id) === topicId);
    expect(renames.map((c) => [...String(c.params.name)][0])).toEqual(['⏳']);
  }, 30_000);

  it('does not spend a call on a new-chat alert for a chat an operator took before the alert could go out', async () => {
    // A burst of new chats: their topics and messages come first, the alerts after them.
    for (let id = 300; id < 315; id++) h.telegram.customerWrites(customer(id), { text: `new chat ${id}` });
    const topicId = await topicOf(300);
    h.telegram.operatorWrites(bob, { text: '/take' }, { threadId: topicId });
    const conversation = await eventually(async () => (await ConversationModel.findOne({ chatKey: 'telegram:300', status: 'active' })) ?? undefined, 30_000);
    await eventually(() => groupCalls().filter((c) => String(c.params.text).includes('New chat #')).length >= 10, 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(groupCalls().filter((c) => String(c.params.text).includes(`New chat #${conversation.number} `))).toEqual([]);
    expect(h.telegram.state.rejected429).toBe(0);
  }, 90_000);
});

describe('helper bots', () => {
  const helpers = [
    { token: '222222:HELPER-one', id: 880001, username: 'support_helper_one_bot', status: 'member' as const },
    { token: '333333:HELPER-two', id: 880002, username: 'support_helper_two_bot', status: 'member' as const },
  ];
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: false, groupLimit: TEN_TIMES_FASTER.groupLimit, helpers, env: { RATE_TELEGRAM_PER_GROUP_PER_MINUTE: TEN_TIMES_FASTER.gatewayPerMinute, TELEGRAM_HELPER_BOT_TOKENS: helpers.map((b) => b.token).join(','), DASHBOARD_INTERVAL: '1h' } });
  });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.reset();
    await registerTeam('bob');
  });

  it('spreads relays over every bot in the group, and an answer to a helper bot’s message reaches its customer', async () => {
    for (let id = 400; id < 430; id++) h.telegram.customerWrites(customer(id), { text: `hello from ${id}` });
    const relayOf = (id: number) => h.telegram.groupMessages().find((m) => m.text?.includes(`hello from ${id}`));
    await eventually(() => Array.from({ length: 30 }, (_, i) => relayOf(400 + i)).every(Boolean), 60_000);
    const senders = new Set(Array.from({ length: 30 }, (_, i) => relayOf(400 + i)!.bot));
    expect(senders).toEqual(new Set([h.telegram.bot.id, ...helpers.map((b) => b.id)]));

    const byHelper = Array.from({ length: 30 }, (_, i) => 400 + i).find((id) => relayOf(id)!.bot === helpers[0]!.id)!;
    h.telegram.operatorWrites(bob, { text: 'answered under a helper’s message' }, { replyTo: relayOf(byHelper)!.message_id });
    await eventually(() => h.telegram.privateMessages(byHelper).some((m) => m.text === 'answered under a helper’s message'), 30_000);
    expect(h.telegram.state.rejected429).toBe(0);
  }, 90_000);

  it('keeps buttons on the console’s own bot, which is the one that receives their presses', async () => {
    h.telegram.customerWrites(customer(500), { text: 'a new chat' });
    const alert = await eventually(() => h.telegram.groupMessages().find((m) => m.text?.includes('New chat #')), 30_000);
    expect(alert.reply_markup?.inline_keyboard?.[0]?.[0]?.text).toBe('✋ Take');
    expect(alert.bot).toBe(h.telegram.bot.id);
  }, 40_000);
});

describe('helper bots at start-up', () => {
  it('names the helper bot that is not a member of the operator group, and does not start', async () => {
    const outsider = { token: '444444:HELPER-out', id: 880009, username: 'support_outsider_bot', status: 'left' as const };
    await expect(startTelegramHarness({ helpers: [outsider], env: { TELEGRAM_HELPER_BOT_TOKENS: outsider.token } })).rejects.toThrow('Helper bot @support_outsider_bot is not a member of the operator group');
  });
});
