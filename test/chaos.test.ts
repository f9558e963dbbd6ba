import { describe, expect, it } from 'vitest';
import { databaseOutage, telegramKill, webhookKill, type ChaosResult, type ChaosSize } from './support/chaos/scenarios.js';

// The real gateway as a child process on its own data directory and embedded database, killed and starved for
// real. `npm run chaos` runs the same scenarios at full size and prints the table.
const size: ChaosSize = { messages: 200, customers: 20, outageMs: 5000 };

function expectNothingLost(result: ChaosResult) {
  expect(result.missing).toEqual([]);
  expect(result).toMatchObject({ stored: result.sent, lost: 0, duplicatedInDatabase: 0, duplicatedInGroup: 0, gatewayAlive: true, healthyAtEnd: true, orphans: 0, unhandled: 0 });
}

describe('chaos: nothing is lost when the process or the database dies', () => {
  it('Telegram messages: kill -9 of the gateway mid-burst, restart; each stored and shown once', async () => {
    expectNothingLost(await telegramKill(size));
  }, 240_000);

  it('Messenger webhooks retried by the sender: kill -9 of the gateway mid-burst, restart; each stored and shown once', async () => {
    expectNothingLost(await webhookKill(size));
  }, 240_000);

  it('the embedded database stopped and killed during traffic: /healthz says so, the gateway lives on, each message stored and shown once', async () => {
    const result = await databaseOutage(size);
    expectNothingLost(result);
    expect(result.sawUnhealthy).toBe(true);
  }, 240_000);
});
