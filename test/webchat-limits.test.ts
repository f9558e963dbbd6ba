import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { freshAddress, openSession, recordingLogger, until, visitorSocket, webchatOptions } from './support/webchat-client.js';
import { testLogger } from './support/logger.js';
import { WebchatChannel, TOO_MANY_TABS_CLOSE, type WebchatOptions } from '../channels/webchat.js';
import { createInbox } from '../src/inbox.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { createHttpServer } from '../src/http/server.js';
import { CustomerModel, MessageModel, WebchatFileModel, WebchatVisitorModel } from '../src/db/models/index.js';
import type { ChannelSink, InboundMessage } from '../src/domain.js';

useTestDatabase();
const inbox = createInbox({ reopenWindowMs: 3600_000, logger: testLogger });

interface Chat {
  app: FastifyInstance;
  channel: WebchatChannel;
  metrics: Metrics;
  typing: string[];
  logs: Array<Record<string, unknown>>;
  url: string;
}

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

/** A web chat on a fastify app of its own (listening on a port when asked), with its metrics and log lines. */
async function startChat(overrides: Partial<WebchatOptions> = {}, options: { listen?: boolean; sink?: Partial<ChannelSink>; app?: FastifyInstance } = {}): Promise<Chat> {
  const metrics = createMetrics(async () => 0);
  const { logger, lines } = recordingLogger();
  const typing: string[] = [];
  const channel = new WebchatChannel(webchatOptions({ logger, metrics, ...overrides }));
  await channel.start({
    inbound: async (message) => {
      await inbox.receive(message);
    },
    typing: (kind, chat) => void typing.push(`${kind}:${chat}`),
    ...options.sink,
  });
  const app = options.app ?? Fastify();
  await channel.registerRoutes(app);
  let url = '';
  if (options.listen) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  } else {
    await app.ready();
  }
  running.push(async () => {
    await app.close();
    await channel.stop();
  });
  return { app, channel, metrics, typing, logs: lines, url };
}

