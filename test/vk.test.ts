import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator, inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { startFakeVkApi } from './support/fake-vk-api.js';
import { VkChannel } from '../channels/vk.js';
import { loadConfig } from '../src/config.js';
import { createInbox } from '../src/inbox.js';
import { createMetrics } from '../src/metrics.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { recordDeliveryReceipt } from '../src/outbox/delivery-receipts.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { sendSystemMessage } from '../src/conversations/system-message.js';
import { RATING_CHOICES } from '../src/jobs/survey.js';
import { ConversationModel, CustomerModel, MessageModel, OperatorModel, OutboxItemModel } from '../src/db/models/index.js';
import { deleteAnswer, editAnswer, recordCustomerChange } from '../src/conversations/message-changes.js';
import type { Attachment, ChannelSink, ChannelState } from '../src/domain.js';
import { useStoppableDatabase } from './support/stoppable-database.js';

const database = useTestDatabase();
let fake: Awaited<ReturnType<typeof startFakeVkApi>>;
let channel: VkChannel;
let worker: OutboxWorker;
const states: ChannelState[] = [];
const metrics = createMetrics(async () => 0);
const inbox = createInbox({ reopenWindowMs: 24 * 3600_000, logger: testLogger });
const sink: ChannelSink = {
  inbound: async (message) => {
    await inbox.receive(message);
  },
  changed: async (change) => {
    await recordCustomerChange(change);
  },
  deliveryStatus: recordDeliveryReceipt,
  stateChanged: (_kind, state) => states.push(state),
};

beforeAll(async () => {
  fake = await startFakeVkApi();
  fake.state.users.set(1001, { first_name: 'Ivan', last_name: 'Petrov' });
  fake.state.users.set(1002, { first_name: 'Olga', last_name: 'Sidorova' });
  channel = new VkChannel({ token: fake.token, groupId: fake.groupId, apiBaseUrl: fake.apiBaseUrl, logger: testLogger, pollWaitSeconds: 1, reconnect: { baseMs: 50, capMs: 200 }, rejected: metrics.webhookRejected });
  await channel.start(sink);
  worker = new OutboxWorker({ workerId: 'vk-test', deliverers: new Map([['vk', channelDeliverer(channel)]]), logger: testLogger, leaseMs: 10_000, pollIntervalMs: 50, maxAttempts: 5, sendTimeoutMs: 10_000, backoffBaseMs: 50, events: deliveryEvents() });
  worker.start();
});
afterAll(async () => {
  await worker.stop();
  await channel.stop();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  metrics.webhookRejected.reset();
});

/** What /metrics shows as gateway_webhook_rejected_total for VK and this reason. */
async function rejected(reason: string): Promise<number> {
  const { values } = await metrics.webhookRejected.get();
  return values.find((v) => v.labels.channel === 'vk' && v.labels.reason === reason)?.value ?? 0;
}

const CALLBACK_SECRET = 'callback-secret-42';

