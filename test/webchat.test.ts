import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Resvg } from '@resvg/resvg-js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useStoppableDatabase } from './support/stoppable-database.js';
import { launchChromium } from './support/browser.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { visitorSocket as socketOfVisitor, webchatOptions } from './support/webchat-client.js';
import { SESSION_EXPIRED_CLOSE, TRY_AGAIN_LATER_CLOSE, WebchatChannel, type WebchatOptions } from '../channels/webchat.js';
import { signVisitorToken } from '../channels/webchat-token.js';
import { createInbox } from '../src/inbox.js';
import { sendSystemMessage } from '../src/conversations/system-message.js';
import { RATING_CHOICES } from '../src/jobs/survey.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { deleteAnswer, editAnswer, recordCustomerChange } from '../src/conversations/message-changes.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { recordDeliveryReceipt } from '../src/outbox/delivery-receipts.js';
import { ConversationModel, CustomerModel, MessageModel, OutboxItemModel } from '../src/db/models/index.js';
import type { ChannelSink } from '../src/domain.js';

// Some tests take the database down and up again: this file runs a database server of its own.
const database = useStoppableDatabase('webchat');

const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
const ALLOWED = 'https://shop.example.com';
const inbox = createInbox({ reopenWindowMs: 3600_000, logger: testLogger });
/** Visitors the channel reported typing, in order. */
const typingVisitors: string[] = [];
const sink: ChannelSink = {
  inbound: async (message) => {
    await inbox.receive(message);
  },
  changed: async (change) => {
    await recordCustomerChange(change);
  },
  typing: (channel, externalChatId) => void typingVisitors.push(`${channel}:${externalChatId}`),
  deliveryStatus: (channel, externalId, status, error) => recordDeliveryReceipt(channel, externalId, status, error),
};

/** The shared test options with this file's origin, secret and tight rate limits (the limit tests count on them). */
function channelOptions(overrides: Partial<WebchatOptions>): WebchatOptions {
  return webchatOptions({ secret: SECRET, allowedOrigins: [ALLOWED], allowedFileTypes: ['image/png', 'image/jpeg', 'text/plain'], ratePerMinute: 3, ipRatePerMinute: 10, ...overrides });
}

async function until<T>(check: () => Promise<T> | T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function pngOf(width: number, height: number, color: string): Buffer {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${color}"/><circle cx="${width / 2}" cy="${height / 2}" r="${height / 3}" fill="#fff"/></svg>`;
  return Buffer.from(new Resvg(svg).render().asPng());
}

// ---- the strict gateway: small limits, used through fastify.inject / injectWS (no port) ----------------------
let strict: FastifyInstance;
let ipCounter = 0;
const freshIp = () => `10.0.0.${++ipCounter}`;

type Frame = Record<string, unknown> & { type: string };

async function session(app: FastifyInstance, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'POST', url: '/webchat/session', payload: body, headers: { origin: ALLOWED, ...headers }, remoteAddress: freshIp() });
  return { response, body: response.json() as { token: string; visitorId: string; resumed: boolean; expiresAt: string } };
}

/** A WebSocket of a visitor on a page of `origin`; every frame the server sends is recorded from the first one on. */
const visitorSocket = (app: FastifyInstance, token: string, origin = ALLOWED) => socketOfVisitor(app, token, freshIp(), origin);

// ---- the browser test's gateway: a listening fastify, a host page on another origin, an outbox worker -----------
let browser: Browser;
let live: FastifyInstance;
let liveChannel: WebchatChannel;
let gatewayUrl = '';
let pageUrl = '';
let pageServer: http.Server;
let worker: OutboxWorker;
let gatewayOffline = false;

