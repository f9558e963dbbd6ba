import { createHmac } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { startFakeWhatsAppGraph } from './support/fake-whatsapp-graph.js';
import { WhatsAppCloudChannel } from '../channels/whatsapp-cloud.js';
import { OUTSIDE_WHATSAPP_WINDOW } from '../channels/whatsapp-shared.js';
import { waTemplate } from '../commands/wa-template.js';
import type { CommandContext } from '../commands/command.js';
import { loadConfig } from '../src/config.js';
import { createInbox } from '../src/inbox.js';
import { createMetrics } from '../src/metrics.js';
import { withInlineBytes } from '../src/attachments.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { recordDeliveryReceipt } from '../src/outbox/delivery-receipts.js';
import { editAnswer, recordCustomerChange } from '../src/conversations/message-changes.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { ConversationModel, CustomerModel, MessageModel, OutboxItemModel, type ConversationDoc } from '../src/db/models/index.js';
import type { Attachment, ChannelSink } from '../src/domain.js';
import { customerMessagesAsRelayed } from './support/messages.js';

useTestDatabase();
const HOUR = 3600_000;
const CUSTOMER = '4915112345678';
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
let graph: Awaited<ReturnType<typeof startFakeWhatsAppGraph>>;
let channel: WhatsAppCloudChannel;
let worker: OutboxWorker;
const metrics = createMetrics(async () => 0);
// The gateway's server allows 25 MB (web chat uploads); the webhook route must hold its own, smaller limit.
const app = Fastify({ bodyLimit: 25 * 1024 * 1024 });

beforeAll(async () => {
  graph = await startFakeWhatsAppGraph();
  channel = new WhatsAppCloudChannel({ token: graph.token, phoneNumberId: graph.phoneNumberId, appSecret: graph.appSecret, verifyToken: 'wa-verify-me', graphApiBaseUrl: graph.graphApiBaseUrl, logger: testLogger, rejected: metrics.webhookRejected });
  await channel.registerRoutes(app);
  app.post('/another-route', async (request) => ({ parsed: request.body }));
  await channel.start(sink);
  worker = new OutboxWorker({ workerId: 'whatsapp-cloud-test', deliverers: new Map([['whatsapp', channelDeliverer(channel)]]), logger: testLogger, leaseMs: 10_000, pollIntervalMs: 50, maxAttempts: 5, sendTimeoutMs: 10_000, backoffBaseMs: 50, events: deliveryEvents() });
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
  metrics.webhookRejected.reset();
});

/** What /metrics shows as gateway_webhook_rejected_total for WhatsApp and this reason. */
async function rejected(reason: string): Promise<number> {
  const { values } = await metrics.webhookRejected.get();
  return values.find((v) => v.labels.channel === 'whatsapp' && v.labels.reason === reason)?.value ?? 0;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function postWebhook(signed: { body: string; headers: Record<string, string> }) {
  return app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.body, headers: signed.headers });
}

async function customerWrote(at = Date.now(), from = CUSTOMER): Promise<ConversationDoc> {
  const response = await postWebhook(graph.webhook({ contacts: [graph.contact(from, 'Greta Kunde')], messages: [graph.customerMessage(from, { text: { body: 'Where is my parcel?' } }, at)] }));
  expect(response.statusCode).toBe(200);
  return (await ConversationModel.findOne())!;
}

/** Resolves with the stored reply once the outbox settled it (sent, or failed with a reason). */
async function settled(messageId: unknown) {
  await until(async () => ['sent', 'delivered', 'read', 'failed'].includes((await MessageModel.findById(messageId).lean())?.delivery?.status ?? 'pending'));
  return (await MessageModel.findById(messageId).lean())!;
}

async function operatorReplies(conversation: ConversationDoc, text = 'Thanks, looking into it', attachments: Attachment[] = []) {
  const reply = await replyToCustomer({ conversation, operator: await createOperator(), text, attachments });
  return settled(reply._id);
}

