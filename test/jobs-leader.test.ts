import mongoose from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { testLogger } from './support/logger.js';
import { JobScheduler, JOBS_COLLECTION } from '../src/jobs/scheduler.js';
import { JobLeaseModel } from '../src/db/models/index.js';

useTestDatabase();

/** Two gateway processes side by side: each its own Agenda and lease contender, one database. */
function gateway(instanceId: string, ran: Array<{ instance: string; id: string; key: string }>) {
  const scheduler = new JobScheduler({ db: mongoose.connection.db!, instanceId, logger: testLogger, leaseTtlMs: 1500, processEveryMs: 100 });
  scheduler.define<{ key: string }>('count-me', async (data, job) => {
    ran.push({ instance: instanceId, id: job.id, key: data.key });
    await new Promise((r) => setTimeout(r, 20));
  });
  return scheduler;
}

async function until(condition: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('several gateway processes', () => {
  let running: JobScheduler[] = [];
  beforeEach(async () => {
    await mongoose.connection.db!.collection(JOBS_COLLECTION).deleteMany({});
  });
  afterEach(async () => {
    await Promise.all(running.map((s) => s.stop(1000)));
    running = [];
  });

  it('run each job once, on the one process holding the leader lease, and hand over when it stops', async () => {
    const ran: Array<{ instance: string; id: string; key: string }> = [];
    const a = gateway('gw-a', ran);
    const b = gateway('gw-b', ran);
    running = [a, b];
    await Promise.all([a.start(), b.start()]);
    await until(() => a.isLeader || b.isLeader);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);

    // Both plan jobs: planning works from any process.
    for (let i = 0; i < 10; i++) await (i % 2 ? a : b).schedule(new Date(Date.now() - 1000), 'count-me', { key: `first-${i}` });
    await until(() => ran.length >= 10);
    await new Promise((r) => setTimeout(r, 500));
    expect(ran).toHaveLength(10);
    expect(new Set(ran.map((r) => r.key)).size).toBe(10);
    const leader = a.isLeader ? a : b;
    const follower = leader === a ? b : a;
    expect(new Set(ran.map((r) => r.instance))).toEqual(new Set([leader === a ? 'gw-a' : 'gw-b']));

    await leader.stop(1000);
    running = [follower];
    await until(() => follower.isLeader);
    await follower.schedule(new Date(), 'count-me', { key: 'after-handover' });
    await until(() => ran.some((r) => r.key === 'after-handover'));
    expect(ran.filter((r) => r.key === 'after-handover')).toEqual([expect.objectContaining({ instance: follower === a ? 'gw-a' : 'gw-b' })]);
  });

  it('a gateway restarted after a crash leads again at once, without waiting for the term its killed run left', async () => {
    // The killed run of gw-a held a term for another minute; gw-b is up and waits for that term to end.
    await JobLeaseModel.create({ _id: 'agenda:3', name: 'agenda', epoch: 3, holder: 'gw-a', acquiredAt: new Date(), expiresAt: new Date(Date.now() + 60_000) });
    const b = gateway('gw-b', []);
    const restarted = gateway('gw-a', []);
    running = [b, restarted];
    await b.agenda.ready;
    await restarted.agenda.ready;
    await b.contend();
    expect(b.isLeader).toBe(false);
    await restarted.contend();
    expect(restarted.isLeader).toBe(true);
    await b.contend();
    expect(b.isLeader).toBe(false);
  });

  it('only one of two contenders wins the same expired term', async () => {
    const a = gateway('gw-a', []);
    const b = gateway('gw-b', []);
    running = [a, b];
    await JobLeaseModel.create({ _id: 'agenda:7', name: 'agenda', epoch: 7, holder: 'gw-dead', acquiredAt: new Date(0), expiresAt: new Date(1000) });
    await a.agenda.ready;
    await b.agenda.ready;
    await Promise.all([a.contend(), b.contend()]);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    const terms = await JobLeaseModel.find({ name: 'agenda' }).sort({ epoch: 1 }).lean();
    expect(terms.map((t) => [t.epoch, t.holder])).toEqual([[7, 'gw-dead'], [8, a.isLeader ? 'gw-a' : 'gw-b']]);
    // The loser stands by while the winner renews.
    await Promise.all([a.contend(), b.contend()]);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    await Promise.all([a.agenda.stop(false), b.agenda.stop(false)]);
  });
});
