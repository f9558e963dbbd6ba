import { describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { isLockHeld, releaseLock, releaseLocksLeftBy, takeLock } from '../src/db/exclusive-lock.js';

useTestDatabase();

const MINUTE = 60_000;

describe('exclusive locks between gateway processes', () => {
  it('gives a lock to one holder at a time, and to the next once released', async () => {
    const first = { instance: 'gw-a', attempt: 'a1' };
    const second = { instance: 'gw-b', attempt: 'b1' };
    expect(await takeLock('topic:1', first, MINUTE)).toBe(true);
    expect(await takeLock('topic:1', second, MINUTE)).toBe(false);
    await releaseLock('topic:1', second);
    expect(await isLockHeld('topic:1')).toBe(true);
    await releaseLock('topic:1', first);
    expect(await takeLock('topic:1', second, MINUTE)).toBe(true);
  });

  it('takes over a lock whose holder let it expire', async () => {
    expect(await takeLock('topic:2', { instance: 'gw-a', attempt: 'a1' }, 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await isLockHeld('topic:2')).toBe(false);
    expect(await takeLock('topic:2', { instance: 'gw-b', attempt: 'b1' }, MINUTE)).toBe(true);
  });

  it('frees at once what a crashed run of the same gateway left, and nothing another gateway holds', async () => {
    await takeLock('topic:3', { instance: 'gw-a', attempt: 'before-the-crash' }, MINUTE);
    await takeLock('topic:4', { instance: 'gw-b', attempt: 'b1' }, MINUTE);

    expect(await releaseLocksLeftBy('gw-a')).toBe(1);
    expect(await takeLock('topic:3', { instance: 'gw-a', attempt: 'after-the-restart' }, MINUTE)).toBe(true);
    expect(await takeLock('topic:4', { instance: 'gw-a', attempt: 'after-the-restart' }, MINUTE)).toBe(false);
  });
});