beforeAll(async () => {
  const strictChannel = new WebchatChannel(channelOptions({}));
  await strictChannel.start(sink);
  strict = Fastify();
  await strictChannel.registerRoutes(strict);
  await strict.ready();

  // The host page: a site of its own with loud styles that must not reach the widget.
  pageServer = http.createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(`<!doctype html><html><head><title>Shop</title><style>
      * { color: #c00 !important; font-family: "Courier New", monospace !important; }
      button { background: lime !important; border: 4px dashed #f0f !important; }
      div { border: 1px dotted #999; }
      body { background: #fffbe6; margin: 40px; }
    </style></head><body><h1>Example shop</h1><p>Host page text.</p>
    <script src="${gatewayUrl}/widget.js" data-gateway="${gatewayUrl}" data-title="Help desk" data-ask-contact="true" async></script>
    </body></html>`);
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`;

  liveChannel = new WebchatChannel(channelOptions({ allowedOrigins: [new URL(pageUrl).origin], ratePerMinute: 30, ipRatePerMinute: 1000, maxFileSize: 1024 * 1024 }));
  await liveChannel.start(sink);
  live = Fastify();
  // Lets a test take the gateway "offline" for new sessions while the widget is disconnected.
  live.addHook('onRequest', async (request, reply) => {
    if (gatewayOffline && request.url.startsWith('/webchat/')) return reply.code(503).send({ error: 'offline' });
  });
  await liveChannel.registerRoutes(live);
  await live.listen({ host: '127.0.0.1', port: 0 });
  gatewayUrl = `http://127.0.0.1:${(live.server.address() as AddressInfo).port}`;

  worker = new OutboxWorker({
    workerId: 'webchat-test',
    deliverers: new Map([['webchat', channelDeliverer(liveChannel)]]),
    logger: testLogger,
    leaseMs: 2000,
    pollIntervalMs: 50,
    maxAttempts: 5,
    sendTimeoutMs: 5000,
    events: deliveryEvents(),
  });
  worker.start();

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await live?.close();
  await strict?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
});

