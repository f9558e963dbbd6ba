import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { startFakeGraphApi } from './support/fake-graph-api.js';
import { MessengerChannel, OUTSIDE_HUMAN_AGENT_WINDOW } from '../channels/messenger.js';
import { loadConfig } from '../src/config.js';
import { createInbox } from '../src/inbox.js';
import { createMetrics } from '../src/metrics.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { recordDeliveryReceipt } from '../src/outbox/delivery-receipts.js';
import { deleteAnswer, editAnswer, recordCustomerChange } from '../src/conversations/message-changes.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { sendSystemMessage } from '../src/conversations/system-message.js';
import { RATING_CHOICES } from '../src/jobs/survey.js';
import { ConversationModel, CustomerModel, MessageModel, OperatorModel, OutboxItemModel } from '../src/db/models/index.js';
import type { Attachment, ChannelSink } from '../src/domain.js';
import { customerMessagesAsRelayed } from './support/messages.js';
import { useStoppableDatabase } from './support/stoppable-database.js';

const database = useTestDatabase();
const HOUR = 3600_000;
const inbox = createInbox({ reopenWindowMs: 24 * HOUR, logger: testLogger });
const sink: ChannelSink = {
  inbound: async (message) => {
    await inbox.receive(message);
  },
  changed: async (change) => {
    await recordCustomerChange(change);
  },
  deliveryStatus: recordDeliveryReceipt,
};
let graph: Awaited<ReturnType<typeof startFakeGraphApi>>;
let channel: MessengerChannel;
let worker: OutboxWorker;
const metrics = createMetrics(async () => 0);
// The gateway's server allows 25 MB (web chat uploads); the webhook route must hold its own, smaller limit.
const app = Fastify({ bodyLimit: 25 * 1024 * 1024 });

beforeAll(async () => {
  graph = await startFakeGraphApi();
  channel = new MessengerChannel({ pageToken: graph.pageToken, appSecret: graph.appSecret, verifyToken: 'verify-me-please', graphApiBaseUrl: graph.graphApiBaseUrl, logger: testLogger, rejected: metrics.webhookRejected });
  await channel.registerRoutes(app);
  app.post('/another-route', async (request) => ({ parsed: request.body }));
  await channel.start(sink);
  worker = new OutboxWorker({ workerId: 'messenger-test', deliverers: new Map([['messenger', channelDeliverer(channel)]]), logger: testLogger, leaseMs: 10_000, pollIntervalMs: 50, maxAttempts: 5, sendTimeoutMs: 10_000, backoffBaseMs: 50, events: deliveryEvents() });
  worker.start();
});
afterAll(async () => {
  await worker.stop();
  await channel.stop();
  await app.close();
  await graph.close();
});
beforeEach(() => {
  graph.reset();
  graph.state.profiles.set('9001', { first_name: 'Jane', last_name: 'Doe', locale: 'en_GB' });
  metrics.webhookRejected.reset();
});