async function counted(metrics: Metrics, name: 'webchatFramesRefused' | 'webchatConnectsRefused' | 'webchatSocketsClosed' | 'webchatUploadsRefused', reason: string): Promise<number> {
  const { values } = await metrics[name].get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

const refusalLines = (chat: Chat) => chat.logs.filter((l) => l.msg === 'web chat frame refused; further refusals on this socket are only counted');

describe('frames of one socket', () => {
  it('tells the operators a visitor types at most once every few seconds, and closes a socket that floods typing', async () => {
    const chat = await startChat();
    const { token, visitorId } = await openSession(chat.app);
    const socket = await visitorSocket(chat.app, token);
    await socket.next('history');
    for (let i = 0; i < 500; i++) socket.send({ type: 'typing' });
    await until(() => socket.closeCode() === 1008);
    expect(chat.typing).toEqual([`webchat:${visitorId}`]);
    expect(socket.frames.map((f) => f.type)).toEqual(['history']);
    expect(await counted(chat.metrics, 'webchatFramesRefused', 'over_budget')).toBeGreaterThanOrEqual(20);
    expect(await counted(chat.metrics, 'webchatSocketsClosed', 'abuse')).toBe(1);
    // Another tab of the same visitor within the same few seconds: still once.
    const second = await visitorSocket(chat.app, token);
    await second.next('history');
    second.send({ type: 'typing' });
    second.send({ type: 'ping' });
    await second.next('pong');
    expect(chat.typing).toHaveLength(1);
  });

  it('answers pings within their budget only, and closes a socket that keeps pinging', async () => {
    const chat = await startChat();
    const { token } = await openSession(chat.app);
    const socket = await visitorSocket(chat.app, token);
    await socket.next('history');
    for (let i = 0; i < 200; i++) socket.send({ type: 'ping' });
    await until(() => socket.closeCode() === 1008);
    const pongs = socket.frames.filter((f) => f.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(5);
    expect(pongs).toBeLessThanOrEqual(6);
  });

  it('answers unreadable and unknown frames, closes the socket at the third, and logs it once at info, without a stack', async () => {
    const chat = await startChat();
    const { token } = await openSession(chat.app);
    const socket = await visitorSocket(chat.app, token);
    await socket.next('history');
    socket.ws.send('this is not json');
    socket.send({ type: 'shout', text: 'hello' });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    socket.ws.send('{"type":"ping"'); // after the close: never read
    await until(() => socket.closeCode() === 1008);
    expect(socket.frames.filter((f) => f.type === 'error').map((f) => f.code)).toEqual(['bad_frame', 'bad_frame']);
    expect(await counted(chat.metrics, 'webchatFramesRefused', 'malformed')).toBe(2);
    expect(await counted(chat.metrics, 'webchatFramesRefused', 'unknown_type')).toBe(1);
    expect(refusalLines(chat)).toEqual([expect.objectContaining({ level: 30, reason: 'malformed' })]);
    expect(refusalLines(chat)[0]).not.toHaveProperty('err');
    expect(chat.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('closes a socket that sends a frame over 16 KB, counted as too_large and logged once at info, without a stack', async () => {
    const chat = await startChat();
    const { token } = await openSession(chat.app);
    const sockets = [await visitorSocket(chat.app, token), await visitorSocket(chat.app, token)];
    for (const socket of sockets) {
      await socket.next('history');
      socket.send({ type: 'message', clientId: 'too-large-0001', text: 'x'.repeat(17 * 1024) });
    }
    await until(() => sockets.every((s) => s.closeCode() === 1009));
    expect(await counted(chat.metrics, 'webchatFramesRefused', 'too_large')).toBe(2);
    // One line per socket, at info, no error object (no stack); nothing at error level.
    expect(refusalLines(chat)).toEqual([expect.objectContaining({ level: 30, reason: 'too_large' }), expect.objectContaining({ level: 30, reason: 'too_large' })]);
    expect(chat.logs.some((l) => 'err' in l || (l.level as number) >= 50)).toBe(false);
  });

  it('lets at most 16 messages of a socket wait to be stored; the rest are told at once to come back later', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const chat = await startChat({}, { sink: { inbound: async (message: InboundMessage) => (await gate, void (await inbox.receive(message))) } });
    const { token } = await openSession(chat.app);
    const socket = await visitorSocket(chat.app, token);
    await socket.next('history');
    for (let i = 0; i < 20; i++) socket.say(`queued-msg-${String(i).padStart(2, '0')}`, `message ${i}`);
    await until(() => socket.frames.filter((f) => f.type === 'error').length === 4);
    expect(socket.frames.filter((f) => f.type === 'error')).toEqual(['16', '17', '18', '19'].map((n) => expect.objectContaining({ code: 'rate_limited', clientId: `queued-msg-${n}`, retryAfterMs: expect.any(Number) })));
    expect(socket.frames.some((f) => f.type === 'ack')).toBe(false);
    open();
    await until(() => socket.frames.filter((f) => f.type === 'ack').length === 16);
    expect(await MessageModel.countDocuments({ channel: 'webchat' })).toBe(16);
    expect(await counted(chat.metrics, 'webchatFramesRefused', 'queue_full')).toBe(4);
  });
});

describe('sockets of one visitor and of one address', () => {
  it('keeps at most WEBCHAT_TABS_PER_VISITOR sockets of a visitor open, closing the oldest first', async () => {
    const chat = await startChat({ tabsPerVisitor: 3 });
    const { token } = await openSession(chat.app);
    const tabs: Array<Awaited<ReturnType<typeof visitorSocket>>> = [];
    for (let i = 0; i < 5; i++) {
      const tab = await visitorSocket(chat.app, token);
      await tab.next('history');
      tabs.push(tab);
    }
    await until(() => tabs.filter((t) => t.closeCode() !== undefined).length === 2);
    expect(tabs.map((t) => t.closeCode())).toEqual([TOO_MANY_TABS_CLOSE, TOO_MANY_TABS_CLOSE, undefined, undefined, undefined]);
    expect(await counted(chat.metrics, 'webchatSocketsClosed', 'too_many_tabs')).toBe(2);
    // The newest tabs work.
    tabs[4]!.send({ type: 'ping' });
    await tabs[4]!.next('pong');
  });

  it('refuses WebSocket connects beyond WEBCHAT_IP_CONNECTS_PER_MINUTE from one address with 429, before the upgrade', async () => {
    const chat = await startChat({ ipConnectsPerMinute: 3 });
    const address = freshAddress();
    for (let i = 0; i < 3; i++) {
      const { token } = await openSession(chat.app);
      (await visitorSocket(chat.app, token, address)).ws.terminate();
    }
    const { token } = await openSession(chat.app);
    await expect(visitorSocket(chat.app, token, address)).rejects.toThrow(/429/);
    await expect(visitorSocket(chat.app, token, freshAddress())).resolves.toBeDefined();
    expect(await counted(chat.metrics, 'webchatConnectsRefused', 'address_rate')).toBe(1);
  });

  it('refuses one visitor more than 30 connects a minute, whatever their address', async () => {
    const chat = await startChat();
    const { token } = await openSession(chat.app);
    for (let i = 0; i < 30; i++) (await visitorSocket(chat.app, token)).ws.terminate();
    await expect(visitorSocket(chat.app, token)).rejects.toThrow(/429/);
    expect(await counted(chat.metrics, 'webchatConnectsRefused', 'visitor_rate')).toBe(1);
  });

  it("keeps the browser's language the widget sends as the visitor's, for the gateway's messages to them", async () => {
    const chat = await startChat();
    const { token, visitorId } = await openSession(chat.app);
    const socket = await visitorSocket(chat.app, token);
    await socket.next('history');
    socket.send({ type: 'message', clientId: 'language-1', text: 'hi', profile: { language: 'ru-RU' } });
    await until(() => socket.frames.some((f) => f.type === 'ack'));
    expect(await CustomerModel.findOne({ channel: 'webchat', externalChatId: visitorId }).lean()).toMatchObject({ language: 'ru-RU', languageFrom: 'channel' });
  });

  it('gives a reconnecting widget the latest WEBCHAT_HISTORY_MESSAGES messages only', async () => {
    const chat = await startChat({ historyMessages: 5 });
    const { token, visitorId } = await openSession(chat.app);
    const socket = await visitorSocket(chat.app, token);
    await socket.next('history');
    for (let i = 1; i <= 17; i++) {
      socket.say(`history-msg-${i}`, `message ${i}`);
      await until(() => socket.frames.filter((f) => f.type === 'ack').length === i);
    }
    socket.ws.terminate();
    const again = await visitorSocket(chat.app, token);
    const history = (await again.next('history')) as unknown as { messages: Array<{ text: string }> };
    expect(history.messages.map((m) => m.text)).toEqual(['message 13', 'message 14', 'message 15', 'message 16', 'message 17']);
    // The list of latest message ids is cut back as it grows: a long chat costs no more on connect.
    expect((await WebchatVisitorModel.findById(visitorId).lean())!.recent!.length).toBeLessThanOrEqual(15);
  });

  it('lists, once, the history of a visitor who wrote before the gateway kept the list', async () => {
    const chat = await startChat();
    const { token, visitorId } = await openSession(chat.app);
    for (let i = 1; i <= 3; i++) {
      await inbox.receive({ channel: 'webchat', externalChatId: visitorId, externalMessageId: `${visitorId}:legacy-000${i}`, text: `written before ${i}`, attachments: [], profile: {}, sentAt: new Date(Date.now() - (10 - i) * 1000), meta: [] });
    }
    expect(await WebchatVisitorModel.findById(visitorId).lean()).toBeNull();
    const socket = await visitorSocket(chat.app, token);
    const history = (await socket.next('history')) as unknown as { messages: Array<{ text: string; clientId?: string }> };
    expect(history.messages.map((m) => [m.text, m.clientId])).toEqual([1, 2, 3].map((i) => [`written before ${i}`, `legacy-000${i}`]));
    expect(await WebchatVisitorModel.findById(visitorId).lean()).toMatchObject({ listed: true, recent: expect.any(Array) });
  });
});

describe('uploads', () => {
  const upload = (app: FastifyInstance, token: string, bytes: number, address = freshAddress()) =>
    app.inject({ method: 'POST', url: '/webchat/upload', payload: Buffer.alloc(bytes, 'a'), remoteAddress: address, headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}`, 'x-file-name': 'notes.txt' } });

  it('deletes the uploads no message sent after WEBCHAT_UNSENT_UPLOAD_TTL and keeps the ones sent', async () => {
    const chat = await startChat({ unsentUploadTtlMs: 1000 });
    const { token } = await openSession(chat.app);
    const sent = (await upload(chat.app, token, 100)).json() as { id: string; url: string };
    const unsent = (await upload(chat.app, token, 100)).json() as { id: string; url: string };
    const socket = await visitorSocket(chat.app, token);
    await socket.next('history');
    socket.say('with-file-0001', 'here it is', [sent.id]);
    await socket.next('ack');
    await until(async () => !(await WebchatFileModel.exists({ _id: unsent.id })), 10_000);
    const fetch = (file: { url: string }) => chat.app.inject({ method: 'GET', url: `${file.url}?token=${encodeURIComponent(token)}` });
    expect((await fetch(unsent)).statusCode).toBe(404);
    expect((await fetch(sent)).statusCode).toBe(200);
    expect(await chat.metrics.webchatUnsentUploadsDeleted.get()).toMatchObject({ values: [expect.objectContaining({ value: 1 })] });
  });

  it("caps a visitor's upload volume per hour, with a 429 that says when to try again", async () => {
    const chat = await startChat({ uploadBytesPerHour: 100 * 1024 });
    const { token } = await openSession(chat.app);
    expect((await upload(chat.app, token, 40 * 1024)).statusCode).toBe(200);
    expect((await upload(chat.app, token, 40 * 1024)).statusCode).toBe(200);
    const refused = await upload(chat.app, token, 40 * 1024);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'volume', error: expect.stringMatching(/uploaded too much in the last hour; please try again in \d+ min/) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(60);
    // Another visitor is not affected.
    expect((await upload(chat.app, (await openSession(chat.app)).token, 40 * 1024)).statusCode).toBe(200);
    expect(await counted(chat.metrics, 'webchatUploadsRefused', 'volume')).toBe(1);
  });

  it('caps the upload volume of one address across its visitors', async () => {
    const chat = await startChat({ ipUploadBytesPerHour: 100 * 1024 });
    const address = freshAddress();
    expect((await upload(chat.app, (await openSession(chat.app)).token, 60 * 1024, address)).statusCode).toBe(200);
    expect((await upload(chat.app, (await openSession(chat.app)).token, 60 * 1024, address)).statusCode).toBe(429);
  });

  it('lets one visitor upload two files at a time, and cuts off a body that grows past the size limit with 413', async () => {
    const chat = await startChat({}, { listen: true });
    const { token } = await openSession(chat.app);
    const { port } = new URL(chat.url);
    const slow = () => {
      const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/webchat/upload', headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}`, 'content-length': 1000 } });
      request.on('error', () => undefined);
      request.write('a'.repeat(10));
      return request;
    };
    const inProgress = [slow(), slow()];
    await new Promise((r) => setTimeout(r, 200));
    const third = await fetch(`${chat.url}/webchat/upload`, { method: 'POST', body: 'abc', headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` } });
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ code: 'busy' });
    for (const request of inProgress) request.destroy();

    // No Content-Length (chunked): refused as soon as it has grown past WEBCHAT_MAX_FILE_SIZE (64 KB here).
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/webchat/upload', headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` } }, (response) => resolve(response.statusCode!));
      request.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 'b');
      let sent = 0;
      const pump = () => {
        while (sent < 1000 && request.write(chunk)) sent += 1;
        if (sent < 1000) request.once('drain', pump);
      };
      pump();
    });
    expect(status).toBe(413);
    expect(await WebchatFileModel.countDocuments()).toBe(0);
  });
});