function commandContext(conversation: ConversationDoc, operator: Awaited<ReturnType<typeof createOperator>>, args: string, replies: string[]): CommandContext {
  return {
    services: { commands: [] },
    operator,
    args,
    conversation,
    config: loadConfig({ WHATSAPP_CLOUD_TOKEN: graph.token, WHATSAPP_CLOUD_PHONE_NUMBER_ID: graph.phoneNumberId, WHATSAPP_CLOUD_APP_SECRET: graph.appSecret, WHATSAPP_CLOUD_VERIFY_TOKEN: 'wa-verify-me' }),
    logger: testLogger,
    reply: async (text) => void replies.push(text),
    replyFile: async () => undefined,
  };
}

describe('WhatsApp Cloud API webhook', () => {
  it('answers the verify handshake with the challenge, and refuses a wrong verify token', async () => {
    const ok = await app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wa-verify-me&hub.challenge=8472910' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('8472910');
    const wrong = await app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=8472910' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).not.toContain('8472910');
  });

  it('rejects a forged, tampered or unsigned webhook with 403 and stores nothing', async () => {
    const forged = graph.webhook({ messages: [graph.customerMessage(CUSTOMER, { text: { body: 'forged' } })] }, 'not-the-app-secret');
    expect((await postWebhook(forged)).statusCode).toBe(403);
    const genuine = graph.webhook({ messages: [graph.customerMessage(CUSTOMER, { text: { body: 'tampered' } })] });
    expect((await postWebhook({ body: genuine.body.replace('tampered', 'TAMPERED'), headers: genuine.headers })).statusCode).toBe(403);
    expect((await postWebhook({ body: genuine.body, headers: { 'content-type': 'application/json' } })).statusCode).toBe(403);

    expect(await MessageModel.countDocuments()).toBe(0);
    expect(await CustomerModel.countDocuments()).toBe(0);
    expect(await rejected('bad_signature')).toBe(3);
  });

  it('stores every kind of customer message, with the name and phone WhatsApp gives', async () => {
    const photo = graph.addMedia(Buffer.from('ffd8ffe000104a464946', 'hex'), 'image/jpeg');
    const response = await postWebhook(
      graph.webhook({
        contacts: [graph.contact(CUSTOMER, 'Greta Kunde')],
        messages: [
          graph.customerMessage(CUSTOMER, { text: { body: 'Hello, order 123 is late' } }),
          graph.customerMessage(CUSTOMER, { type: 'image', image: { id: photo, mime_type: 'image/jpeg', caption: 'the label' } }),
          graph.customerMessage(CUSTOMER, { type: 'document', document: { id: 'doc1', mime_type: 'application/pdf', filename: 'invoice.pdf' } }),
          graph.customerMessage(CUSTOMER, { type: 'audio', audio: { id: 'voice1', mime_type: 'audio/ogg; codecs=opus', voice: true } }),
          graph.customerMessage(CUSTOMER, { type: 'audio', audio: { id: 'audio1', mime_type: 'audio/mpeg' } }),
          graph.customerMessage(CUSTOMER, { type: 'video', video: { id: 'video1', mime_type: 'video/mp4' } }),
          graph.customerMessage(CUSTOMER, { type: 'sticker', sticker: { id: 'sticker1', mime_type: 'image/webp', animated: false } }),
          graph.customerMessage(CUSTOMER, { type: 'location', location: { latitude: 52.52, longitude: 13.405, name: 'Office', address: 'Alexanderplatz 1' } }),
          graph.customerMessage(CUSTOMER, { type: 'contacts', contacts: [{ name: { formatted_name: 'Max Mustermann' }, phones: [{ phone: '+49 30 1234567', wa_id: '49301234567' }] }] }),
          graph.customerMessage(CUSTOMER, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'talk-to-human', title: 'Talk to a human' } } }),
        ],
      }),
    );
    expect(response.statusCode).toBe(200);

    const messages = await customerMessagesAsRelayed();
    expect(messages.map((m) => m.text)).toEqual(['Hello, order 123 is late', 'the label', '', '', '', '', '', 'Office, Alexanderplatz 1', '', 'Talk to a human']);
    expect(messages.map((m) => m.attachments[0]?.kind)).toEqual([undefined, 'photo', 'document', 'voice', 'audio', 'video', 'sticker', 'location', 'contact', undefined]);
    expect(messages[2]!.attachments[0]).toMatchObject({ fileName: 'invoice.pdf', mimeType: 'application/pdf', ref: 'wacloud:doc1' });
    expect(messages[7]!.attachments[0]).toMatchObject({ location: { latitude: 52.52, longitude: 13.405 } });
    expect(messages[8]!.attachments[0]).toMatchObject({ contact: { name: 'Max Mustermann', phone: '+49 30 1234567' } });
    expect(messages[9]!.meta).toEqual([expect.objectContaining({ name: 'buttonId', value: 'talk-to-human' })]);
    expect(await CustomerModel.findOne({ channel: 'whatsapp', externalChatId: CUSTOMER }).lean()).toMatchObject({ name: 'Greta Kunde', phone: `+${CUSTOMER}` });
    expect(await ConversationModel.countDocuments()).toBe(1);

    // The photo's bytes come from WhatsApp's media endpoint when the operator console needs them.
    const loaded = await withInlineBytes(messages[1]!.attachments[0] as Attachment);
    expect(Buffer.from(loaded.dataBase64!, 'base64').toString('hex')).toBe('ffd8ffe000104a464946');
    expect(loaded.mimeType).toBe('image/jpeg');
  });

  it('stores a message once when Meta delivers the same webhook twice', async () => {
    const signed = graph.webhook({ messages: [graph.customerMessage(CUSTOMER, { text: { body: 'only once' } })] });
    expect((await postWebhook(signed)).statusCode).toBe(200);
    expect((await postWebhook(signed)).statusCode).toBe(200);
    expect(await MessageModel.countDocuments({ text: 'only once' })).toBe(1);
  });

  it('ignores events for another business number of the same app', async () => {
    const body = graph.webhook({ messages: [graph.customerMessage(CUSTOMER, { text: { body: 'for someone else' } })] }).body.replace(graph.phoneNumberId, '999999999999');
    const headers = { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', graph.appSecret).update(body).digest('hex')}` };
    expect((await postWebhook({ body, headers })).statusCode).toBe(200);
    expect(await MessageModel.countDocuments()).toBe(0);
  });

  it('leaves the JSON parsing of other routes alone', async () => {
    const response = await app.inject({ method: 'POST', url: '/another-route', payload: { a: 1 } });
    expect(response.json()).toEqual({ parsed: { a: 1 } });
  });
});

