import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { ConversationModel, OperatorModel, OutboxItemModel } from '../src/db/models/index.js';
import { scaledGroupLimit } from './support/fake-telegram.js';

const TEN_TIMES_FASTER = scaledGroupLimit(10);

/**
 * Telegram allows about 20 messages a minute into one group. To keep the test short, time runs ten times
 * faster here: the fake server allows 20 messages per 6 seconds and the gateway is configured for 200 a minute.
 */
let h: TelegramHarness;
const bob = { id: 2, first_name: 'Bob', username: 'bob_op' };

beforeAll(async () => {
  h = await startTelegramHarness({ forum: true, groupLimit: TEN_TIMES_FASTER.groupLimit, env: { RATE_TELEGRAM_PER_GROUP_PER_MINUTE: TEN_TIMES_FASTER.gatewayPerMinute, DASHBOARD_INTERVAL: '1h' } });
});
afterAll(() => h.stop());
beforeEach(async () => {
  await h.reset();
  await OperatorModel.create({ telegramUserId: bob.id, name: 'Bob', username: 'bob_op', role: 'operator' });
});

describe('Telegram limits', () => {
  it('relays a burst of 200 customer messages into a rate-limited group: all arrive, none twice, in order per chat', async () => {
    const customers = [11, 12, 13, 14].map((id) => ({ id, first_name: `Customer${id}` }));
    for (let i = 0; i < 50; i++) for (const customer of customers) h.telegram.customerWrites(customer, { text: `c${customer.id}-m${String(i).padStart(2, '0')}` });

    const topicText = () => h.telegram.groupMessages().filter((m) => m.message_thread_id !== undefined).map((m) => m.text ?? '').join('\n');
    await eventually(() => customers.every((c) => topicText().includes(`c${c.id}-m49`)), 60_000);
    await eventually(async () => (await OutboxItemModel.countDocuments({ route: 'console', action: 'relay' })) === 0);
    // Relays go to the chats' topics; the General topic's new-chat alerts quote a first message too.
    const groupText = topicText();
    for (const customer of customers) {
      const positions = Array.from({ length: 50 }, (_, i) => {
        const token = `c${customer.id}-m${String(i).padStart(2, '0')}`;
        expect(groupText.split(token).length - 1, `${token} shown exactly once`).toBe(1);
        return groupText.indexOf(token);
      });
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
    expect(await ConversationModel.countDocuments()).toBe(4);
    // Merging the queued messages keeps the whole burst far below 200 sends.
    expect(h.telegram.groupMessages().length).toBeLessThan(100);
    // The gateway's own budget kept it under the server's limit: Telegram never had to refuse.
    expect(h.telegram.state.rejected429).toBe(0);
  }, 90_000);

  it('splits a long customer message without breaking words or HTML', async () => {
    const word = 'a<b>&c ';
    const long = word.repeat(900).trim();
    h.telegram.customerWrites({ id: 21, first_name: 'Long' }, { text: long });
    const conversation = await eventually(() => ConversationModel.findOne({ 'console.topicId': { $exists: true } }));
    const wordsShown = (pieces: Array<{ text?: string }>) => pieces.map((p) => p.text!).join(' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').split('a<b>&c').length - 1;
    // Every word arrives, in pieces that each fit a Telegram message and end outside an HTML entity.
    const pieces = await eventually(() => {
      const sent = h.telegram.groupMessages(conversation.console!.topicId!);
      return wordsShown(sent) === 900 ? sent : undefined;
    });
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) {
      expect(piece.text!.length).toBeLessThanOrEqual(4096);
      expect(piece.text).not.toMatch(/&[a-z]*$/);
    }
  });

  it("splits an operator's long answer for the customer at word boundaries", async () => {
    h.telegram.customerWrites({ id: 22, first_name: 'Reader' }, { text: 'tell me everything' });
    const conversation = await eventually(() => ConversationModel.findOne({ 'console.topicId': { $exists: true } }));
    const answer = Array.from({ length: 1200 }, (_, i) => `word${i}`).join(' ');
    h.telegram.operatorWrites(bob, { text: answer }, { threadId: conversation.console!.topicId! });
    const received = await eventually(() => {
      const sent = h.telegram.privateMessages(22);
      return sent.length >= 3 ? sent : undefined;
    });
    expect(received.every((m) => m.text!.length <= 4096)).toBe(true);
    expect(received.map((m) => m.text).join(' ')).toBe(answer);
  });

  it('waits the retry_after of a 429 before sending to the group again', async () => {
    h.telegram.state.failNext.set('sendMessage', { status: 429, description: 'Too Many Requests: retry after 2', retry_after: 2 });
    h.telegram.customerWrites({ id: 23, first_name: 'Patient' }, { text: 'first' });
    await eventually(() => h.telegram.groupMessages().some((m) => m.text?.includes('first')), 15_000);
    const calls = h.telegram.state.calls.filter((c) => c.method === 'sendMessage');
    const rejectedAt = calls[0]!.at;
    expect(calls[1]!.at - rejectedAt).toBeGreaterThanOrEqual(2000);
  });
});
