import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transition } from '../src/conversations/lifecycle.js';
import { closeConversation, reopenConversation, replyToCustomer } from '../src/conversations/operator-actions.js';
import { ConversationModel, StatsBucketModel, type OperatorDoc } from '../src/db/models/index.js';
import { CHANNEL_KINDS, CLOSE_REASONS, type ConversationStatus } from '../src/domain.js';
import { createInbox } from '../src/inbox.js';
import { bucketId } from '../src/stats/buckets.js';
import { decodeFacts } from '../src/stats/fact-codec.js';
import { summarize } from '../src/stats/compute.js';
import type { ConversationFacts, FactsFilter } from '../src/stats/fetch.js';
import { conversationFactsFromBuckets } from '../src/stats/fetch-buckets.js';
import { rebuildFacts, recordFactsOnTransitions } from '../src/stats/facts-store.js';
import { parseStatsArgs } from '../src/stats/period.js';
import { useTestDatabase } from './support/database.js';
import { createOperator, inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { prng } from '../bench/prng.js';

useTestDatabase();
const inbox = createInbox({ reopenWindowMs: 24 * 3600_000, logger: testLogger });
let stopRecording: () => void;
beforeAll(() => {
  stopRecording = recordFactsOnTransitions({ logger: testLogger, inbox });
});
afterAll(() => stopRecording());

async function bucketFacts(id: string) {
  const bucket = await StatsBucketModel.findById(id).lean();
  return decodeFacts(bucket?.facts);
}

async function factIn(id: string, conversation: Types.ObjectId) {
  return (await bucketFacts(id)).find((f) => String(f._id) === String(conversation));
}

async function newConversation(externalChatId = '7001') {
  const result = await inbox.receive(inbound({ externalChatId }));
  if (result.status !== 'stored') throw new Error('not stored');
  return result.conversation;
}

describe('the /stats read model kept current by the conversation lifecycle', () => {
  it('puts a chat opened by a customer message into its created bucket, and its close into its closed bucket', async () => {
    const operator = await createOperator();
    const conversation = await newConversation();
    const createdBucket = bucketId('created', conversation.createdAt);
    expect(await factIn(createdBucket, conversation._id)).toMatchObject({ channel: 'telegram', status: 'new', number: conversation.number, counts: { in: 1, out: 0 } });

    await replyToCustomer({ conversation, operator, text: 'Hello!', at: new Date(conversation.createdAt.getTime() + 90_000) });
    expect(await factIn(createdBucket, conversation._id)).toMatchObject({ status: 'awaiting', firstResponseSeconds: 90, owner: operator._id });

    const closed = await closeConversation((await ConversationModel.findById(conversation._id))!, operator, 'solved');
    const closedBucket = bucketId('closed', closed.closedAt!);
    const fact = await factIn(closedBucket, conversation._id);
    expect(fact).toMatchObject({ status: 'closed', closeReason: 'solved', firstResponseSeconds: 90, resolutionSeconds: closed.resolutionSeconds });
    expect(fact!.closedAt).toEqual(closed.closedAt);
    expect(await factIn(createdBucket, conversation._id)).toMatchObject({ status: 'closed', closeReason: 'solved' });
    // One fact per conversation per bucket, however often it was recorded.
    expect((await bucketFacts(createdBucket)).filter((f) => String(f._id) === String(conversation._id))).toHaveLength(1);
  });

  it('takes a reopened chat out of the closed bucket it left, and files a later close under its new time', async () => {
    const operator = await createOperator();
    const conversation = await newConversation('7002');
    const closed = await closeConversation(conversation, operator, 'no_response');
    const firstClose = bucketId('closed', closed.closedAt!);
    expect(await factIn(firstClose, conversation._id)).toBeDefined();

    const reopened = await reopenConversation(closed, operator);
    expect(await factIn(firstClose, conversation._id)).toBeUndefined();
    expect(await factIn(bucketId('created', conversation.createdAt), conversation._id)).toMatchObject({ status: 'active' });
    expect((await factIn(bucketId('created', conversation.createdAt), conversation._id))!.closedAt).toBeUndefined();

    // Over six hours later: always another bucket.
    const later = new Date(closed.closedAt!.getTime() + 7 * 3600_000);
    await transition(reopened, 'closed', { actor: { kind: 'system' }, reason: 'solved', at: later });
    expect(await factIn(firstClose, conversation._id)).toBeUndefined();
    expect(await factIn(bucketId('closed', later), conversation._id)).toMatchObject({ status: 'closed', closeReason: 'solved' });

    const customerPeriod = { from: new Date(later.getTime() - 3600_000), to: new Date(later.getTime() + 3600_000) };
    const seen: ConversationFacts[] = [];
    for await (const f of conversationFactsFromBuckets(customerPeriod)) seen.push(f);
    expect(seen.map((f) => String(f._id))).toEqual([String(conversation._id)]);
  });
});


/** 150 chats created over 6 days at all hours, most closed minutes to days later, some rated. */
async function storeSpread(operators: OperatorDoc[]) {
  const random = prng(7);
  const start = Date.parse('2024-05-01T00:00:00Z');
  const docs = Array.from({ length: 150 }, (_, i) => {
    const id = new Types.ObjectId();
    const customer = new Types.ObjectId();
    const created = new Date(start + Math.floor(random() * 6 * 86_400_000));
    const closed = random() < 0.75 ? new Date(created.getTime() + Math.floor(random() * 3 * 86_400_000)) : undefined;
    const answered = random() < 0.9;
    const owner = answered ? operators[Math.floor(random() * operators.length)]!._id : undefined;
    const openStatuses: ConversationStatus[] = ['new', 'active', 'awaiting', 'transferred'];
    return {
      _id: id,
      number: i + 1,
      customer,
      channel: CHANNEL_KINDS[Math.floor(random() * CHANNEL_KINDS.length)]!,
      status: closed ? (random() < 0.2 ? 'archived' : 'closed') : openStatuses[Math.floor(random() * openStatuses.length)]!,
      openKey: closed ? `closed:${id}` : String(customer),
      owner,
      priority: 'normal',
      tags: [],
      createdAt: created,
      updatedAt: closed ?? created,
      lastActivityAt: closed ?? created,
      ...(answered ? { firstResponseSeconds: 1 + Math.floor(random() * 1800) } : {}),
      ...(closed ? { closedAt: closed, closeReason: CLOSE_REASONS[Math.floor(random() * CLOSE_REASONS.length)], resolutionSeconds: Math.round((closed.getTime() - created.getTime()) / 1000) } : {}),
      ...(closed && random() < 0.5 ? { rating: { score: 1 + Math.floor(random() * 5), at: closed } } : {}),
      counts: { in: 1 + Math.floor(random() * 6), out: Math.floor(random() * 6), notes: 0 },
    };
  });
  await ConversationModel.collection.insertMany(docs);
  return docs;
}

/** The facts straight from the conversations collection, as /stats read them before the read model. */
async function directFacts(filter: FactsFilter): Promise<ConversationFacts[]> {
  const range = { $gte: filter.from, $lt: filter.to };
  const docs = await ConversationModel.collection
    .find({ $or: [{ createdAt: range }, { closedAt: range }], ...(filter.channel ? { channel: filter.channel } : {}), ...(filter.owner ? { owner: filter.owner } : {}) })
    .toArray();
  return docs as unknown as ConversationFacts[];
}

async function bothWays(args: string, timezone: string, extra: { owner?: Types.ObjectId } = {}) {
  const query = parseStatsArgs(args, { timezone });
  const filter: FactsFilter = { from: query.period.from, to: query.period.to, channel: query.channel, owner: extra.owner };
  const options = { period: query.period, timezone, channel: query.channel };
  return { fromBuckets: comparable(await summarize(conversationFactsFromBuckets(filter), options)), direct: comparable(await summarize(await directFacts(filter), options)) };
}

/** The figures with the lists whose order follows the order facts arrive in sorted by their key. */
function comparable(figures: Awaited<ReturnType<typeof summarize>>) {
  return {
    ...figures,
    perOperatorIds: [...figures.perOperatorIds].sort((a, b) => a.operatorId.localeCompare(b.operatorId)),
    perChannel: [...figures.perChannel].sort((a, b) => a.channel.localeCompare(b.channel)),
  };
}

describe('/stats figures from the read model', () => {
  it('equal those computed from the conversations collection, over days and hours, filters and time zones', async () => {
    const operators = [await createOperator(), await createOperator(), await createOperator()];
    await storeSpread(operators);
    const rebuilt = await rebuildFacts();
    expect(rebuilt.conversations).toBe(150);

    const cases: Array<[string, string, { owner?: Types.ObjectId }?]> = [
      ['2024-05-02..2024-05-04', 'UTC'],
      ['2024-05-01..2024-05-09', 'UTC'],
      ['2024-05-03..2024-05-03', 'UTC'],
      // Half-hour offset: the period starts and ends in the middle of buckets.
      ['2024-05-02..2024-05-05', 'Asia/Kolkata'],
      ['2024-05-02..2024-05-05 telegram', 'America/New_York'],
      ['2024-05-01..2024-05-06', 'UTC', { owner: operators[1]!._id }],
    ];
    for (const [args, timezone, extra] of cases) {
      const { fromBuckets, direct } = await bothWays(args, timezone, extra);
      expect(fromBuckets.opened + fromBuckets.closed, `${args} ${timezone}`).toBeGreaterThan(0);
      expect(fromBuckets, `${args} ${timezone}`).toEqual(direct);
    }

    // Live changes after the rebuild keep the two in step: reopen some closed chats, close some open ones.
    const closedOnes = await ConversationModel.find({ status: 'closed' }).limit(5);
    for (const c of closedOnes) await reopenConversation(c, operators[0]!);
    const openOnes = await ConversationModel.find({ status: { $in: ['new', 'active', 'awaiting'] } }).limit(5);
    for (const [i, c] of openOnes.entries()) {
      await transition(c, 'closed', { actor: { kind: 'system' }, reason: 'other', at: new Date(Date.parse('2024-05-04T00:00:00Z') + i * 7 * 3600_000) });
    }
    for (const [args, timezone] of cases) {
      const { fromBuckets, direct } = await bothWays(args, timezone);
      expect(fromBuckets, `after live changes: ${args} ${timezone}`).toEqual(direct);
    }
  });

  it('rebuilds a range only: buckets outside it are left alone, emptied ones inside it removed', async () => {
    const operators = [await createOperator()];
    const docs = await storeSpread(operators);
    await rebuildFacts();
    const before = await StatsBucketModel.countDocuments({});
    const lost = docs.find((d) => d.createdAt.getTime() >= Date.parse('2024-05-03T00:00:00Z') && d.createdAt.getTime() < Date.parse('2024-05-04T00:00:00Z'))!;
    const outside = docs.find((d) => d.createdAt.getTime() < Date.parse('2024-05-02T00:00:00Z'))!;
    await ConversationModel.collection.deleteMany({ _id: { $in: [lost._id, outside._id] } });

    await rebuildFacts({ from: new Date('2024-05-03T00:00:00Z'), to: new Date('2024-05-04T00:00:00Z') });
    expect(await factIn(bucketId('created', lost.createdAt), lost._id)).toBeUndefined();
    expect(await factIn(bucketId('created', outside.createdAt), outside._id)).toBeDefined();
    expect(await StatsBucketModel.countDocuments({})).toBeLessThanOrEqual(before);
  });
});