describe('web chat sessions', () => {
  it('issues a signed visitor token and refreshes it for the same visitor', async () => {
    const first = await session(strict);
    expect(first.response.statusCode).toBe(200);
    expect(first.body.visitorId).toMatch(/^wv_/);
    expect(first.body.resumed).toBe(false);
    expect(first.response.headers['access-control-allow-origin']).toBe(ALLOWED);

    const again = await session(strict, { token: first.body.token });
    expect(again.body).toMatchObject({ visitorId: first.body.visitorId, resumed: true });
  });

  it("gives a forged or expired token a new anonymous session, never the named visitor's chat", async () => {
    const victim = await session(strict);
    const [version, , signature] = victim.body.token.split('.');
    const otherPayload = Buffer.from(JSON.stringify({ v: 'wv_AAAAAAAAAAAAAAAA', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
    const forgedTokens = [
      `${version}.${otherPayload}.${signature}`,
      signVisitorToken('someone-elses-secret-0123456789-abcdef', { visitorId: victim.body.visitorId, expiresAt: new Date(Date.now() + 3600_000) }),
      signVisitorToken(SECRET, { visitorId: victim.body.visitorId, expiresAt: new Date(Date.now() - 1000) }),
      'garbage',
    ];
    for (const token of forgedTokens) {
      const answer = await session(strict, { token });
      expect(answer.body.resumed).toBe(false);
      expect(answer.body.visitorId).not.toBe(victim.body.visitorId);
      expect(answer.body.visitorId).not.toBe('wv_AAAAAAAAAAAAAAAA');
    }

    const refused = await visitorSocket(strict, forgedTokens[1]!);
    await refused.next('session-expired');
    await until(() => refused.closeCode() === SESSION_EXPIRED_CLOSE);
    expect(refused.frames.find((f) => f.type === 'history')).toBeUndefined();
  });

  it('refuses sites not in WEBCHAT_ALLOWED_ORIGINS, over HTTP and WebSocket, and answers CORS preflights of allowed ones', async () => {
    const evil = await session(strict, {}, { origin: 'https://evil.example.net' });
    expect(evil.response.statusCode).toBe(403);
    expect(evil.response.headers['access-control-allow-origin']).toBeUndefined();

    const preflight = await strict.inject({ method: 'OPTIONS', url: '/webchat/upload', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');

    const { body } = await session(strict);
    await expect(visitorSocket(strict, body.token, 'https://evil.example.net')).rejects.toThrow(/403/);
  });
});

describe('web chat limits', () => {
  it('stores at most WEBCHAT_RATE_PER_MINUTE messages of one visitor and tells the widget to retry the rest later', async () => {
    const { body } = await session(strict);
    const socket = await visitorSocket(strict, body.token);
    await socket.next('history');
    for (let i = 1; i <= 4; i++) socket.say(`client-msg-${i}`, `message ${i}`);
    const limited = (await socket.next('error')) as Frame & { code: string; clientId: string; retryAfterMs: number };
    expect(limited).toMatchObject({ code: 'rate_limited', clientId: 'client-msg-4' });
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    await until(() => socket.frames.filter((f) => f.type === 'ack').length === 3);
    expect((await MessageModel.find({ channel: 'webchat' }).lean()).map((m) => m.text).sort()).toEqual(['message 1', 'message 2', 'message 3']);
    socket.ws.terminate();
  });

  it('limits new sessions per IP address', async () => {
    const answers = [];
    for (let i = 0; i < 11; i++) answers.push(await strict.inject({ method: 'POST', url: '/webchat/session', payload: {}, headers: { origin: ALLOWED }, remoteAddress: '192.0.2.7' }));
    expect(answers.slice(0, 10).every((a) => a.statusCode === 200)).toBe(true);
    expect(answers[10]!.statusCode).toBe(429);
    expect(Number(answers[10]!.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('accepts uploads within the configured size and types only, and serves a file only to its visitor', async () => {
    const owner = await session(strict);
    const stranger = await session(strict);
    const upload = (token: string | undefined, type: string, payload: Buffer) =>
      strict.inject({ method: 'POST', url: '/webchat/upload', payload, remoteAddress: freshIp(), headers: { origin: ALLOWED, 'content-type': type, 'x-file-name': encodeURIComponent('photo ü.png'), ...(token ? { authorization: `Bearer ${token}` } : {}) } });

    expect((await upload(undefined, 'image/png', pngOf(4, 4, '#00f'))).statusCode).toBe(401);
    expect((await upload(owner.body.token, 'application/zip', Buffer.from('PK\u0003\u0004'))).statusCode).toBe(415);
    expect((await upload(owner.body.token, 'image/png', Buffer.from('<script>alert(1)</script>'))).statusCode).toBe(415);
    expect((await upload(stranger.body.token, 'text/plain', Buffer.alloc(64 * 1024 + 1, 'a'))).statusCode).toBe(413);

    const png = pngOf(8, 8, '#0a0');
    const accepted = await upload(owner.body.token, 'image/png', png);
    expect(accepted.statusCode).toBe(200);
    const file = accepted.json() as { id: string; url: string; fileName: string; kind: string };
    expect(file).toMatchObject({ fileName: 'photo ü.png', kind: 'photo' });

    const mine = await strict.inject({ method: 'GET', url: `${file.url}?token=${encodeURIComponent(owner.body.token)}` });
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['content-type']).toBe('image/png');
    expect(mine.headers['x-content-type-options']).toBe('nosniff');
    expect(mine.rawPayload.equals(png)).toBe(true);
    expect((await strict.inject({ method: 'GET', url: `${file.url}?token=${encodeURIComponent(stranger.body.token)}` })).statusCode).toBe(404);
    expect((await strict.inject({ method: 'GET', url: file.url })).statusCode).toBe(404);
  });
});

describe('web chat conversations', () => {
  it("replays a visitor's own messages on reconnect and shows another visitor nothing of them", async () => {
    const alice = await session(strict);
    const bob = await session(strict);
    const first = await visitorSocket(strict, alice.body.token);
    await first.next('history');
    first.say('alice-0001', 'my order number is 4711');
    await first.next('ack');
    first.ws.terminate();

    const bobSocket = await visitorSocket(strict, bob.body.token);
    expect(await bobSocket.next('history')).toMatchObject({ messages: [] });
    bobSocket.ws.terminate();

    const again = await visitorSocket(strict, alice.body.token);
    const history = (await again.next('history')) as Frame & { messages: Array<{ text: string; from: string; clientId?: string }> };
    expect(history.messages).toEqual([expect.objectContaining({ text: 'my order number is 4711', from: 'visitor', clientId: 'alice-0001' })]);
    // The same message re-sent from the offline queue after a lost ack is stored once.
    again.say('alice-0001', 'my order number is 4711');
    await again.next('ack');
    expect(await MessageModel.countDocuments({ channel: 'webchat' })).toBe(1);
    again.ws.terminate();
  });
});

describe('web chat edits and deletions', () => {
  type History = Frame & { messages: Array<{ id: string; text: string; edited?: true }> };

  it('a visitor edits and deletes their messages: stored as a version and a mark, their other tabs follow, the history shows the result', async () => {
    const alice = await session(strict);
    const tab = await visitorSocket(strict, alice.body.token);
    const otherTab = await visitorSocket(strict, alice.body.token);
    await tab.next('history');
    await otherTab.next('history');
    tab.say('edit-0001', 'I want 3 mugs');
    await tab.next('ack');
    tab.say('edit-0002', 'my phone is 555-0100');
    await until(() => tab.frames.filter((f) => f.type === 'ack').length === 2);

    tab.send({ type: 'edit', clientId: 'edit-0001', text: 'I want 4 mugs' });
    tab.send({ type: 'delete', clientId: 'edit-0002' });
    const id = `${alice.body.visitorId}:edit-0001`;
    expect(await otherTab.next('edit')).toMatchObject({ id, text: 'I want 4 mugs' });
    expect(await otherTab.next('delete')).toMatchObject({ id: `${alice.body.visitorId}:edit-0002` });
    const edited = (await MessageModel.findOne({ externalId: id }))!;
    expect(edited.text).toBe('I want 4 mugs');
    expect(edited.versions.map((v) => v.text)).toEqual(['I want 3 mugs']);
    expect((await MessageModel.findOne({ externalId: `${alice.body.visitorId}:edit-0002` }))!.deletedAt).toBeInstanceOf(Date);

    const again = await visitorSocket(strict, alice.body.token);
    const history = (await again.next('history')) as History;
    expect(history.messages).toEqual([expect.objectContaining({ id, text: 'I want 4 mugs', edited: true })]);
    for (const socket of [tab, otherTab, again]) socket.ws.terminate();
  });

  it("refuses an edit of another visitor's message without changing it", async () => {
    const alice = await session(strict);
    const mallory = await session(strict);
    const aliceTab = await visitorSocket(strict, alice.body.token);
    await aliceTab.next('history');
    aliceTab.say('mine-00001', 'original words');
    await aliceTab.next('ack');
    const malloryTab = await visitorSocket(strict, mallory.body.token);
    await malloryTab.next('history');
    malloryTab.send({ type: 'edit', clientId: 'mine-00001', text: 'forged words' });
    malloryTab.send({ type: 'ping' });
    await malloryTab.next('pong');
    await until(async () => (await MessageModel.findOne({ externalId: `${alice.body.visitorId}:mine-00001` }))?.text === 'original words');
    expect(await MessageModel.countDocuments({ text: 'forged words' })).toBe(0);
    aliceTab.ws.terminate();
    malloryTab.ws.terminate();
  });

  it("an operator's edit replaces the reply's text in the open widget, and a deletion takes it away, also from the history", async () => {
    const origin = new URL(pageUrl).origin;
    const visitor = await session(live, {}, { origin });
    const tab = await visitorSocket(live, visitor.body.token, origin);
    await tab.next('history');
    tab.say('ask-000001', 'Where is my parcel?');
    await tab.next('ack');
    const conversation = (await ConversationModel.findOne({ channel: 'webchat' }).sort({ createdAt: -1 }))!;
    const operator = await createOperator();
    const reply = await replyToCustomer({ conversation, operator, text: 'It left on Monday' });
    const shown = await tab.next('message');
    await until(async () => (await MessageModel.findById(reply._id))?.externalId);

    await editAnswer((await MessageModel.findById(reply._id))!, operator, 'It left on Tuesday');
    expect(await tab.next('edit')).toEqual({ type: 'edit', id: (shown.message as { id: string }).id, text: 'It left on Tuesday' });
    await deleteAnswer((await MessageModel.findById(reply._id))!, operator);
    expect(await tab.next('delete')).toEqual({ type: 'delete', id: String(reply._id) });

    const again = await visitorSocket(live, visitor.body.token, origin);
    const history = (await again.next('history')) as History;
    expect(history.messages.map((m) => m.text)).toEqual(['Where is my parcel?']);
    tab.ws.terminate();
    again.ws.terminate();
  });
});

describe('web chat during a database outage', () => {
  it('a message the database cannot take gets a retryable error instead of an ack; sent again afterwards it is acked and stored once', async () => {
    const { body } = await session(strict);
    const socket = await visitorSocket(strict, body.token);
    await socket.next('history');
    await database.stop();
    try {
      socket.say('outage-0001', 'sent during the outage');
      expect(await socket.next('error')).toMatchObject({ code: 'unavailable', clientId: 'outage-0001', retryAfterMs: expect.any(Number) });
      // A widget that connects now cannot get its history: it is told to come back later, not left waiting.
      const late = await visitorSocket(strict, body.token);
      await until(() => late.closeCode() === TRY_AGAIN_LATER_CLOSE);
      expect(late.frames.map((f) => f.type)).toEqual(['error']);
    } finally {
      await database.start();
    }
    expect(socket.frames.filter((f) => f.type === 'ack')).toEqual([]);
    const errors = socket.frames.length;
    socket.say('outage-0001', 'sent during the outage');
    await socket.next('ack', errors);
    expect(await MessageModel.find({ channel: 'webchat' }).lean()).toEqual([expect.objectContaining({ text: 'sent during the outage', externalId: `${body.visitorId}:outage-0001` })]);
    socket.ws.terminate();
  });
});

describe('web chat in a real browser', () => {
  async function openWidget(page: Page) {
    await page.goto(pageUrl);
    await page.locator('.launcher').click();
    await page.locator('.panel').waitFor({ state: 'visible' });
  }

  it('a visitor writes and sends a picture, operators get it, and the reply appears in the widget as text', { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
    const page = await context.newPage();
    await openWidget(page);

    // data-ask-contact="true": the contact form comes first.
    await page.locator('input[name=name]').fill('Dana Visitor');
    await page.locator('input[name=email]').fill('dana@example.com');
    await page.locator('.form button').click();
    await page.locator('textarea').pressSequentially('Hello, my parcel has not arrived');
    await page.locator('textarea').press('Enter');

    const stored = await until(() => MessageModel.findOne({ channel: 'webchat', text: 'Hello, my parcel has not arrived' }).lean());
    const conversation = (await ConversationModel.findById(stored.conversation))!;
    expect(conversation).toMatchObject({ channel: 'webchat', status: 'new' });
    // Typing the message told support once (the widget repeats it at most every 3 s), as this visitor.
    const visitor = (await CustomerModel.findById(conversation.customer).lean())!.externalChatId;
    expect(typingVisitors).toEqual([`webchat:${visitor}`]);
    expect(await CustomerModel.findById(conversation.customer).lean()).toMatchObject({ name: 'Dana Visitor', email: 'dana@example.com' });
    await until(() => OutboxItemModel.findOne({ route: 'console', action: 'relay', message: stored._id }).lean());
    await page.locator('.msg.visitor:not(.pending)').filter({ hasText: 'Hello, my parcel' }).waitFor();

    await page.locator('input[type=file]').setInputFiles({ name: 'parcel.png', mimeType: 'image/png', buffer: pngOf(160, 90, '#2a9d8f') });
    const picture = await until(() => MessageModel.findOne({ conversation: conversation._id, 'attachments.kind': 'photo' }).lean());
    expect(picture.attachments[0]).toMatchObject({ fileName: 'parcel.png', mimeType: 'image/png', ref: expect.stringMatching(/^wc:/) });
    await until(() => OutboxItemModel.findOne({ route: 'console', action: 'relay', message: picture._id }).lean());
    await until(() => page.locator('.msg.visitor img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 160));

    const operator = await createOperator({ name: 'Olga' });
    const reply = 'Sorry about that, Dana! <b>I am on it</b> <img src=x onerror="window.__pwned=1">';
    await replyToCustomer({ conversation, operator, text: reply });
    const shown = page.locator('.msg.operator').filter({ hasText: 'Sorry about that, Dana!' });
    await shown.waitFor();
    expect(await shown.locator('.text').textContent()).toBe(reply);
    expect(await shown.locator('b, img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // The widget confirmed it showed the reply: the operator sees it delivered, not just sent.
    await until(async () => (await MessageModel.findOne({ direction: 'out' }).lean())?.delivery?.status === 'delivered');

    // Offered answers are buttons under the newest message; a tap sends its text and takes the buttons away.
    await sendSystemMessage(conversation, 'How would you rate our help, 1 to 5?', { quickReplies: RATING_CHOICES });
    const choices = page.locator('.msg.operator').filter({ hasText: 'How would you rate' }).locator('.choice');
    await choices.first().waitFor();
    expect(await choices.allTextContents()).toEqual(RATING_CHOICES);
    await choices.filter({ hasText: '5' }).click();
    await until(() => MessageModel.findOne({ conversation: conversation._id, direction: 'in', text: '5' }).lean());
    expect(await page.locator('.choice').count()).toBe(0);

    // The host page's loud styles do not reach into the widget.
    const sendStyle = await page.locator('.send').evaluate((button) => {
      const style = getComputedStyle(button);
      return { background: style.backgroundColor, color: style.color, border: style.borderStyle };
    });
    expect(sendStyle).toEqual({ background: 'rgb(37, 99, 235)', color: 'rgb(255, 255, 255)', border: 'none' });

    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/webchat-widget.png' });

    // Connection lost: a message written meanwhile waits in the widget's queue and goes out on reconnect.
    gatewayOffline = true;
    for (const client of live.websocketServer.clients) client.terminate();
    await page.locator('.status.show').waitFor();
    await page.locator('textarea').fill('written while offline');
    await page.locator('textarea').press('Enter');
    await page.locator('.msg.visitor.pending').filter({ hasText: 'written while offline' }).waitFor();
    expect(await MessageModel.countDocuments({ text: 'written while offline' })).toBe(0);
    gatewayOffline = false;
    await until(() => MessageModel.findOne({ text: 'written while offline' }).lean(), 30_000);
    await page.locator('.msg.visitor:not(.pending)').filter({ hasText: 'written while offline' }).waitFor();
    // History came back with the reconnect: the whole chat is still there, once.
    expect(await page.locator('.msg.operator').count()).toBe(1);
    expect(await page.locator('.msg.system').filter({ hasText: 'How would you rate' }).count()).toBe(1);
    expect(await page.locator('.msg.visitor').count()).toBe(4);
    await context.close();
  });

  it('a message written during a database outage stays queued in the widget, is acked only once stored, and appears once', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // What went over the widget's WebSockets, with the time each frame was seen.
    const sent: Array<{ at: number; frame: Frame }> = [];
    const received: Array<{ at: number; frame: Frame }> = [];
    page.on('websocket', (ws) => {
      ws.on('framesent', ({ payload }) => sent.push({ at: Date.now(), frame: JSON.parse(String(payload)) as Frame }));
      ws.on('framereceived', ({ payload }) => received.push({ at: Date.now(), frame: JSON.parse(String(payload)) as Frame }));
    });
    await openWidget(page);
    await page.locator('.form button').click();
    await page.locator('textarea').fill('before the outage');
    await page.locator('textarea').press('Enter');
    await page.locator('.msg.visitor:not(.pending)').filter({ hasText: 'before the outage' }).waitFor();

    await database.stop();
    let restartedAt = 0;
    try {
      await page.locator('textarea').fill('written during the outage');
      await page.locator('textarea').press('Enter');
      const clientId = (await until(() => sent.find((s) => s.frame.type === 'message' && s.frame.text === 'written during the outage')))!.frame.clientId;
      await until(() => received.some((r) => r.frame.type === 'error' && r.frame.code === 'unavailable' && r.frame.clientId === clientId));
      // Meanwhile the connection drops too: the widget reconnects, is told to come back later, and keeps the message.
      for (const client of live.websocketServer.clients) client.terminate();
      await until(() => received.some((r) => r.frame.type === 'error' && r.frame.code === 'unavailable' && !r.frame.clientId), 30_000);
      await page.locator('.msg.visitor.pending').filter({ hasText: 'written during the outage' }).waitFor();
      expect(received.filter((r) => r.frame.type === 'ack' && r.frame.clientId === clientId)).toEqual([]);
    } finally {
      await database.start();
      restartedAt = Date.now();
    }
    await page.locator('.msg.visitor:not(.pending)').filter({ hasText: 'written during the outage' }).waitFor({ timeout: 60_000 });
    expect(await MessageModel.countDocuments({ channel: 'webchat', text: 'written during the outage' })).toBe(1);
    const clientId = sent.find((s) => s.frame.text === 'written during the outage')!.frame.clientId;
    const acks = received.filter((r) => r.frame.type === 'ack' && r.frame.clientId === clientId);
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.every((a) => a.at > restartedAt)).toBe(true);
    // It was sent more than once (retries, the resend after reconnecting) and is shown once.
    expect(sent.filter((s) => s.frame.clientId === clientId).length).toBeGreaterThan(1);
    expect(await page.locator('.msg.visitor').allTextContents()).toEqual(['before the outage', 'written during the outage']);
    await page.reload();
    await page.locator('.launcher').click();
    await page.locator('.msg.visitor').nth(1).waitFor();
    expect(await page.locator('.msg.visitor').allTextContents()).toEqual(['before the outage', 'written during the outage']);
    await context.close();
  });

  it('a visitor with more tabs than allowed: the oldest tab lets go without reconnecting until it is used again', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const visitorSockets = () => [...live.websocketServer.clients].filter((c) => c.readyState === 1).length;
    const before = visitorSockets();
    const pages: Page[] = [];
    for (let i = 0; i < 6; i++) {
      const page = await context.newPage();
      if (i === 0) await openWidget(page);
      else await page.goto(pageUrl);
      // Every tab after the first connects at once (the visitor has a token): wait until its socket is there.
      await until(() => visitorSockets() === before + Math.min(i + 1, 5) || (i === 5 && visitorSockets() === before + 5));
      pages.push(page);
    }
    await pages[0]!.locator('.status.show').filter({ hasText: 'open in another tab' }).waitFor();
    // No reconnect loop between the tabs.
    await new Promise((r) => setTimeout(r, 3000));
    expect(visitorSockets()).toBe(before + 5);
    expect(await pages[1]!.locator('.status.show').count()).toBe(0);
    // Used again, the first tab takes a socket back; now the second is the oldest and lets go.
    await pages[0]!.locator('.launcher').click(); // closes the panel it had open
    await pages[0]!.locator('.launcher').click(); // and opens it again
    // Its panel is closed: the notice waits there for when the visitor opens it.
    await pages[1]!.locator('.status.show').filter({ hasText: 'open in another tab' }).waitFor({ state: 'attached' });
    await until(() => pages[0]!.locator('.status.show').count().then((n) => n === 0));
    expect(visitorSockets()).toBe(before + 5);
    await context.close();
  });

  it("a second visitor in another browser sees none of the first visitor's chat", { timeout: 60_000 }, async () => {
    const first = await browser.newContext();
    const firstPage = await first.newPage();
    await openWidget(firstPage);
    await firstPage.locator('.form button').click();
    await firstPage.locator('textarea').fill('first visitor secret: card ends 4242');
    await firstPage.locator('textarea').press('Enter');
    await firstPage.locator('input[type=file]').setInputFiles({ name: 'receipt.png', mimeType: 'image/png', buffer: pngOf(40, 40, '#e76f51') });
    const withFile = await until(() => MessageModel.findOne({ 'attachments.fileName': 'receipt.png' }).lean());
    const fileUrl = `${gatewayUrl}/webchat/files/${withFile.attachments[0]!.ref!.slice('wc:'.length)}`;

    const second = await browser.newContext();
    const secondPage = await second.newPage();
    await openWidget(secondPage);
    await secondPage.locator('.form button').click();
    await secondPage.locator('textarea').fill('second visitor here');
    await secondPage.locator('textarea').press('Enter');
    await secondPage.locator('.msg.visitor:not(.pending)').filter({ hasText: 'second visitor here' }).waitFor();

    expect(await secondPage.locator('.msg').allTextContents()).toEqual(['second visitor here']);
    const peek = await secondPage.evaluate(async (url) => {
      const key = Object.keys(localStorage).find((k) => k.startsWith('support-gateway-webchat:'))!;
      const { token } = JSON.parse(localStorage.getItem(key)!) as { token: string };
      return (await fetch(`${url}?token=${encodeURIComponent(token)}`)).status;
    }, fileUrl);
    expect(peek).toBe(404);
    expect(await ConversationModel.countDocuments({ channel: 'webchat' })).toBe(2);
    await Promise.all([first.close(), second.close()]);
  });
});