describe('HTTP timeouts', () => {
  it('drops a client that sends its headers too slowly, while WebSockets stay open and /healthz answers', async () => {
    const metrics = createMetrics(async () => 0);
    const app = await createHttpServer({ logger: testLogger, metrics, health: { database: () => ({ up: true }), components: () => ({}) }, timeouts: { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 500 } });
    const chat = await startChat({}, { listen: true, app });
    const { token } = await openSession(chat.app);
    const ws = new WebSocket(`${chat.url.replace('http', 'ws')}/webchat/ws?token=${encodeURIComponent(token)}`);
    const frames: string[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(String(data)).type as string));
    await until(() => frames.includes('history'));

    const startedAt = Date.now();
    const slowloris = net.connect(Number(new URL(chat.url).port), '127.0.0.1');
    slowloris.on('error', () => undefined);
    slowloris.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
    const trickle = setInterval(() => slowloris.write('X-Slow: 1\r\n'), 100);
    await new Promise((resolve) => slowloris.once('close', resolve));
    clearInterval(trickle);
    expect(Date.now() - startedAt).toBeLessThan(2500);

    expect((await fetch(`${chat.url}/healthz`)).status).toBe(200);
    // Past the request timeout and more: the WebSocket still works.
    await new Promise((r) => setTimeout(r, 2500));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.send(JSON.stringify({ type: 'ping' }));
    await until(() => frames.includes('pong'));
    ws.close();
  });
});