/** A VK channel on the Callback API, its route on `app` (a server allowing 25 MB, as the gateway's does). */
async function startCallbackChannel(app: FastifyInstance): Promise<VkChannel> {
  const callbackChannel = new VkChannel({ token: fake.token, groupId: fake.groupId, apiBaseUrl: fake.apiBaseUrl, logger: testLogger, callback: { confirmationCode: 'a1b2c3d4', secret: CALLBACK_SECRET }, rejected: metrics.webhookRejected });
  await callbackChannel.registerRoutes(app);
  await callbackChannel.start(sink);
  return callbackChannel;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Queues events and waits until the channel has handled them (it asks the long poll for what comes next). */
async function deliver(...events: Array<Record<string, unknown>>) {
  for (const event of events) fake.pushEvent(event);
  const next = fake.state.events.length + 1;
  await until(() => fake.state.polledTs >= next);
}

/** A conversation with a VK customer and an operator's reply to it, queued for sending. */
async function operatorReplies(peerId: number, text: string, attachments: Attachment[] = []) {
  await inbox.receive(inbound({ channel: 'vk', externalChatId: String(peerId), profile: { name: 'Known Name' } }));
  const conversation = (await ConversationModel.findOne())!;
  return replyToCustomer({ conversation, operator: await createOperator(), text, attachments });
}

/** Every reply has a final delivery status (the outbox settles the item first, then records it on the message). */
const settled = async () =>
  (await OutboxItemModel.countDocuments({ route: 'vk', status: 'pending' })) === 0 && (await MessageModel.countDocuments({ direction: 'out', 'delivery.status': 'pending' })) === 0;

describe('VK channel, Bots Long Poll', () => {
  it('is up once the long poll is connected', async () => {
    await until(() => channel.state() === 'up');
    expect(states[0]).toBe('starting');
    expect(states).toContain('up');
  });

  it('stores a customer message once even when VK delivers the same event twice', async () => {
    const event = fake.messageNew(1001, { text: 'Здравствуйте, заказ не пришёл' });
    await deliver(event, event);

    expect(await MessageModel.countDocuments({ direction: 'in' })).toBe(1);
    expect(await ConversationModel.countDocuments()).toBe(1);
    const message = await MessageModel.findOne({ direction: 'in' });
    expect(message).toMatchObject({ channel: 'vk', text: 'Здравствуйте, заказ не пришёл', externalId: String(event.object.message.id) });
  });

  it("fetches the customer's name with users.get once and keeps it on the customer", async () => {
    await deliver(fake.messageNew(1002, { text: 'first' }));
    await deliver(fake.messageNew(1002, { text: 'second' }), fake.messageNew(1002, { text: 'third' }));

    expect(fake.state.calls.filter((c) => c.method === 'users.get')).toHaveLength(1);
    expect(await CustomerModel.findOne({ channel: 'vk', externalChatId: '1002' }).lean()).toMatchObject({ name: 'Olga Sidorova' });
    expect(await MessageModel.countDocuments({ direction: 'in' })).toBe(3);
  });

  it("takes the customer's language from their VK app (client_info.lang_id), for the gateway's messages to them", async () => {
    const languageOf = async () => (await CustomerModel.findOne({ channel: 'vk', externalChatId: '1001' }).lean())?.language;
    const event = fake.messageNew(1001, { text: 'ok' });
    await deliver({ ...event, object: { ...event.object, client_info: { ...event.object.client_info, lang_id: 3 } } });
    await until(async () => (await languageOf()) === 'en');
    await deliver(fake.messageNew(1001, { text: 'ok' }));
    await until(async () => (await languageOf()) === 'ru');
  });

  it('turns photos, documents, voice messages, stickers and locations into attachments', async () => {
    await deliver(
      fake.messageNew(1001, {
        text: 'see attached',
        attachments: [
          { type: 'photo', photo: { id: 11, owner_id: 1001, sizes: [{ type: 's', url: 'https://sun.userapi.com/small.jpg', width: 75, height: 75 }, { type: 'x', url: 'https://sun.userapi.com/big.jpg', width: 604, height: 604 }] } },
          { type: 'doc', doc: { id: 12, owner_id: 1001, title: 'invoice', ext: 'pdf', size: 2048, url: 'https://vk.com/doc1001_12' } },
          { type: 'audio_message', audio_message: { id: 13, owner_id: 1001, duration: 4, link_ogg: 'https://psv4.userapi.com/voice.ogg', link_mp3: 'https://psv4.userapi.com/voice.mp3' } },
          { type: 'sticker', sticker: { sticker_id: 14, product_id: 1, images: [{ url: 'https://vk.com/sticker/1-14-128', width: 128, height: 128 }, { url: 'https://vk.com/sticker/1-14-512', width: 512, height: 512 }] } },
        ],
        geo: { type: 'point', coordinates: { latitude: 55.75, longitude: 37.61 } },
      }),
    );

    const message = (await MessageModel.findOne({ direction: 'in' }).lean())!;
    expect(message.text).toBe('see attached');
    expect(message.attachments).toEqual([
      expect.objectContaining({ kind: 'photo', ref: 'vk:https://sun.userapi.com/big.jpg' }),
      expect.objectContaining({ kind: 'document', fileName: 'invoice.pdf', size: 2048, ref: 'vk:https://vk.com/doc1001_12' }),
      expect.objectContaining({ kind: 'voice', mimeType: 'audio/ogg', ref: 'vk:https://psv4.userapi.com/voice.ogg' }),
      expect.objectContaining({ kind: 'sticker', ref: 'vk:https://vk.com/sticker/1-14-512' }),
      expect.objectContaining({ kind: 'location', location: { latitude: 55.75, longitude: 37.61 } }),
    ]);
  });

  it('ignores the community\'s own messages and messages in group chats', async () => {
    await deliver(fake.messageNew(1001, { text: 'our own reply', out: 1 }), fake.messageNew(1001, { text: 'in a chat', peer_id: 2000000001 }));
    expect(await MessageModel.countDocuments()).toBe(0);
  });

  it('skips the events it cannot read, counts them, and stores the rest of the batch', async () => {
    await deliver({ nonsense: true }, { type: 'message_new', group_id: fake.groupId, object: { message: { text: 'no id, no author' } } }, fake.messageNew(1001, { text: 'the readable one' }));
    expect(await MessageModel.find({ direction: 'in' }).lean()).toEqual([expect.objectContaining({ text: 'the readable one' })]);
    expect(await rejected('unreadable')).toBe(2);
  });

  it('asks users.get once for a burst from a new customer while it fails, and stores every message', async () => {
    fake.failNext('users.get', 10, 10, 10, 10);
    await deliver(fake.messageNew(1003, { text: 'one' }), fake.messageNew(1003, { text: 'two' }), fake.messageNew(1003, { text: 'three' }));
    expect(fake.state.calls.filter((c) => c.method === 'users.get')).toHaveLength(1);
    expect(await MessageModel.countDocuments({ direction: 'in' })).toBe(3);
  });

  it('reports down once while the long poll fails, reconnects with backoff and then delivers what arrived meanwhile', async () => {
    await until(() => channel.state() === 'up');
    const before = states.length;
    fake.state.longPollDown = true;
    fake.pushEvent(fake.messageNew(1001, { text: 'written during the outage' }));
    await until(() => channel.state() === 'down');
    // Several failed attempts pass (backoff 50-200 ms), still one 'down'.
    await new Promise((r) => setTimeout(r, 600));
    fake.state.longPollDown = false;
    await until(() => channel.state() === 'up');
    await until(async () => (await MessageModel.countDocuments({ text: 'written during the outage' })) === 1);
    expect(states.slice(before)).toEqual(['down', 'up']);
  });
});

describe('VK channel, restarted', () => {
  it('goes on from its stored long-poll position: messages that arrived while the gateway was stopped are stored', async () => {
    await deliver(fake.messageNew(1001, { text: 'before the restart' }));
    await until(async () => (await MessageModel.countDocuments({ text: 'before the restart' })) === 1);
    await channel.stop();
    fake.pushEvent(fake.messageNew(1001, { text: 'while the gateway was stopped' }));
    channel = new VkChannel({ token: fake.token, groupId: fake.groupId, apiBaseUrl: fake.apiBaseUrl, logger: testLogger, pollWaitSeconds: 1, reconnect: { baseMs: 50, capMs: 200 }, rejected: metrics.webhookRejected });
    await channel.start(sink);
    await until(async () => (await MessageModel.countDocuments({ text: 'while the gateway was stopped' })) === 1);
    expect(await MessageModel.countDocuments({ text: 'before the restart' })).toBe(1);
  });
});

describe('VK channel, sending', () => {
  it('gives the same random_id to every try of one outbox item, so a retry after "too many requests" is delivered once', async () => {
    fake.failNext('messages.send', 6);
    const reply = await operatorReplies(1001, 'Your order ships today');
    await until(settled);

    const sends = fake.state.sends;
    expect(sends.map((s) => s.answer)).toEqual(['error 6', 'sent']);
    expect(sends[0]!.random_id).toBe(sends[1]!.random_id);
    // Delivered items leave the outbox, so the id is checked by its shape: a positive 31-bit integer.
    expect(Number.isInteger(sends[0]!.random_id) && sends[0]!.random_id > 0 && sends[0]!.random_id < 2 ** 31).toBe(true);
    expect(fake.state.delivered).toEqual([expect.objectContaining({ peer_id: 1001, message: 'Your order ships today' })]);
    expect(await MessageModel.findById(reply._id).lean()).toMatchObject({ delivery: { status: 'sent' }, externalId: String(fake.state.delivered[0]!.id) });
  });

  it('offers answers as a one-time keyboard of text buttons', async () => {
    await inbox.receive(inbound({ channel: 'vk', externalChatId: '1001', profile: { name: 'Known Name' } }));
    const conversation = (await ConversationModel.findOne())!;
    await sendSystemMessage(conversation, 'Rate us 1 to 5', { quickReplies: RATING_CHOICES });
    await until(settled);
    const sent = fake.state.sends.at(-1)!;
    expect(sent.message).toBe('Rate us 1 to 5');
    expect(JSON.parse(String(sent.keyboard))).toEqual({ one_time: true, buttons: [RATING_CHOICES.map((label) => ({ action: { type: 'text', label }, color: 'secondary' }))] });
  });

  it('VK drops a repeated random_id: the same item sent twice reaches the customer once', async () => {
    const first = await channel.send('1001', { text: 'once', attachments: [] }, { idempotencyKey: 'item-1' });
    const again = await channel.send('1001', { text: 'once', attachments: [] }, { idempotencyKey: 'item-1' });
    expect(again.externalMessageId).toBe(first.externalMessageId);
    expect(fake.state.delivered).toHaveLength(1);
  });

  it('fails for good, with the reason, when the customer blocked messages from the community', async () => {
    fake.state.blocked.add(1001);
    const reply = await operatorReplies(1001, 'Are you still there?');
    await until(settled);

    expect(fake.state.sends).toHaveLength(1);
    const stored = (await MessageModel.findById(reply._id).lean())!;
    expect(stored.delivery?.status).toBe('failed');
    expect(stored.delivery?.error).toMatch(/blocked messages from the community.*901/);
    expect(await CustomerModel.findOne({ externalChatId: '1001' }).lean()).toMatchObject({ unreachable: true });
  });

  it('uploads a photo through VK\'s upload flow and sends it as an attachment', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await operatorReplies(1001, 'Here is the receipt', [{ kind: 'photo', fileName: 'receipt.png', mimeType: 'image/png', dataBase64: png.toString('base64') }]);
    await until(settled);

    const methods = fake.state.calls.map((c) => c.method).filter((m) => m !== 'groups.getLongPollServer');
    expect(methods).toEqual(['photos.getMessagesUploadServer', 'photos.saveMessagesPhoto', 'messages.send']);
    expect(fake.state.uploads).toEqual([{ kind: 'photo', field: 'photo', fileName: 'receipt.png', size: png.length }]);
    expect(fake.state.delivered).toEqual([expect.objectContaining({ message: 'Here is the receipt', attachment: expect.stringMatching(/^photo-4242_\d+_ak\d+$/) })]);
  });

  it('uploads documents through docs.getMessagesUploadServer and docs.save', async () => {
    await operatorReplies(1001, '', [{ kind: 'document', fileName: 'contract.pdf', mimeType: 'application/pdf', dataBase64: Buffer.from('%PDF-1.4').toString('base64') }]);
    await until(settled);

    expect(fake.state.calls.map((c) => c.method)).toEqual(expect.arrayContaining(['docs.getMessagesUploadServer', 'docs.save']));
    expect(fake.state.calls.find((c) => c.method === 'docs.save')?.params.title).toBe('contract.pdf');
    expect(fake.state.delivered).toEqual([expect.objectContaining({ attachment: expect.stringMatching(/^doc-4242_\d+$/) })]);
  });
});