describe('WhatsApp Cloud API webhook, payloads it cannot read', () => {
  const envelope = (entry: unknown) => JSON.stringify({ object: 'whatsapp_business_account', entry });
  const change = (value: unknown) => envelope([{ id: 'WABA-1', changes: [{ field: 'messages', value }] }]);

  it('acknowledges a signed payload it cannot read, so Meta stops resending it, and counts it', async () => {
    const unreadable = ['null', envelope({ id: 'WABA-1' }), '{"object":', envelope([{ id: 'WABA-1', changes: [null] }]), change({ metadata: { phone_number_id: graph.phoneNumberId }, messages: [null] })];
    for (const body of unreadable) {
      const response = await postWebhook(graph.signed(body));
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe('OK');
    }
    expect(await MessageModel.countDocuments()).toBe(0);
    expect(await rejected('unreadable')).toBe(5);
  });

  it('stores the readable messages of a batch once and skips the one it cannot read', async () => {
    const response = await postWebhook(graph.webhook({ contacts: [graph.contact(CUSTOMER, 'Greta Kunde')], messages: [{ from: CUSTOMER, surprise: 'no id, no type' }, graph.customerMessage(CUSTOMER, { text: { body: 'the readable one' } })] }));
    expect(response.statusCode).toBe(200);
    expect(await MessageModel.find({ direction: 'in' }).lean()).toEqual([expect.objectContaining({ text: 'the readable one' })]);
    expect(await rejected('unreadable')).toBe(1);
  });

  it('refuses a body over the webhook limit with 413 before looking at its signature', async () => {
    const huge = graph.webhook({ messages: [graph.customerMessage(CUSTOMER, { text: { body: 'x'.repeat(5 * 1024 * 1024) } })] });
    expect((await postWebhook(huge)).statusCode).toBe(413);
    expect((await postWebhook({ body: huge.body, headers: { ...huge.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } })).statusCode).toBe(413);
    expect(await MessageModel.countDocuments()).toBe(0);
    expect([await rejected('too_large'), await rejected('bad_signature')]).toEqual([2, 0]);
  });
});

