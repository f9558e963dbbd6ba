import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startGateway, type Gateway } from '../src/app.js';
import { testDatabaseUri } from './support/database.js';
import { testLogger } from './support/logger.js';
import { inbound } from './support/factories.js';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway(loadConfig({ NODE_ENV: 'test', MONGODB_URI: testDatabaseUri(), PORT: '0' }), { logger: testLogger, listen: false });
});
afterAll(async () => {
  await gateway.db.connection.db?.dropDatabase();
  await gateway.stop();
});

describe('HTTP endpoints', () => {
  it('GET /healthz says the database is up and lists the components', async () => {
    const response = await gateway.http.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', database: 'up' });
  });

  it('GET /metrics exposes inbound counts per channel and the outbox depth', async () => {
    await gateway.inbox.receive(inbound({ channel: 'email', externalChatId: 'a@example.com' }));
    const response = await gateway.http.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('gateway_inbound_messages_total{channel="email"} 1');
    // No operator console is configured here, so the relay and the new-chat alert wait in the outbox.
    expect(response.body).toMatch(/gateway_outbox_depth \d+/);
    expect(Number(/gateway_outbox_depth (\d+)/.exec(response.body)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('answers 404 to an unknown path', async () => {
    expect((await gateway.http.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(404);
  });
});