describe('VK channel, long replies', () => {
  it('sends more than 10 attachments in further messages, each with its own stable random_id', async () => {
    const files: Attachment[] = Array.from({ length: 11 }, (_, i) => ({ kind: 'document', fileName: `page${i + 1}.pdf`, dataBase64: Buffer.from(`page ${i + 1}`).toString('base64') }));
    await channel.send('1001', { text: 'All pages', attachments: files }, { idempotencyKey: 'many-files' });

    expect(fake.state.delivered.map((m) => [m.message, m.attachment?.split(',').length])).toEqual([
      ['All pages', 10],
      [undefined, 1],
    ]);
    expect(new Set(fake.state.sends.map((s) => s.random_id)).size).toBe(2);
  });
});

describe('VK channel, edits and deletions', () => {
  /** An operator's answer that reached the customer, with the operator who wrote it. */
  async function sentAnswer(text: string) {
    const reply = await operatorReplies(1001, text);
    await until(settled);
    const operator = (await OperatorModel.findById(reply.author!.operatorId))!;
    return { message: (await MessageModel.findById(reply._id))!, operator };
  }

  it("changes the customer's copy with messages.edit when an operator edits the answer", async () => {
    const { message, operator } = await sentAnswer('Доставка в понедельник');
    await editAnswer(message, operator, 'Доставка во вторник');
    await until(() => fake.state.edited.length === 1);
    expect(fake.state.edited[0]).toEqual({ peer_id: 1001, message_id: Number(message.externalId), message: 'Доставка во вторник' });
    expect(fake.state.delivered.filter((m) => m.peer_id === 1001)).toHaveLength(1);
    expect((await MessageModel.findById(message._id))!.versions.map((v) => v.text)).toEqual(['Доставка в понедельник']);
  });

  it('sends a correction quoting the new text when VK says the answer is too old to edit', async () => {
    const { message, operator } = await sentAnswer('Price: 100');
    fake.failNext('messages.edit', 909);
    await editAnswer(message, operator, 'Price: 120');
    await until(() => fake.state.delivered.some((m) => m.message?.includes('Price: 120')));
    expect(fake.state.delivered.at(-1)!.message).toBe('Correction to our previous message:\nPrice: 120');
    expect(fake.state.edited).toHaveLength(0);
  });

  it('sends that correction in Russian to a customer whose VK app is in Russian', async () => {
    await until(() => channel.state() === 'up');
    await deliver(fake.messageNew(1001, { text: 'ok' }));
    await until(async () => (await CustomerModel.findOne({ channel: 'vk', externalChatId: '1001' }).lean())?.language === 'ru');
    const { message, operator } = await sentAnswer('Цена: 100');
    fake.failNext('messages.edit', 909);
    await editAnswer(message, operator, 'Цена: 120');
    await until(() => fake.state.delivered.some((m) => m.message?.includes('Цена: 120')));
    expect(fake.state.delivered.at(-1)!.message).toBe('Исправление к нашему предыдущему сообщению:\nЦена: 120');
  });

  it('deletes the answer for the customer too with messages.delete', async () => {
    const { message, operator } = await sentAnswer('Not for you');
    await deleteAnswer(message, operator);
    await until(() => fake.state.deleted.length === 1);
    expect(fake.state.deleted[0]).toEqual({ peer_id: 1001, message_id: Number(message.externalId) });
    expect(fake.state.calls.find((c) => c.method === 'messages.delete')?.params.delete_for_all).toBe('1');
  });

  it("stores a customer's message_edit as a new version and asks the console to show it", async () => {
    const event = fake.messageNew(1001, { text: 'Заказ 123' });
    await deliver(event);
    await deliver(fake.messageEdit(event, 'Заказ 124'));
    const stored = (await MessageModel.findOne({ direction: 'in' }))!;
    expect(stored.text).toBe('Заказ 124');
    expect(stored.versions.map((v) => ({ text: v.text, by: v.by.kind }))).toEqual([{ text: 'Заказ 123', by: 'customer' }]);
    expect(await OutboxItemModel.countDocuments({ action: 'messageChanged', message: stored._id })).toBe(1);
  });
});

