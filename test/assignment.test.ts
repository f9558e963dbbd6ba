import { describe, expect, it } from 'vitest';
import type { Types } from 'mongoose';
import { useTestDatabase } from './support/database.js';
import { createOperator, inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { createInbox } from '../src/inbox.js';
import { loadConfig } from '../src/config.js';
import { transition } from '../src/conversations/lifecycle.js';
import { ConcurrentChangeError } from '../src/conversations/errors.js';
import { chooseOperator } from '../src/assignment/policy.js';
import { assignWaiting } from '../src/assignment/assign.js';
import { startAutoAssigner } from '../src/assignment/auto-assigner.js';
import { ALWAYS_OPEN, createBusinessHours } from '../src/jobs/business-hours.js';
import { ConversationEventModel, ConversationModel, OperatorModel } from '../src/db/models/index.js';

useTestDatabase();
const inbox = createInbox({ reopenWindowMs: 24 * 3600_000, logger: testLogger });

async function newChats(count: number) {
  for (let i = 0; i < count; i++) await inbox.receive(inbound({ externalChatId: `c${i}-${Math.random()}` }));
}

const ownedBy = async (operatorId: Types.ObjectId) => ConversationModel.countDocuments({ owner: operatorId, status: { $ne: 'closed' } });

describe('choosing an operator', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 9, minute));
  it('round robin takes turns: whoever was given a chat the longest ago, below the cap', () => {
    const candidates = [
      { id: 'a', open: 0, lastAssignedAt: at(5) },
      { id: 'b', open: 2, lastAssignedAt: at(1) },
      { id: 'c', open: 1 },
    ];
    expect(chooseOperator('round_robin', candidates, 3)?.id).toBe('c');
    expect(chooseOperator('round_robin', candidates.slice(0, 2), 3)?.id).toBe('b');
    expect(chooseOperator('round_robin', candidates.slice(0, 2), 2)?.id).toBe('a');
  });

  it('least loaded takes whoever owns the fewest open chats, and nobody once all are at the cap', () => {
    const candidates = [
      { id: 'a', open: 2, lastAssignedAt: at(1) },
      { id: 'b', open: 1, lastAssignedAt: at(9) },
    ];
    expect(chooseOperator('least_loaded', candidates, 3)?.id).toBe('b');
    expect(chooseOperator('least_loaded', [{ id: 'a', open: 3 }], 3)).toBeUndefined();
  });
});

describe('an assignment round', () => {
  it('least loaded evens out the open chats, most urgent chat first', async () => {
    const busy = await createOperator();
    const idle = await createOperator();
    await OperatorModel.updateMany({}, { $set: { onDuty: true } });
    await newChats(2);
    await transition((await ConversationModel.findOne())!, 'active', { actor: { kind: 'system' }, owner: busy._id });
    const waiting = await ConversationModel.findOne({ status: 'new' });
    await ConversationModel.updateOne({ _id: waiting!._id }, { $set: { priority: 'high' } });
    await newChats(2);
    const result = await assignWaiting({ mode: 'least_loaded', maxOpenPerOperator: 5, hours: ALWAYS_OPEN });
    expect(result.assigned[0]?.conversation._id.equals(waiting!._id)).toBe(true);
    expect(result.assigned[0]?.operator._id.equals(idle._id)).toBe(true);
    expect([await ownedBy(busy._id), await ownedBy(idle._id)]).toEqual([2, 2]);
  });

  it('assigns nothing outside business hours', async () => {
    await createOperator();
    await OperatorModel.updateMany({}, { $set: { onDuty: true } });
    await newChats(1);
    const hours = createBusinessHours({ schedule: 'mon-fri 09:00-18:00', timezone: 'UTC' });
    const sunday = new Date('2026-11-01T12:00:00Z');
    const result = await assignWaiting({ mode: 'round_robin', maxOpenPerOperator: 5, hours, now: () => sunday });
    expect(result).toMatchObject({ assigned: [], waiting: 1, why: 'outside business hours' });
    expect(await ConversationModel.countDocuments({ owner: { $exists: true } })).toBe(0);
  });

  it('gives a chat once when two writers assign it at the same moment', async () => {
    const [first, second] = [await createOperator(), await createOperator()];
    await newChats(1);
    const chat = (await ConversationModel.findOne())!;
    const attempts = await Promise.allSettled([first, second].map((o) => transition(chat, 'active', { actor: { kind: 'system' }, owner: o._id, expectedOwner: null })));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    expect(attempts.find((a) => a.status === 'rejected')?.reason).toBeInstanceOf(ConcurrentChangeError);
    expect(await ConversationEventModel.countDocuments({ conversation: chat._id, to: 'active' })).toBe(1);
  });

  it('two gateway copies assigning at once keep every operator within the cap and give each chat once', async () => {
    const team = [await createOperator(), await createOperator()];
    await OperatorModel.updateMany({}, { $set: { onDuty: true } });
    await newChats(7);
    const copies = ['copy-a', 'copy-b'].map((instanceId) =>
      startAutoAssigner({ config: { ...loadConfig({ NODE_ENV: 'test', AUTO_ASSIGN: 'round_robin', MAX_OPEN_PER_OPERATOR: '3' }), instanceId }, logger: testLogger, inbox: { use: () => () => undefined } }),
    );
    copies.forEach((copy) => copy.request());
    await Promise.all(copies.map((copy) => copy.settled()));
    await Promise.all(copies.map((copy) => copy.stop()));
    expect(await Promise.all(team.map((o) => ownedBy(o._id)))).toEqual([3, 3]);
    expect(await ConversationModel.countDocuments({ status: 'new', owner: { $exists: false } })).toBe(1);
    expect(await ConversationEventModel.countDocuments({ reason: 'auto-assigned' })).toBe(6);
  });
});