describe('WhatsApp Cloud API replies', () => {
  it('inside the 24-hour window: sent as text, then delivered and read by the status webhooks', async () => {
    const conversation = await customerWrote(Date.now() - 2 * HOUR);
    const reply = await operatorReplies(conversation);
    expect(graph.state.sends).toEqual([expect.objectContaining({ to: CUSTOMER, type: 'text', answer: 'sent', body: expect.objectContaining({ text: { body: 'Thanks, looking into it', preview_url: false } }) })]);
    expect(reply).toMatchObject({ delivery: { status: 'sent' }, externalId: expect.stringMatching(/^wamid\.OUT\d+$/) });

    expect((await postWebhook(graph.webhook({ statuses: [graph.status(reply.externalId!, 'sent', CUSTOMER), graph.status(reply.externalId!, 'delivered', CUSTOMER)] }))).statusCode).toBe(200);
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('delivered');
    await postWebhook(graph.webhook({ statuses: [graph.status(reply.externalId!, 'read', CUSTOMER)] }));
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('read');
  });

  it('a failed status webhook marks the reply failed with WhatsApp’s reason', async () => {
    const conversation = await customerWrote(Date.now() - HOUR);
    const reply = await operatorReplies(conversation);
    await postWebhook(graph.webhook({ statuses: [graph.status(reply.externalId!, 'failed', CUSTOMER, [{ code: 131047, title: 'Re-engagement message' }])] }));
    expect((await MessageModel.findById(reply._id).lean())!.delivery).toMatchObject({ status: 'failed', error: OUTSIDE_WHATSAPP_WINDOW });
  });

  it('outside the 24-hour window: refused with the reason for the operators, nothing sent, customer still reachable', async () => {
    const conversation = await customerWrote(Date.now() - 25 * HOUR);
    const reply = await operatorReplies(conversation);
    expect(graph.state.sends).toEqual([]);
    expect(reply.delivery).toMatchObject({ status: 'failed', error: OUTSIDE_WHATSAPP_WINDOW });
    expect(reply.delivery?.error).toContain('/wa_template');
    expect(await CustomerModel.findOne({ externalChatId: CUSTOMER }).lean()).toMatchObject({ unreachable: false });
  });

  it('/wa_template sends an approved template, which WhatsApp allows outside the window', async () => {
    const conversation = await customerWrote(Date.now() - 30 * HOUR);
    const replies: string[] = [];
    await waTemplate.run(commandContext(conversation, await createOperator(), 'order_update', replies));
    expect(replies[0]).toContain('order_update');

    const stored = (await MessageModel.findOne({ direction: 'out' }).lean())!;
    const sent = await settled(stored._id);
    expect(graph.state.sends).toEqual([expect.objectContaining({ to: CUSTOMER, type: 'template', answer: 'sent', body: expect.objectContaining({ template: { name: 'order_update', language: { code: 'en_US' } } }) })]);
    expect(sent).toMatchObject({ delivery: { status: 'sent' }, text: expect.stringContaining('order_update') });
  });

  it('/wa_template with a language, an unknown template failing with WhatsApp’s reason, and bad arguments refused', async () => {
    const conversation = await customerWrote(Date.now() - 30 * HOUR);
    const operator = await createOperator();
    await waTemplate.run(commandContext(conversation, operator, 'order_update ru', []));
    await waTemplate.run(commandContext(conversation, operator, 'spring_sale', []));
    await until(async () => (await MessageModel.countDocuments({ direction: 'out', 'delivery.status': { $in: ['sent', 'failed'] } })) === 2);
    expect(graph.state.sends.map((s) => [(s.body.template as { name: string }).name, s.answer])).toEqual([
      ['order_update', 'sent'],
      ['spring_sale', 'error 132001'],
    ]);
    expect((await MessageModel.findOne({ text: /spring_sale/ }).lean())!.delivery).toMatchObject({ status: 'failed', error: expect.stringContaining('132001') });

    await expect(waTemplate.run(commandContext(conversation, operator, '', []))).rejects.toThrow('Name the template');
    await expect(waTemplate.run(commandContext(conversation, operator, 'Order-Update', []))).rejects.toThrow('not a WhatsApp template name');
  });

  it('uploads a photo to /media and sends it by id', async () => {
    const conversation = await customerWrote(Date.now() - HOUR);
    const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex');
    const reply = await operatorReplies(conversation, 'Your label', [{ kind: 'photo', fileName: 'label.jpg', mimeType: 'image/jpeg', dataBase64: jpeg.toString('base64') }]);
    expect(graph.state.uploads).toEqual([expect.objectContaining({ type: 'image/jpeg', fileName: 'label.jpg', bytes: jpeg })]);
    const mediaId = graph.state.uploads[0]!.id;
    expect(graph.state.sends.map((s) => ({ type: s.type, image: s.body.image, text: s.body.text }))).toEqual([
      { type: 'image', image: { id: mediaId }, text: undefined },
      { type: 'text', image: undefined, text: { body: 'Your label', preview_url: false } },
    ]);
    expect(reply.delivery?.status).toBe('sent');
  });

  it('waits the Retry-After of a 429 through the outbox, without counting it as a failed attempt', async () => {
    const conversation = await customerWrote(Date.now() - HOUR);
    graph.state.failNext.push({ status: 429, code: 130429, message: 'Rate limit hit', details: 'Cloud API message throughput has been reached.', retryAfter: 1 });
    const reply = await operatorReplies(conversation, 'after the pause');
    expect(graph.state.sends.map((s) => s.answer)).toEqual(['error 130429', 'sent']);
    expect(graph.state.sends[1]!.at - graph.state.sends[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(reply.delivery?.status).toBe('sent');
    // The delivery is recorded first, then its outbox item deleted.
    await until(async () => (await OutboxItemModel.countDocuments({ route: 'whatsapp' })) === 0);
  });

  it('a pair rate limit (131056) puts the send off instead of failing it', async () => {
    // A customer of its own: the pause it causes holds up sends to this chat only.
    const conversation = await customerWrote(Date.now() - HOUR, '4915100000056');
    graph.state.failNext.push({ status: 400, code: 131056, message: '(Business Account, Consumer Account) pair rate limit hit' });
    await replyToCustomer({ conversation, operator: await createOperator(), text: 'soon' });
    await until(async () => (await OutboxItemModel.findOne({ route: 'whatsapp' }).lean())?.lastError !== undefined);
    const item = (await OutboxItemModel.findOne({ route: 'whatsapp' }).lean())!;
    expect(item).toMatchObject({ status: 'pending', attempts: 0 });
    expect(item.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 3000);
  });

  it('an undeliverable number (131026) fails for good with the reason', async () => {
    const conversation = await customerWrote(Date.now() - HOUR);
    graph.state.failNext.push({ status: 400, code: 131026, message: 'Message Undeliverable.' });
    const reply = await operatorReplies(conversation);
    expect(graph.state.sends).toHaveLength(1);
    expect(reply.delivery).toMatchObject({ status: 'failed', error: expect.stringContaining('131026') });
  });

  it('a Graph outage is retried, and the operators hear once that WhatsApp is down and once that it is back', async () => {
    const conversation = await customerWrote(Date.now() - HOUR);
    graph.state.failNext.push({ status: 500, code: 1, message: 'An unknown error occurred' }, { status: 503, code: 2, message: 'Service temporarily unavailable' });
    const reply = await operatorReplies(conversation);
    expect(graph.state.sends.map((s) => s.answer)).toEqual(['error 1', 'error 2', 'sent']);
    expect(reply.delivery?.status).toBe('sent');
    await until(async () => (await OutboxItemModel.countDocuments({ route: 'console', action: 'notice' })) >= 2);
    const notices = await OutboxItemModel.find({ route: 'console', action: 'notice' }).sort({ seq: 1 }).lean();
    expect(notices.map((n) => (n.payload as { text: string }).text)).toEqual([expect.stringMatching(/WhatsApp \(Cloud API\) is down: .*HTTP 500/), expect.stringMatching(/WhatsApp \(Cloud API\) is back/)]);
    expect(channel.state()).toBe('up');
  });
});

describe('WhatsApp Cloud API edits and deletions', () => {
  it("stores a customer's edit (type edit) as a new version and a revocation (type revoke) as a deletion", async () => {
    await customerWrote();
    const original = (await MessageModel.findOne({ direction: 'in' }))!;
    const edit = graph.customerMessage(CUSTOMER, { type: 'edit', edit: { original_message_id: original.externalId, message: { type: 'text', text: { body: 'Where is my parcel #42?' } } } });
    expect((await postWebhook(graph.webhook({ messages: [edit] }))).statusCode).toBe(200);
    const edited = (await MessageModel.findById(original._id))!;
    expect(edited.text).toBe('Where is my parcel #42?');
    expect(edited.versions.map((v) => v.text)).toEqual(['Where is my parcel?']);

    const revoke = graph.customerMessage(CUSTOMER, { type: 'revoke', revoke: { original_message_id: original.externalId } });
    expect((await postWebhook(graph.webhook({ messages: [revoke] }))).statusCode).toBe(200);
    expect((await MessageModel.findById(original._id))!.deletedAt).toBeInstanceOf(Date);
    expect(await MessageModel.countDocuments({ direction: 'in' })).toBe(1);
  });

  it('sends a correction quoting the new text when an operator edits an answer (the Cloud API cannot edit a sent message)', async () => {
    const conversation = await customerWrote();
    const operator = await createOperator();
    const reply = await replyToCustomer({ conversation, operator, text: 'Delivery on Friday' });
    await settled(reply._id);
    await editAnswer((await MessageModel.findById(reply._id))!, operator, 'Delivery on Saturday');
    await until(() => graph.state.sends.length === 2);
    expect(graph.state.sends[1]).toMatchObject({ to: CUSTOMER, body: expect.objectContaining({ text: expect.objectContaining({ body: 'Correction to our previous message:\nDelivery on Saturday' }) }) });
  });
});

describe('WhatsApp configuration', () => {
  const cloud = { WHATSAPP_CLOUD_TOKEN: 't', WHATSAPP_CLOUD_PHONE_NUMBER_ID: '123', WHATSAPP_CLOUD_APP_SECRET: 's', WHATSAPP_CLOUD_VERIFY_TOKEN: 'v' };

  it('is off without settings; the Cloud API needs all four variables', () => {
    expect(loadConfig({}).whatsappCloud).toBeUndefined();
    expect(loadConfig({}).whatsappWeb).toBeUndefined();
    expect(loadConfig(cloud).whatsappCloud).toEqual({ token: 't', phoneNumberId: '123', appSecret: 's', verifyToken: 'v', graphApiBaseUrl: 'https://graph.facebook.com/v21.0' });
    expect(() => loadConfig({ WHATSAPP_CLOUD_TOKEN: 't' })).toThrow(/WHATSAPP_CLOUD_PHONE_NUMBER_ID: required[\s\S]*WHATSAPP_CLOUD_APP_SECRET: required[\s\S]*WHATSAPP_CLOUD_VERIFY_TOKEN: required/);
    expect(loadConfig({ WHATSAPP_WEB_ENABLED: 'true' }).whatsappWeb).toEqual({ chromiumPath: '/usr/bin/chromium', dataDir: './data/whatsapp-web' });
  });

  it('refuses both WhatsApp adapters at once, saying which to turn off', () => {
    expect(() => loadConfig({ ...cloud, WHATSAPP_WEB_ENABLED: 'true' })).toThrow(/WHATSAPP_WEB_ENABLED: only one WhatsApp adapter can run at a time/);
  });
});