describe('VK channel, Callback API', () => {
  let callbackChannel: VkChannel;
  const app = Fastify({ bodyLimit: 25 * 1024 * 1024 });
  beforeAll(async () => {
    callbackChannel = await startCallbackChannel(app);
  });
  afterAll(async () => {
    await callbackChannel.stop();
    await app.close();
  });

  it('answers the confirmation request with the confirmation code', async () => {
    const response = await app.inject({ method: 'POST', url: '/webhooks/vk', payload: { type: 'confirmation', group_id: fake.groupId } });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('a1b2c3d4');
  });

  it('stores an event with the right secret and answers ok', async () => {
    const response = await app.inject({ method: 'POST', url: '/webhooks/vk', payload: { ...fake.messageNew(1001, { text: 'via callback' }), secret: 'callback-secret-42' } });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('ok');
    expect(await MessageModel.findOne({ direction: 'in' }).lean()).toMatchObject({ text: 'via callback', channel: 'vk' });
    expect(callbackChannel.state()).toBe('up');
  });

  it('rejects an event with a wrong or missing secret and stores nothing', async () => {
    const wrong = await app.inject({ method: 'POST', url: '/webhooks/vk', payload: { ...fake.messageNew(1001, { text: 'forged' }), secret: 'guess' } });
    const missing = await app.inject({ method: 'POST', url: '/webhooks/vk', payload: fake.messageNew(1001, { text: 'forged too' }) });
    expect([wrong.statusCode, missing.statusCode]).toEqual([403, 403]);
    expect(await MessageModel.countDocuments()).toBe(0);
    expect(await CustomerModel.countDocuments()).toBe(0);
    expect(await rejected('bad_signature')).toBe(2);
  });

  it('answers ok to bodies it cannot read (VK resends anything else), stores nothing and counts them', async () => {
    const post = (payload: string) => app.inject({ method: 'POST', url: '/webhooks/vk', payload, headers: { 'content-type': 'application/json' } });
    const bodies = ['{"type": "message_new", "obj', 'null', JSON.stringify({ type: 5 }), JSON.stringify({ type: 'message_new', group_id: fake.groupId, object: { message: { text: 'no id, no author' } }, secret: CALLBACK_SECRET })];
    for (const body of bodies) {
      const response = await post(body);
      expect([response.statusCode, response.body]).toEqual([200, 'ok']);
    }
    expect(await MessageModel.countDocuments()).toBe(0);
    expect(await rejected('unreadable')).toBe(4);
  });

  it('refuses a body over its limit with 413 and stores nothing', async () => {
    const response = await app.inject({ method: 'POST', url: '/webhooks/vk', payload: { ...fake.messageNew(1001, { text: 'x'.repeat(2 * 1024 * 1024) }), secret: CALLBACK_SECRET } });
    expect(response.statusCode).toBe(413);
    expect(await MessageModel.countDocuments()).toBe(0);
    expect(await rejected('too_large')).toBe(1);
  });
});

