import { describe, expect, it } from 'vitest';
import type { Api } from 'grammy';
import { useTestDatabase } from './support/database.js';
import { GroupBudget, type GroupSender } from '../src/console/telegram/group-budget.js';

useTestDatabase();

const bot: GroupSender = { id: 7001, username: 'support_bot', api: {} as Api, main: true, manageTopics: true };

/**
 * One bot's sends into the group on a clock of the test's own: after each wait, the gateway needs `delayMs`
 * (planning, the slot's insert, the poll interval) before it asks again. Returns when each send was granted.
 */
async function sendContinuously(options: { minutes: number; delayMs: number }): Promise<number[]> {
  let now = 1_000_000_000_000;
  const budget = new GroupBudget({ groupId: -100123, perMinute: 20, senders: () => [bot], now: () => now });
  const end = now + options.minutes * 60_000;
  const granted: number[] = [];
  while (now < end) {
    const answer = await budget.take(1, {}, 'relay');
    if ('sender' in answer) granted.push(now);
    else now += answer.waitMs;
    now += options.delayMs;
  }
  return granted;
}

const mostInAnyMinute = (times: number[]) => Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));

describe('the send budget of one bot in the operator group', () => {
  it('uses every slot when each send comes a little late in its slot, and never more than 20 in a minute', async () => {
    const slotMs = 60_000 / 19;
    const granted = await sendContinuously({ minutes: 10, delayMs: 0.1 * slotMs });
    // Ten minutes hold 190 slots; the first may be half gone when the test starts.
    expect(granted.length).toBeGreaterThanOrEqual(189);
    expect(mostInAnyMinute(granted)).toBeLessThanOrEqual(20);
  });

  it('keeps two sends of one process at least half a slot apart', async () => {
    const granted = await sendContinuously({ minutes: 2, delayMs: 0.6 * (60_000 / 19) });
    const gaps = granted.slice(1).map((t, i) => t - granted[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0.5 * (60_000 / 19));
    expect(mostInAnyMinute(granted)).toBeLessThanOrEqual(20);
  });
});
