import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { FakeWhatsAppClient, fakeMessage } from './support/fake-whatsapp-client.js';
import { WhatsAppWebChannel } from '../channels/whatsapp-web.js';
import { MongoSessionStore } from '../channels/whatsapp-session-store.js';
import { createInbox } from '../src/inbox.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { recordDeliveryReceipt } from '../src/outbox/delivery-receipts.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { ConversationModel, CustomerModel, MessageModel, OutboxItemModel, WhatsAppSessionChunkModel, WhatsAppSessionModel } from '../src/db/models/index.js';
import type { Attachment, ChannelSink } from '../src/domain.js';
import { customerMessagesAsRelayed } from './support/messages.js';

useTestDatabase();
const CHAT = '491701234567@c.us';
const inbox = createInbox({ reopenWindowMs: 24 * 3600_000, logger: testLogger });
const sink: ChannelSink = {
  inbound: async (message) => {
    await inbox.receive(message);
  },
  deliveryStatus: recordDeliveryReceipt,
};

let clients: FakeWhatsAppClient[] = [];
/** Scripts the next clients the adapter makes (e.g. a browser that fails to start); the rest are healthy. */
let prepareClient: (client: FakeWhatsAppClient, index: number) => void = () => undefined;
let channel: WhatsAppWebChannel;
let worker: OutboxWorker;