describe('VK channel while the database is down', () => {
  const outage = useStoppableDatabase('outage', { returnTo: database });
  let callbackChannel: VkChannel;
  const app = Fastify({ bodyLimit: 25 * 1024 * 1024 });
  beforeAll(async () => {
    callbackChannel = await startCallbackChannel(app);
  });
  afterAll(async () => {
    await callbackChannel.stop();
    await app.close();
  });

  it('long poll: keeps its position on the events it could not store, and stores them once the database is back', async () => {
    await until(() => channel.state() === 'up');
    const first = fake.state.events.length + 1;
    await outage.stop();
    try {
      fake.pushEvent(fake.messageNew(1001, { text: 'written while the database was down' }));
      fake.pushEvent(fake.messageNew(1001, { text: 'and one more' }));
      // The channel got the events...
      await until(() => fake.state.batches.some((batch) => batch.ts === first));
      // ...and, unable to store them, asks for nothing after them (ts stays) while VK itself is fine.
      await new Promise((r) => setTimeout(r, 1500));
      expect(fake.state.polledTs).toBe(first);
      expect(channel.state()).toBe('up');
    } finally {
      await outage.start();
    }
    await until(() => fake.state.polledTs === first + 2, 30_000);
    expect((await MessageModel.find({ direction: 'in' }).sort({ sentAt: 1, createdAt: 1 }).lean()).map((m) => m.text)).toEqual(['written while the database was down', 'and one more']);
  });

  it('Callback API: answers 500 to an event it could not store, so VK sends it again, and stores it once when it does', async () => {
    const post = () => app.inject({ method: 'POST', url: '/webhooks/vk', payload: { ...event, secret: CALLBACK_SECRET } });
    const event = fake.messageNew(1001, { text: 'posted while the database was down' });
    await outage.stop();
    try {
      const during = await post();
      expect([during.statusCode, during.body]).toEqual([500, 'retry']);
    } finally {
      await outage.start();
    }
    await until(async () => (await post()).body === 'ok', 30_000);
    await post();
    expect(await MessageModel.countDocuments({ direction: 'in', text: 'posted while the database was down' })).toBe(1);
  });
});

describe('VK configuration', () => {
  it('is off without a token, and refuses the Callback API without a secret', () => {
    expect(loadConfig({}).vk).toBeUndefined();
    expect(loadConfig({ VK_TOKEN: 'token', VK_GROUP_ID: '4242' }).vk).toEqual({ token: 'token', groupId: 4242, apiBaseUrl: 'https://api.vk.com/method', callback: undefined });
    expect(() => loadConfig({ VK_TOKEN: 'token' })).toThrow(/VK_GROUP_ID: required/);
    expect(() => loadConfig({ VK_TOKEN: 'token', VK_GROUP_ID: '4242', VK_CONFIRMATION_CODE: 'a1b2' })).toThrow(/VK_CALLBACK_SECRET: required/);
  });
});
