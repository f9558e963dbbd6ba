import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useStoppableDatabase } from './support/stoppable-database.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { FakeWhatsAppAccount, FakeWhatsAppClient, fakeMessage } from './support/fake-whatsapp-client.js';
import { WhatsAppWebChannel } from '../channels/whatsapp-web.js';
import type { CatchUpLimits } from '../channels/whatsapp-catch-up.js';
import { loadConfig } from '../src/config.js';
import { MongoSessionStore } from '../channels/whatsapp-session-store.js';
import { createInbox } from '../src/inbox.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { recordDeliveryReceipt } from '../src/outbox/delivery-receipts.js';
import { deleteAnswer, editAnswer, recordCustomerChange } from '../src/conversations/message-changes.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { ConversationModel, CustomerModel, MessageModel, OperatorModel, OutboxItemModel, WhatsAppSessionChunkModel, WhatsAppSessionModel } from '../src/db/models/index.js';
import type { Attachment, ChannelSink } from '../src/domain.js';
import { customerMessagesAsRelayed } from './support/messages.js';

// Some tests take the database down and up again: this file runs a database server of its own.
const database = useStoppableDatabase('whatsapp');
const CHAT = '491701234567@c.us';
const inbox = createInbox({ reopenWindowMs: 24 * 3600_000, logger: testLogger });
const sink: ChannelSink = {
  inbound: async (message) => {
    await inbox.receive(message);
  },
  changed: async (change) => {
    await recordCustomerChange(change);
  },
  deliveryStatus: recordDeliveryReceipt,
};

let clients: FakeWhatsAppClient[] = [];
/** Which start of the adapter (1, 2, ...) had each customer message stored, by text. */
let starts = 0;
const storedBy: Array<{ start: number; text: string }> = [];
/** The business phone's account: every client the adapter makes is linked to it, so a restart sees the same chats. */
let account = new FakeWhatsAppAccount();
/** Scripts the next clients the adapter makes (e.g. a browser that fails to start); the rest are healthy. */
let prepareClient: (client: FakeWhatsAppClient, index: number) => void = () => undefined;
let channel: WhatsAppWebChannel;
let worker: OutboxWorker;

