import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { openSession, until, visitorSocket, webchatOptions } from './support/webchat-client.js';
import { WebchatChannel } from '../channels/webchat.js';
import { createInbox } from '../src/inbox.js';
import { replyToCustomer } from '../src/conversations/operator-actions.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { recordDeliveryReceipt } from '../src/outbox/delivery-receipts.js';
import { ConversationModel, MessageModel, OutboxItemModel, WebchatRunModel, WebchatVisitorModel } from '../src/db/models/index.js';
import type { ChannelSink } from '../src/domain.js';

/**
 * Two gateway copies on one database, each with its web chat and its outbox worker (worker id = instance id, as
 * in src/app.ts): a reply handled by the copy the visitor is not connected to still reaches their open widget,
 * and "delivered" means the widget showed it.
 */
useTestDatabase();
const inbox = createInbox({ reopenWindowMs: 3600_000, logger: testLogger });
const sink: ChannelSink = {
  inbound: async (message) => {
    await inbox.receive(message);
  },
  deliveryStatus: (channel, externalId, status, error) => recordDeliveryReceipt(channel, externalId, status, error),
};

interface Copy {
  instance: string;
  channel: WebchatChannel;
  app: FastifyInstance;
  worker: OutboxWorker;
}

async function startCopy(instance: string): Promise<Copy> {
  const channel = new WebchatChannel(webchatOptions({ instanceId: instance, presence: { heartbeatMs: 500, releaseDelayMs: 100 } }));
  await channel.start(sink);
  const app = Fastify();
  await channel.registerRoutes(app);
  await app.ready();
  const worker = new OutboxWorker({ workerId: instance, deliverers: new Map([['webchat', channelDeliverer(channel)]]), logger: testLogger, leaseMs: 5000, pollIntervalMs: 50, maxAttempts: 5, sendTimeoutMs: 5000, events: deliveryEvents() });
  return { instance, channel, app, worker };
}

let a: Copy;
let b: Copy;
beforeAll(async () => {
  a = await startCopy('copy-a');
  b = await startCopy('copy-b');
});
// The database is emptied before each test: both copies are alive again at their next heartbeat.
beforeEach(() => until(async () => (await WebchatRunModel.countDocuments()) === 2));
afterAll(async () => {
  for (const copy of [a, b]) {
    await copy?.worker.stop();
    await copy?.app.close();
    await copy?.channel.stop();
  }
});

/** A visitor who wrote once (so they have a conversation), connected to `copy` or not at all. */
async function visitorWithChat(copy: Copy, text: string) {
  const { token, visitorId } = await openSession(copy.app);
  const socket = await visitorSocket(copy.app, token);
  await socket.next('history');
  socket.say(`first-${visitorId.slice(3, 11)}`, text);
  await socket.next('ack');
  const conversation = (await until(() => ConversationModel.findOne({ channel: 'webchat', status: 'new' }).sort({ _id: -1 })))!;
  return { token, visitorId, socket, conversation };
}

describe('a web chat reply handled by another gateway copy', () => {
  it("reaches the visitor's open widget live through the copy that holds it, and is delivered once the widget showed it", async () => {
    const visitor = await visitorWithChat(a, 'Hello from a visitor on copy A');
    const operator = await createOperator({ name: 'Olga' });
    await replyToCustomer({ conversation: visitor.conversation, operator, text: 'Answer handled by copy B' });
    const reply = (await MessageModel.findOne({ direction: 'out', conversation: visitor.conversation._id }).lean())!;

    // Copy B's worker attempts it first: it hands the item to copy A instead of claiming success.
    await b.worker.drainOnce();
    expect(await OutboxItemModel.findOne({ route: 'webchat', message: reply._id }).lean()).toMatchObject({ instance: 'copy-a', status: 'pending' });
    expect(visitor.socket.frames.filter((f) => f.type === 'message')).toEqual([]);
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status ?? 'pending').toBe('pending');

    // Copy A delivers it to the open socket, live.
    await a.worker.drainOnce();
    const shown = (await visitor.socket.next('message')) as unknown as { message: { id: string; text: string; confirm?: boolean } };
    expect(shown.message).toMatchObject({ id: String(reply._id), text: 'Answer handled by copy B', confirm: true });
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('sent');

    // The widget confirms what it showed: the operator now sees it delivered.
    visitor.socket.send({ type: 'received', ids: [shown.message.id] });
    await until(async () => (await MessageModel.findById(reply._id).lean())!.delivery?.status === 'delivered');
    visitor.socket.ws.terminate();
  });

  it('is not held up by the stale entry of a copy that died: it waits in the history and is delivered when the widget shows it', async () => {
    const visitor = await visitorWithChat(b, 'Hello, I will be back later');
    visitor.socket.ws.terminate();
    // The visitor's socket was on a copy that died (no heartbeat for 10 minutes), and copy B let them go.
    await WebchatRunModel.create({ _id: 'run_dead_copy', instance: 'copy-dead', seenAt: new Date(Date.now() - 10 * 60_000) });
    await WebchatVisitorModel.updateOne({ _id: visitor.visitorId }, { $addToSet: { holders: 'run_dead_copy' } });
    await until(async () => (await WebchatVisitorModel.findById(visitor.visitorId).lean())!.holders?.length === 1);

    const operator = await createOperator({ name: 'Piotr' });
    await replyToCustomer({ conversation: visitor.conversation, operator, text: 'Here is your answer' });
    const reply = (await MessageModel.findOne({ direction: 'out', conversation: visitor.conversation._id }).lean())!;
    await a.worker.drainOnce();
    // Nobody holds the visitor: sent (it is in their history), not handed to the dead copy.
    expect(await OutboxItemModel.countDocuments({ route: 'webchat', message: reply._id })).toBe(0);
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status).toBe('sent');
    expect((await WebchatVisitorModel.findById(visitor.visitorId).lean())!.holders).toEqual([]);

    // The visitor comes back (to either copy): the reply is in the history, and the widget confirms it.
    const back = await visitorSocket(a.app, visitor.token);
    const history = (await back.next('history')) as unknown as { messages: Array<{ id: string; text: string; confirm?: boolean }> };
    expect(history.messages.map((m) => [m.text, m.confirm ?? false])).toEqual([
      ['Hello, I will be back later', false],
      ['Here is your answer', true],
    ]);
    back.send({ type: 'received', ids: [String(reply._id)] });
    await until(async () => (await MessageModel.findById(reply._id).lean())!.delivery?.status === 'delivered');
    back.ws.terminate();
  });

  it('does not take a confirmation of a message the socket was never shown', async () => {
    const visitor = await visitorWithChat(a, 'Another visitor');
    const operator = await createOperator({ name: 'Rita' });
    await replyToCustomer({ conversation: visitor.conversation, operator, text: 'Not shown yet' });
    const reply = (await MessageModel.findOne({ direction: 'out', conversation: visitor.conversation._id }).lean())!;
    visitor.socket.send({ type: 'received', ids: [String(reply._id)] });
    visitor.socket.send({ type: 'ping' });
    await visitor.socket.next('pong');
    await new Promise((r) => setTimeout(r, 300));
    expect((await MessageModel.findById(reply._id).lean())!.delivery?.status ?? 'pending').toBe('pending');
    visitor.socket.ws.terminate();
  });
});
