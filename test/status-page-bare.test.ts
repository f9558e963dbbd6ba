import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startGateway, type Gateway } from '../src/app.js';
import { testDatabaseUri } from './support/database.js';
import { testLogger } from './support/logger.js';

// One gateway per test file (mongoose's connection is the process's): the page of a bare gateway lives here.
const ELSEWHERE = '203.0.113.7';

describe('a gateway without a console, web chat or ADMIN_TOKEN', () => {
  let bare: Gateway;
  beforeAll(async () => {
    bare = await startGateway(loadConfig({ NODE_ENV: 'test', MONGODB_URI: testDatabaseUri(), PORT: '0', WEBCHAT_ENABLED: 'false' }), { logger: testLogger, listen: false });
  });
  afterAll(async () => {
    await bare?.db.connection.db?.dropDatabase();
    await bare?.stop();
  });

  it('still serves the page, saying the console is not configured and the web chat is off', async () => {
    const text = (await bare.http.inject({ method: 'GET', url: '/' })).body;
    expect(text).toContain('<b>Operator console (Telegram group)</b> not configured: run `npm run setup`');
    expect(text).toContain('<b>Channels</b> none configured');
    expect(text).toContain('The web chat is off (<code>WEBCHAT_ENABLED=false</code>)');
    expect(text).not.toContain('widget.js');
  });

  it('offers no sign-in from elsewhere, and says ADMIN_TOKEN would allow it', async () => {
    const response = await bare.http.inject({ method: 'GET', url: '/', remoteAddress: ELSEWHERE });
    expect(response.body).toContain('set <code>ADMIN_TOKEN</code> to sign in from elsewhere');
    expect(response.body).not.toContain('<form');
    expect((await bare.http.inject({ method: 'POST', url: '/login', remoteAddress: ELSEWHERE, payload: 'token=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode).toBe(404);
    expect((await bare.http.inject({ method: 'GET', url: '/metrics', remoteAddress: ELSEWHERE, headers: { authorization: 'Bearer anything-at-all-here' } })).statusCode).toBe(401);
  });
});