beforeAll(() => {
  // The worker delivers through whichever channel the current test started.
  worker = new OutboxWorker({
    workerId: 'whatsapp-web-test',
    deliverers: new Map([['whatsapp', { rateBuckets: () => [], deliver: (item) => channelDeliverer(channel).deliver(item, undefined) }]]),
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
  account = new FakeWhatsAppAccount();
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
async function startChannel(options: { catchUp?: CatchUpLimits } = {}): Promise<FakeWhatsAppClient> {
  const started = clients.length;
  channel = new WhatsAppWebChannel({
    chromiumPath: '/usr/bin/chromium',
    dataDir: path.join(tmpdir(), 'wweb-test'),
    logger: testLogger,
    reconnect: { baseMs: 40, capMs: 200 },
    catchUp: options.catchUp,
    createClient: () => {
      const client = new FakeWhatsAppClient(account);
      prepareClient(client, clients.length);
      clients.push(client);
      return client;
    },
  });
  const start = ++starts;
  await channel.start({
    ...sink,
    inbound: async (message) => {
      await sink.inbound(message);
      storedBy.push({ start, text: message.text });
    },
  });
  await until(() => clients.length > started);
  return clients[started]!;
}

async function connectedClient(options: { catchUp?: CatchUpLimits } = {}): Promise<FakeWhatsAppClient> {
  const client = await startChannel(options);
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
    // Relays are queued just before their messages are inserted: wait for both.
    await until(async () => (await customerMessagesAsRelayed()).length === 7);

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

describe('WhatsApp Web edits and deletions', () => {
  it("stores a customer's edit as a new version and a deletion for everyone as a mark, and ignores our own", async () => {
    const client = await connectedClient();
    const typo = fakeMessage({ body: 'Adress: Main st 1' });
    const secret = fakeMessage({ body: 'my PIN is 1234' });
    client.receive(typo);
    client.receive(secret);
    await until(async () => (await MessageModel.countDocuments({ direction: 'in' })) === 2);
    client.emit('message_edit', typo, 'Address: Main st 1', 'Adress: Main st 1');
    client.emit('message_revoke_everyone', { ...secret, type: 'revoked', body: '' }, secret);
    client.emit('message_edit', fakeMessage({ body: 'ours', fromMe: true }), 'ours, edited', 'ours');
    await until(async () => Boolean((await MessageModel.findOne({ externalId: secret.id._serialized }))?.deletedAt));
    const edited = (await MessageModel.findOne({ externalId: typo.id._serialized }))!;
    expect(edited.text).toBe('Address: Main st 1');
    expect(edited.versions.map((v) => v.text)).toEqual(['Adress: Main st 1']);
    expect(await MessageModel.countDocuments({ direction: 'in' })).toBe(2);
  });

  it("edits the customer's copy when an operator edits an answer within WhatsApp's 15 minutes", async () => {
    const client = await connectedClient();
    const reply = await customerWroteThenOperatorReplies(client, 'Opening hours: 9-17');
    const operator = (await OperatorModel.findById(reply.author!.operatorId))!;
    await editAnswer((await MessageModel.findById(reply._id))!, operator, 'Opening hours: 9-18');
    await until(() => client.edits.length === 1);
    expect(client.edits[0]).toEqual({ id: reply.externalId, content: 'Opening hours: 9-18' });
    await until(async () => (await OutboxItemModel.countDocuments({ route: 'whatsapp' })) === 0);
    expect(client.sends).toHaveLength(1);
  });

  it('sends a correction quoting the new text when WhatsApp no longer allows the edit', async () => {
    const client = await connectedClient();
    const reply = await customerWroteThenOperatorReplies(client, 'Opening hours: 9-17');
    client.known.get(reply.externalId!)!.timestamp -= 16 * 60;
    const operator = (await OperatorModel.findById(reply.author!.operatorId))!;
    await editAnswer((await MessageModel.findById(reply._id))!, operator, 'Opening hours: 9-18');
    await until(() => client.sends.length === 2);
    expect(client.sends[1]).toMatchObject({ chatId: CHAT, content: 'Correction to our previous message:\nOpening hours: 9-18' });
    expect(client.edits).toEqual([]);
  });

  it('deletes an answer for the customer too', async () => {
    const client = await connectedClient();
    const reply = await customerWroteThenOperatorReplies(client, 'Not for you');
    const operator = (await OperatorModel.findById(reply.author!.operatorId))!;
    await deleteAnswer((await MessageModel.findById(reply._id))!, operator);
    await until(() => client.deletedForEveryone.length === 1);
    expect(client.deletedForEveryone).toEqual([reply.externalId]);
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

describe('WhatsApp Web catching up after being away', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const customerTexts = async () => (await MessageModel.find({ direction: 'in' }).sort({ createdAt: 1 }).lean()).map((m) => m.text);

  it('messages customers sent while the gateway was down are stored when it connects again, each once; old history, groups and our own messages are not', async () => {
    // The phone's history from before the gateway was ever linked.
    account.add(fakeMessage({ body: 'a question from last year', from: '491709999999@c.us', id: { _serialized: 'false_491709999999@c.us_OLD1' }, timestamp: now() - 400 * 24 * 3600 }));
    const first = await connectedClient();
    first.receive(fakeMessage({ body: 'before the restart' }));
    await until(async () => (await MessageModel.countDocuments({ text: 'before the restart' })) === 1);
    await channel.stop();

    // While the gateway is down, the phone keeps receiving (and someone answers from the phone).
    account.add(fakeMessage({ body: 'are you there?' }));
    account.add(fakeMessage({ body: 'answered on the phone', fromMe: true, from: 'business@c.us' }), CHAT);
    account.add(fakeMessage({ body: 'hello?' }));
    account.add(fakeMessage({ body: 'another customer', from: '491705555555@c.us', id: { _serialized: 'false_491705555555@c.us_NEW1' }, contact: { pushname: 'Ole', number: '491705555555' } }));
    account.add(fakeMessage({ body: 'group chatter', from: '120363041234567890@g.us', id: { _serialized: 'false_120363041234567890@g.us_G1' } }));
    account.add(fakeMessage({ type: 'e2e_notification', body: '', isNotification: true }));

    await connectedClient();
    await until(async () => (await MessageModel.countDocuments({ direction: 'in' })) === 4);
    // Connecting again finds nothing new.
    clients.at(-1)!.emit('disconnected', 'NAVIGATION');
    await until(() => clients.length === 3 && clients[2]!.initialized);
    clients[2]!.emit('ready');
    await new Promise((r) => setTimeout(r, 300));

    expect(await customerTexts()).toEqual(['before the restart', 'are you there?', 'hello?', 'another customer']);
    expect(await ConversationModel.countDocuments()).toBe(2);
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'relay' })).toBe(4);
    expect(await CustomerModel.findOne({ externalChatId: '491705555555@c.us' }).lean()).toMatchObject({ name: 'Ole', phone: '+491705555555' });
  });

  it('a message held in memory while the database was down, and lost when the gateway stopped, is stored at the next start', async () => {
    const first = await connectedClient();
    first.receive(fakeMessage({ body: 'stored before the outage' }));
    await until(async () => (await MessageModel.countDocuments({ direction: 'in' })) === 1);
    await database.stop();
    try {
      first.receive(fakeMessage({ body: 'arrived during the outage' }));
      await new Promise((r) => setTimeout(r, 1500));
      // The gateway goes down while it still holds the message: whatever it held is gone with it (an attempt
      // already on its way fails too, within the driver's 1 s server selection timeout).
      await channel.stop();
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await database.start();
    }
    expect(await MessageModel.countDocuments({ text: 'arrived during the outage' })).toBe(0);

    await connectedClient();
    // The inbox stores the message before it finishes receiving it (the relay is queued after): wait for the whole.
    await until(() => storedBy.some((s) => s.text === 'arrived during the outage'), 20_000);
    expect(await customerTexts()).toEqual(['stored before the outage', 'arrived during the outage']);
    // By the new start's catch-up: the stopped one gave up what it held.
    expect(storedBy.filter((s) => s.text === 'arrived during the outage')).toEqual([{ start: starts, text: 'arrived during the outage' }]);
  });

  it('reads back only the most recently active chats, and the latest messages of each (WHATSAPP_CATCH_UP_*)', async () => {
    const limits = { chats: 2, messagesPerChat: 2 };
    await connectedClient({ catchUp: limits });
    clients[0]!.receive(fakeMessage({ body: 'first contact' }));
    await until(async () => (await MessageModel.countDocuments({ direction: 'in' })) === 1);
    await channel.stop();

    const from = (number: string, body: string, secondsFromNow: number) =>
      account.add(fakeMessage({ body, from: `${number}@c.us`, id: { _serialized: `false_${number}@c.us_${body.replace(/\W/g, '')}` }, timestamp: now() + secondsFromNow }));
    from('491701111111', 'least recent chat', 10);
    from('491702222222', 'middle chat', 20);
    from('491703333333', 'newest chat 1', 28);
    from('491703333333', 'newest chat 2', 29);
    from('491703333333', 'newest chat 3', 30);

    await connectedClient({ catchUp: limits });
    await until(async () => (await MessageModel.countDocuments({ direction: 'in' })) === 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(await customerTexts()).toEqual(['first contact', 'middle chat', 'newest chat 2', 'newest chat 3']);
  });

  it('takes its limits from WHATSAPP_CATCH_UP_CHATS and WHATSAPP_CATCH_UP_MESSAGES, and names a bad value', () => {
    expect(loadConfig({ WHATSAPP_WEB_ENABLED: 'true', WHATSAPP_CATCH_UP_CHATS: '0', WHATSAPP_CATCH_UP_MESSAGES: '5' }).whatsappWeb?.catchUp).toEqual({ chats: 0, messagesPerChat: 5 });
    expect(() => loadConfig({ WHATSAPP_WEB_ENABLED: 'true', WHATSAPP_CATCH_UP_MESSAGES: '0' })).toThrow(/WHATSAPP_CATCH_UP_MESSAGES: expected 1 or more/);
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