beforeAll(() => {
  // The worker delivers through whichever channel the current test started.
  worker = new OutboxWorker({
    workerId: 'whatsapp-web-test',
    deliverers: new Map([['whatsapp', { rateBuckets: () => [], deliver: (item) => channelDeliverer(channel).deliver(item) }]]),
    logger: testLogger,
    leaseMs: 10_000,
    pollIntervalMs: 50,
    maxAttempts: 5,
    sendTimeoutMs: 10_000,
    backoffBaseMs: 50,
    events: deliveryEvents(),
  });
  worker.start();
});
afterAll(() => worker.stop());
afterEach(async () => {
  await channel?.stop();
  clients = [];
  prepareClient = () => undefined;
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts the adapter with fake Clients; resolves with the first one once it was initialized. */
async function startChannel(): Promise<FakeWhatsAppClient> {
  channel = new WhatsAppWebChannel({
    chromiumPath: '/usr/bin/chromium',
    dataDir: path.join(tmpdir(), 'wweb-test'),
    logger: testLogger,
    reconnect: { baseMs: 40, capMs: 200 },
    createClient: () => {
      const client = new FakeWhatsAppClient();
      prepareClient(client, clients.length);
      clients.push(client);
      return client;
    },
  });
  await channel.start(sink);
  await until(() => clients.length > 0);
  return clients[0]!;
}

async function connectedClient(): Promise<FakeWhatsAppClient> {
  const client = await startChannel();
  await until(() => client.initialized);
  client.emit('ready');
  expect(channel.state()).toBe('up');
  return client;
}

async function notices(): Promise<Array<{ text: string; file?: { fileName: string; mimeType: string; dataBase64: string } }>> {
  const items = await OutboxItemModel.find({ route: 'console', action: 'notice' }).sort({ seq: 1 }).lean();
  return items.map((item) => item.payload as { text: string });
}

/** The customer wrote, an operator answers; resolves with the stored reply once the outbox sent it. */
async function customerWroteThenOperatorReplies(client: FakeWhatsAppClient, text = 'Hello from support', attachments: Attachment[] = []) {
  client.receive(fakeMessage({ body: 'Hi, I need help' }));
  await until(async () => (await ConversationModel.countDocuments()) === 1);
  const conversation = (await ConversationModel.findOne())!;
  const reply = await replyToCustomer({ conversation, operator: await createOperator(), text, attachments });
  await until(async () => (await MessageModel.findById(reply._id).lean())?.delivery?.status !== 'pending');
  return (await MessageModel.findById(reply._id).lean())!;
}

describe('WhatsApp Web messages', () => {
  it('maps text, photo, voice note, document, location, contact card and button replies into customer messages', async () => {
    const client = await connectedClient();
    const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex');
    client.receive(fakeMessage({ body: 'Hello, order 77 is missing', quotedId: 'true_491701234567@c.us_3EB0OLD' }));
    client.receive(fakeMessage({ type: 'image', body: 'this one', media: { mimetype: 'image/jpeg', data: jpeg.toString('base64') } }));
    client.receive(fakeMessage({ type: 'ptt', media: { mimetype: 'audio/ogg; codecs=opus', data: 'T2dnUw==' } }));
    client.receive(fakeMessage({ type: 'document', body: 'invoice.pdf', media: { mimetype: 'application/pdf', data: 'JVBERi0=', filename: 'invoice.pdf', filesize: 5 } }));
    client.receive(fakeMessage({ type: 'location', location: { latitude: '52.52', longitude: '13.405', description: 'Office' } }));
    client.receive(fakeMessage({ type: 'vcard', vCards: ['BEGIN:VCARD\nVERSION:3.0\nFN:Max Mustermann\nTEL;type=CELL;waid=49301234567:+49 30 1234567\nEND:VCARD'] }));
    client.receive(fakeMessage({ type: 'buttons_response', body: 'Talk to a human', selectedButtonId: 'human' }));
    await until(async () => (await OutboxItemModel.countDocuments({ action: 'relay' })) === 7);

    const messages = await customerMessagesAsRelayed();
    expect(messages.map((m) => m.text)).toEqual(['Hello, order 77 is missing', 'this one', '', 'invoice.pdf', 'Office', '', 'Talk to a human']);
    expect(messages[0]!.replyToExternalId).toBe('true_491701234567@c.us_3EB0OLD');
    expect(messages[1]!.attachments).toEqual([expect.objectContaining({ kind: 'photo', mimeType: 'image/jpeg', dataBase64: jpeg.toString('base64') })]);
    expect(messages[2]!.attachments).toEqual([expect.objectContaining({ kind: 'voice', mimeType: 'audio/ogg; codecs=opus' })]);
    expect(messages[3]!.attachments).toEqual([expect.objectContaining({ kind: 'document', fileName: 'invoice.pdf', size: 5 })]);
    expect(messages[4]!.attachments).toEqual([expect.objectContaining({ kind: 'location', location: { latitude: 52.52, longitude: 13.405 } })]);
    expect(messages[5]!.attachments).toEqual([expect.objectContaining({ kind: 'contact', contact: { name: 'Max Mustermann', phone: '+49 30 1234567' } })]);
    expect(messages[6]!.meta).toEqual([expect.objectContaining({ name: 'buttonId', value: 'human' })]);
    expect(await CustomerModel.findOne({ channel: 'whatsapp', externalChatId: CHAT }).lean()).toMatchObject({ name: 'Lena Schmidt', phone: '+491701234567' });
    expect(await ConversationModel.countDocuments()).toBe(1);
  });

  it('stores a message once when the client emits it twice, and ignores groups, status updates, system entries and our own messages', async () => {
    const client = await connectedClient();
    const message = fakeMessage({ body: 'only once' });
    client.receive(message);
    client.receive(message);
    client.receive(fakeMessage({ body: 'group chatter', from: '120363041234567890@g.us' }));
    client.receive(fakeMessage({ body: 'my status', from: 'status@broadcast', isStatus: true }));
    client.receive(fakeMessage({ body: 'typed on the phone', fromMe: true }));
    client.receive(fakeMessage({ type: 'e2e_notification', body: '' }));
    client.receive(fakeMessage({ body: 'last' }));
    await until(async () => (await MessageModel.countDocuments({ text: 'last' })) === 1);
    expect((await MessageModel.find({ direction: 'in' }).lean()).map((m) => m.text).sort()).toEqual(['last', 'only once']);
  });
});

describe('WhatsApp Web replies and acks', () => {
  it('sends the reply, then moves it to delivered and read as the acks arrive', async () => {
    const client = await connectedClient();
    const reply = await customerWroteThenOperatorReplies(client);
    expect(client.sends).toEqual([expect.objectContaining({ chatId: CHAT, content: 'Hello from support' })]);
    expect(reply).toMatchObject({ delivery: { status: 'sent' }, externalId: client.sends[0]!.id });

    const statusAfter = async (ack: number) => {
      client.emit('message_ack', { id: { _serialized: reply.externalId } }, ack);
      await new Promise((r) => setTimeout(r, 100));
      return (await MessageModel.findById(reply._id).lean())!.delivery?.status;
    };
    expect(await statusAfter(1)).toBe('sent');
    expect(await statusAfter(2)).toBe('delivered');
    expect(await statusAfter(3)).toBe('read');
    expect(await statusAfter(4)).toBe('read');
  });

  it('an error ack (-1) marks the reply failed', async () => {
    const client = await connectedClient();
    const reply = await customerWroteThenOperatorReplies(client);
    client.emit('message_ack', { id: { _serialized: reply.externalId } }, -1);
    await until(async () => (await MessageModel.findById(reply._id).lean())!.delivery?.status === 'failed');
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.error).toMatch(/WhatsApp reported an error/);
  });

  it('sends a photo as MessageMedia and a voice note as voice', async () => {
    const client = await connectedClient();
    const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex').toString('base64');
    await customerWroteThenOperatorReplies(client, 'Your label', [
      { kind: 'photo', fileName: 'label.jpg', mimeType: 'image/jpeg', dataBase64: jpeg },
      { kind: 'voice', fileName: 'note.ogg', mimeType: 'audio/ogg', dataBase64: 'T2dnUw==' },
    ]);
    expect(client.sends.map((s) => [s.content, s.options?.sendAudioAsVoice])).toEqual([
      [expect.objectContaining({ mimetype: 'image/jpeg', data: jpeg, filename: 'label.jpg' }), false],
      [expect.objectContaining({ mimetype: 'audio/ogg', data: 'T2dnUw==' }), true],
      ['Your label', undefined],
    ]);
  });
});

describe('WhatsApp Web connection', () => {
  it('posts the login QR code to the operator group as a PNG image', async () => {
    const client = await startChannel();
    client.emit('qr', '2@Ab12Cd34Ef56,XyZ0987654321abcdef=,Qw12Er34Ty56=,1');
    await until(async () => (await notices()).length === 1);
    const [notice] = await notices();
    expect(notice!.text).toMatch(/Linked devices/);
    expect(notice!.file).toMatchObject({ fileName: 'whatsapp-login.png', mimeType: 'image/png' });
    const png = Buffer.from(notice!.file!.dataBase64, 'base64');
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(channel.state()).toBe('starting');
  });

  it('a disconnect is reported once, retried with fresh clients until one connects, and the recovery reported', async () => {
    const first = await connectedClient();
    // The next two browsers fail to start; the third one connects.
    prepareClient = (client, index) => {
      if (index <= 2) client.failInitialize = new Error('Failed to launch the browser process');
    };
    first.emit('disconnected', 'NAVIGATION');
    expect(channel.state()).toBe('down');
    expect(first.destroyed).toBe(true);
    await until(() => clients.length === 4 && clients[3]!.initialized);
    expect(channel.state()).toBe('down');
    clients[3]!.emit('ready');
    expect(channel.state()).toBe('up');

    await until(async () => (await notices()).length === 2);
    expect((await notices()).map((n) => n.text)).toEqual([expect.stringMatching(/WhatsApp Web is down: disconnected \(NAVIGATION\)/), expect.stringMatching(/WhatsApp Web is back/)]);
    // Events of a discarded client change nothing.
    first.emit('disconnected', 'CONFLICT');
    expect(channel.state()).toBe('up');
  });

  it("an 'error' from the client does not crash the gateway: it counts as a lost connection", async () => {
    const client = await connectedClient();
    expect(() => client.emit('error', new Error('Protocol error (Runtime.callFunctionOn): Target closed.'))).not.toThrow();
    expect(channel.state()).toBe('down');
    await until(() => clients.length === 2);
  });

  it('holds replies while disconnected and sends them once it is back', async () => {
    const client = await connectedClient();
    client.receive(fakeMessage({ body: 'Hi' }));
    await until(async () => (await ConversationModel.countDocuments()) === 1);
    client.emit('disconnected', 'TIMEOUT');
    const reply = await replyToCustomer({ conversation: (await ConversationModel.findOne())!, operator: await createOperator(), text: 'Are you there?' });
    await until(async () => (await OutboxItemModel.findOne({ route: 'whatsapp' }).lean())?.lastError !== undefined);
    expect((await OutboxItemModel.findOne({ route: 'whatsapp' }).lean())!.lastError).toMatch(/not connected/);

    await until(() => clients.length === 2 && clients[1]!.initialized);
    clients[1]!.emit('ready');
    await until(async () => (await MessageModel.findById(reply._id).lean())?.delivery?.status === 'sent');
    expect(clients[1]!.sends).toEqual([expect.objectContaining({ content: 'Are you there?' })]);
  });
});

describe('WhatsApp Web session store', () => {
  it('keeps the RemoteAuth zip in the database: save, exists, extract the same bytes, replace, delete', async () => {
    const dataPath = await mkdtemp(path.join(tmpdir(), 'wweb-session-'));
    try {
      const store = new MongoSessionStore(dataPath);
      expect(await store.sessionExists({ session: 'RemoteAuth' })).toBe(false);

      const zip = randomBytes(2.5 * 1024 * 1024);
      await writeFile(path.join(dataPath, 'RemoteAuth.zip'), zip);
      await store.save({ session: 'RemoteAuth' });
      expect(await store.sessionExists({ session: 'RemoteAuth' })).toBe(true);
      expect(await WhatsAppSessionChunkModel.countDocuments({ session: 'RemoteAuth' })).toBe(3);

      const restored = path.join(dataPath, 'restore', 'RemoteAuth.zip');
      await store.extract({ session: 'RemoteAuth', path: restored });
      expect((await readFile(restored)).equals(zip)).toBe(true);

      // A later backup replaces the previous one entirely.
      const newer = randomBytes(1000);
      await writeFile(path.join(dataPath, 'RemoteAuth.zip'), newer);
      await store.save({ session: 'RemoteAuth' });
      expect(await WhatsAppSessionChunkModel.countDocuments({ session: 'RemoteAuth' })).toBe(1);
      await store.extract({ session: 'RemoteAuth', path: restored });
      expect((await readFile(restored)).equals(newer)).toBe(true);

      await store.delete({ session: 'RemoteAuth' });
      expect(await store.sessionExists({ session: 'RemoteAuth' })).toBe(false);
      expect(await WhatsAppSessionModel.countDocuments()).toBe(0);
      expect(await WhatsAppSessionChunkModel.countDocuments()).toBe(0);
    } finally {
      await rm(dataPath, { recursive: true, force: true });
    }
  });
});