/** What /metrics shows as gateway_webhook_rejected_total for Messenger and this reason. */
async function rejected(reason: string): Promise<number> {
  const { values } = await metrics.webhookRejected.get();
  return values.find((v) => v.labels.channel === 'messenger' && v.labels.reason === reason)?.value ?? 0;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function postWebhook(signed: { body: string; headers: Record<string, string> }) {
  return app.inject({ method: 'POST', url: '/webhooks/messenger', payload: signed.body, headers: signed.headers });
}

/** The customer wrote (at `at`), an operator answers; resolves with the stored reply once the outbox settled it. */
async function customerWroteThenOperatorReplies(at: number, text = 'Thanks, looking into it', attachments: Attachment[] = [], customer = '9001') {
  expect((await postWebhook(graph.webhook([graph.customerMessage(customer, { text: 'Where is my parcel?' }, at)]))).statusCode).toBe(200);
  const conversation = (await ConversationModel.findOne())!;
  const reply = await replyToCustomer({ conversation, operator: await createOperator(), text, attachments });
  // The outbox settles the item first, then records the delivery status on the message.
  await until(async () => (await MessageModel.findById(reply._id).lean())?.delivery?.status !== 'pending');
  return (await MessageModel.findById(reply._id).lean())!;
}

describe('Messenger webhook', () => {
  it('answers the verify handshake with the challenge, and refuses a wrong verify token', async () => {
    const ok = await app.inject({ method: 'GET', url: '/webhooks/messenger?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('1158201444');
    const wrong = await app.inject({ method: 'GET', url: '/webhooks/messenger?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).not.toContain('1158201444');
  });

  it('rejects a forged or missing signature and stores nothing', async () => {
    const forged = graph.webhook([graph.customerMessage('9001', { text: 'forged' })], 'not-the-app-secret');
    expect((await postWebhook(forged)).statusCode).toBe(403);
    const genuine = graph.webhook([graph.customerMessage('9001', { text: 'tampered' })]);
    expect((await postWebhook({ body: genuine.body.replace('tampered', 'TAMPERED'), headers: genuine.headers })).statusCode).toBe(403);
    expect((await postWebhook({ body: genuine.body, headers: { 'content-type': 'application/json' } })).statusCode).toBe(403);

    expect(await MessageModel.countDocuments()).toBe(0);
    expect(await CustomerModel.countDocuments()).toBe(0);
    expect(await rejected('bad_signature')).toBe(3);
  });

  it('stores messages, attachments and button presses, with the name from the profile API asked once', async () => {
    const response = await postWebhook(
      graph.webhook([
        graph.customerMessage('9001', { text: 'Hello, my order #123 is late' }),
        graph.customerMessage('9001', {
          attachments: [
            { type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/photo.jpg' } },
            { type: 'file', payload: { url: 'https://cdn.fbsbx.com/v/t59/invoice%20march.pdf' } },
            { type: 'location', payload: { coordinates: { lat: 52.52, long: 13.405 } } },
          ],
        }),
        graph.customerPressed('9001', { title: 'Talk to a human', payload: 'HUMAN_PLEASE' }),
      ]),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('EVENT_RECEIVED');

    const messages = await customerMessagesAsRelayed();
    expect(messages.map((m) => m.text)).toEqual(['Hello, my order #123 is late', '', 'Talk to a human']);
    expect(messages[1]!.attachments).toEqual([
      expect.objectContaining({ kind: 'photo', ref: 'fb:https://scontent.xx.fbcdn.net/v/photo.jpg' }),
      expect.objectContaining({ kind: 'document', fileName: 'invoice march.pdf' }),
      expect.objectContaining({ kind: 'location', location: { latitude: 52.52, longitude: 13.405 } }),
    ]);
    expect(messages[2]!.meta).toEqual([expect.objectContaining({ name: 'postbackPayload', value: 'HUMAN_PLEASE' })]);
    expect(await ConversationModel.countDocuments()).toBe(1);
    expect(await CustomerModel.findOne({ channel: 'messenger', externalChatId: '9001' }).lean()).toMatchObject({ name: 'Jane Doe', language: 'en_GB' });
    expect(graph.state.profileRequests).toEqual(['9001']);
  });

  it('stores a message once when Facebook delivers the same webhook twice', async () => {
    const signed = graph.webhook([graph.customerMessage('9001', { text: 'only once' })]);
    await postWebhook(signed);
    await postWebhook(signed);
    expect(await MessageModel.countDocuments({ text: 'only once' })).toBe(1);
  });

  it('leaves the JSON parsing of other routes alone', async () => {
    const response = await app.inject({ method: 'POST', url: '/another-route', payload: { a: 1 } });
    expect(response.json()).toEqual({ parsed: { a: 1 } });
  });
});

describe('Messenger webhook, payloads it cannot read', () => {
  it('acknowledges a signed payload it cannot read, so Facebook stops resending it, and counts it', async () => {
    const unreadable = [
      'null',
      '{"object":"page","entry":{"id":"1"}}',
      '{"object":"page","entry":[',
      JSON.stringify({ object: 'page', entry: [{ id: graph.pageId, time: Date.now(), messaging: [null] }] }),
    ];
    for (const body of unreadable) {
      const response = await postWebhook(graph.signed(body));
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe('EVENT_RECEIVED');
    }
    expect(await MessageModel.countDocuments()).toBe(0);
    expect(await rejected('unreadable')).toBe(4);
  });

  it('stores the readable events of a batch once and skips the one it cannot read', async () => {
    const signed = graph.webhook([{ sender: { id: 9002 }, surprise: 'an event of a shape nobody documented' }, graph.customerMessage('9002', { text: 'my order is late' })]);
    const response = await postWebhook(signed);
    expect(response.statusCode).toBe(200);
    expect(await MessageModel.find({ direction: 'in' }).lean()).toEqual([expect.objectContaining({ text: 'my order is late' })]);
    expect(await rejected('unreadable')).toBe(1);
  });

  it('skips an event whose handling can never succeed and still stores the rest of the batch', async () => {
    // A timestamp no date can hold: storing it fails the same way however often Facebook sends it.
    const response = await postWebhook(graph.webhook([graph.customerMessage('9002', { text: 'from the far future' }, 1e20), graph.customerMessage('9002', { text: 'from today' })]));
    expect(response.statusCode).toBe(200);
    expect((await MessageModel.find({ direction: 'in' }).lean()).map((m) => m.text)).toEqual(['from today']);
    expect(await rejected('handler_error')).toBe(1);
  });

  it('refuses a body over the webhook limit with 413 before looking at its signature', async () => {
    const huge = graph.webhook([graph.customerMessage('9002', { text: 'x'.repeat(5 * 1024 * 1024) })]);
    expect((await postWebhook(huge)).statusCode).toBe(413);
    // A forged one gets the same answer: the signature (an HMAC over 5 MB) was never computed.
    expect((await postWebhook({ body: huge.body, headers: { ...huge.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } })).statusCode).toBe(413);
    expect(await MessageModel.countDocuments()).toBe(0);
    expect([await rejected('too_large'), await rejected('bad_signature')]).toEqual([2, 0]);
  });

  it('asks the profile API once for a burst of 20 messages from a new customer while it fails, and stores all 20', async () => {
    graph.state.profileDown = true;
    graph.state.profileDelayMs = 100;
    const burst = Array.from({ length: 20 }, (_, i) => graph.webhook([graph.customerMessage('9003', { text: `message ${i + 1}` })]));
    const answers = await Promise.all(burst.map((signed) => postWebhook(signed)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(graph.state.profileRequests).toEqual(['9003']);
    expect(await MessageModel.countDocuments({ direction: 'in' })).toBe(20);
    expect(await ConversationModel.countDocuments()).toBe(1);
    // A later message within a few minutes doesn't ask again either.
    await postWebhook(graph.webhook([graph.customerMessage('9003', { text: 'still there?' })]));
    expect(graph.state.profileRequests).toEqual(['9003']);
  });
});

describe('Messenger webhook while the database is down', () => {
  const outage = useStoppableDatabase('outage', { returnTo: database });

  it('answers 500 so Facebook sends the batch again, and stores it once when it does', async () => {
    const signed = graph.webhook([graph.customerMessage('9004', { text: 'sent during the outage' })]);
    await outage.stop();
    try {
      const during = await postWebhook(signed);
      expect(during.statusCode).toBe(500);
    } finally {
      await outage.start();
    }
    await until(async () => (await postWebhook(signed)).statusCode === 200);
    await postWebhook(signed);
    expect(await MessageModel.countDocuments({ direction: 'in', text: 'sent during the outage' })).toBe(1);
    expect(await rejected('handler_error')).toBe(0);
  });
});

describe('Messenger replies', () => {
  it('inside 24 hours of the last customer message: sent as RESPONSE', async () => {
    const reply = await customerWroteThenOperatorReplies(Date.now() - 2 * HOUR);
    expect(graph.state.sends).toEqual([expect.objectContaining({ recipient: { id: '9001' }, messaging_type: 'RESPONSE', message: { text: 'Thanks, looking into it' }, answer: 'sent' })]);
    expect(reply).toMatchObject({ delivery: { status: 'sent' }, externalId: 'm_page1' });
  });

  it('offers answers as quick replies on the message', async () => {
    await postWebhook(graph.webhook([graph.customerMessage('9001', { text: 'Where is my parcel?' }, Date.now() - HOUR)]));
    const conversation = (await ConversationModel.findOne())!;
    const asked = await sendSystemMessage(conversation, 'Rate us 1 to 5', { quickReplies: RATING_CHOICES });
    await until(async () => (await MessageModel.findById(asked._id).lean())?.delivery?.status === 'sent');
    expect(graph.state.sends.at(-1)!.message).toEqual({ text: 'Rate us 1 to 5', quick_replies: RATING_CHOICES.map((title) => ({ content_type: 'text', title, payload: title })) });
  });

  it('between 24 hours and 7 days: sent with the HUMAN_AGENT message tag', async () => {
    const reply = await customerWroteThenOperatorReplies(Date.now() - 30 * HOUR);
    expect(graph.state.sends).toEqual([expect.objectContaining({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', answer: 'sent' })]);
    expect(reply.delivery?.status).toBe('sent');
  });

  it('beyond 7 days: refused with the reason for the operators, and nothing is sent', async () => {
    const reply = await customerWroteThenOperatorReplies(Date.now() - 8 * 24 * HOUR);
    expect(graph.state.sends).toEqual([]);
    expect(reply.delivery).toMatchObject({ status: 'failed', error: OUTSIDE_HUMAN_AGENT_WINDOW });
    expect(await CustomerModel.findOne({ externalChatId: '9001' }).lean()).toMatchObject({ unreachable: false });
  });

  it('a person who blocked the page: failed for good with the reason', async () => {
    graph.state.unavailable.add('9001');
    const reply = await customerWroteThenOperatorReplies(Date.now() - HOUR);
    expect(graph.state.sends).toHaveLength(1);
    expect(reply.delivery?.status).toBe('failed');
    expect(reply.delivery?.error).toMatch(/isn't available.*551/);
  });

  it('a Graph rate limit (613) puts the send off instead of failing it', async () => {
    graph.state.failNext.push({ status: 400, code: 613, message: '(#613) Calls to this api have exceeded the rate limit.' });
    await postWebhook(graph.webhook([graph.customerMessage('9001', { text: 'hi' })]));
    const conversation = (await ConversationModel.findOne())!;
    await replyToCustomer({ conversation, operator: await createOperator(), text: 'later' });
    await until(async () => (await OutboxItemModel.findOne({ route: 'messenger' }).lean())?.lastError !== undefined);
    const item = (await OutboxItemModel.findOne({ route: 'messenger' }).lean())!;
    expect(item).toMatchObject({ status: 'pending', attempts: 0 });
    expect(item.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
  });

  it('uploads a photo with the message as multipart filedata', async () => {
    const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex');
    await customerWroteThenOperatorReplies(Date.now() - HOUR, 'Label attached', [{ kind: 'photo', fileName: 'label.jpg', mimeType: 'image/jpeg', dataBase64: jpeg.toString('base64') }]);
    expect(graph.state.sends).toEqual([
      expect.objectContaining({ messaging_type: 'RESPONSE', message: { attachment: { type: 'image', payload: { is_reusable: false } } }, file: { name: 'label.jpg', size: jpeg.length, type: 'image/jpeg' } }),
      expect.objectContaining({ message: { text: 'Label attached' } }),
    ]);
  });

  it('delivery and read events move the reply to delivered, then read', async () => {
    const reply = await customerWroteThenOperatorReplies(Date.now() - HOUR);
    const delivered = await postWebhook(graph.webhook([{ sender: { id: '9001' }, recipient: { id: graph.pageId }, delivery: { mids: [reply.externalId], watermark: Date.now() } }]));
    expect(delivered.statusCode).toBe(200);
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('delivered');

    await postWebhook(graph.webhook([{ sender: { id: '9001' }, recipient: { id: graph.pageId }, timestamp: Date.now(), read: { watermark: Date.now() } }]));
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('read');
  });

  it('a read watermark alone marks every earlier reply read', async () => {
    const reply = await customerWroteThenOperatorReplies(Date.now() - HOUR);
    await postWebhook(graph.webhook([{ sender: { id: '9001' }, recipient: { id: graph.pageId }, timestamp: Date.now(), read: { watermark: reply.createdAt.getTime() - 1 } }]));
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('sent');
    await postWebhook(graph.webhook([{ sender: { id: '9001' }, recipient: { id: graph.pageId }, timestamp: Date.now(), read: { watermark: Date.now() } }]));
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('read');
  });
});

describe('Messenger edits and deletions', () => {
  it("sends a correction quoting the new text when an operator edits an answer (Messenger can't edit a sent message)", async () => {
    const reply = await customerWroteThenOperatorReplies(Date.now() - HOUR, 'Your refund is 10 EUR');
    const operator = (await OperatorModel.findById(reply.author!.operatorId))!;
    await editAnswer((await MessageModel.findById(reply._id))!, operator, 'Your refund is 12 EUR');
    await until(() => graph.state.sends.length === 2);
    expect(graph.state.sends[1]).toMatchObject({ recipient: { id: '9001' }, message: { text: 'Correction to our previous message:\nYour refund is 12 EUR' }, answer: 'sent' });
    expect((await MessageModel.findById(reply._id).lean())!.versions.map((v) => v.text)).toEqual(['Your refund is 10 EUR']);
  });

  it("sends that correction in Russian to a customer whose Facebook locale is Russian", async () => {
    graph.state.profiles.set('9077', { first_name: 'Иван', last_name: 'Петров', locale: 'ru_RU' });
    const reply = await customerWroteThenOperatorReplies(Date.now() - HOUR, 'Возврат: 10 EUR', [], '9077');
    const operator = (await OperatorModel.findById(reply.author!.operatorId))!;
    await editAnswer((await MessageModel.findById(reply._id))!, operator, 'Возврат: 12 EUR');
    await until(() => graph.state.sends.length === 2);
    expect(graph.state.sends[1]).toMatchObject({ message: { text: 'Исправление к нашему предыдущему сообщению:\nВозврат: 12 EUR' } });
  });

  it('marks a deleted answer in the history and calls nothing (Messenger has no way to unsend)', async () => {
    const reply = await customerWroteThenOperatorReplies(Date.now() - HOUR);
    const operator = (await OperatorModel.findById(reply.author!.operatorId))!;
    await deleteAnswer((await MessageModel.findById(reply._id))!, operator);
    await until(async () => (await OutboxItemModel.countDocuments({ action: 'delete' })) === 0);
    expect((await MessageModel.findById(reply._id).lean())!.deletedAt).toBeInstanceOf(Date);
    expect(graph.state.sends).toHaveLength(1);
  });

  it('stores a message_edits event as a new version of the customer message', async () => {
    const original = graph.customerMessage('9001', { text: 'Order 55' }, Date.now() - 1000);
    await postWebhook(graph.webhook([original]));
    const mid = (await MessageModel.findOne({ direction: 'in' }))!.externalId!;
    const edit = await postWebhook(graph.webhook([{ sender: { id: '9001' }, recipient: { id: graph.pageId }, timestamp: Date.now(), message_edit: { mid, text: 'Order 56', num_edit: 1 } }]));
    expect(edit.statusCode).toBe(200);
    const stored = (await MessageModel.findOne({ direction: 'in' }))!;
    expect(stored.text).toBe('Order 56');
    expect(stored.versions.map((v) => ({ text: v.text, by: v.by.kind }))).toEqual([{ text: 'Order 55', by: 'customer' }]);
  });
});

describe('Messenger configuration', () => {
  it('is off without settings and names every missing one when only some are set', () => {
    expect(loadConfig({}).messenger).toBeUndefined();
    expect(loadConfig({ MESSENGER_PAGE_TOKEN: 'p', MESSENGER_APP_SECRET: 's', MESSENGER_VERIFY_TOKEN: 'v' }).messenger).toEqual({ pageToken: 'p', appSecret: 's', verifyToken: 'v', graphApiBaseUrl: 'https://graph.facebook.com/v21.0' });
    expect(() => loadConfig({ MESSENGER_PAGE_TOKEN: 'p' })).toThrow(/MESSENGER_APP_SECRET: required[\s\S]*MESSENGER_VERIFY_TOKEN: required/);
  });
});
