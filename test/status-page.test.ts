import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTelegramHarness, type TelegramHarness } from './support/gateway.js';
import { launchChromium } from './support/browser.js';
import { inbound } from './support/factories.js';

const ADMIN_TOKEN = 'team-only-0123456789abcdef';
const ELSEWHERE = '203.0.113.7';
const WEBCHAT_SECRET = 'webchat-secret-0123456789abcdef0123456789';

let harness: TelegramHarness;
let http: TelegramHarness['gateway']['http'];
beforeAll(async () => {
  harness = await startTelegramHarness({ env: { ADMIN_TOKEN, WEBCHAT_SECRET } });
  http = harness.gateway.http;
});
afterAll(async () => {
  await harness?.stop();
});

const page = (options: { remoteAddress?: string; headers?: Record<string, string> } = {}) => http.inject({ method: 'GET', url: '/', ...options });
const login = (token: string, remoteAddress = ELSEWHERE) => http.inject({ method: 'POST', url: '/login', remoteAddress, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token }).toString() });

describe('the status page at GET /', () => {
  it('tells a request from this machine the state of the database, every channel, the console and its mode, the outbox and the jobs', async () => {
    const body = await eventually(async () => {
      const response = await page();
      return response.body.includes('run by this copy of the gateway') ? response : undefined;
    });
    expect(body.statusCode).toBe(200);
    expect(body.headers['content-type']).toContain('text/html');
    const text = body.body;
    expect(text).toContain('<b>Database</b> up (MONGODB_URI)');
    expect(text).toContain('<b>Operator console (Telegram group)</b> up, forum mode: one topic per conversation');
    expect(text).toContain('<b>Channel: Telegram</b> up');
    expect(text).toContain('<b>Channel: Web chat</b> up');
    expect(text).toMatch(/<b>Outbox<\/b> (nothing waiting to be sent|\d+ messages? waiting to be sent)/);
    expect(text).toContain('<b>Timed jobs (reminders, auto-close, SLA alerts, reports)</b> run by this copy of the gateway');
    expect(text).toContain('<script src="/widget.js"');
  });

  it('shows a visitor from elsewhere the web chat widget and a sign-in form, but not the state', async () => {
    const response = await page({ remoteAddress: ELSEWHERE });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<script src="/widget.js"');
    expect(response.body).toContain('<form method="post" action="/login">');
    for (const part of ['Database', 'Outbox', 'Operator console', 'Timed jobs']) expect(response.body).not.toContain(`<b>${part}`);
  });

  it('does not count a request a proxy on this machine forwards as coming from this machine', async () => {
    const response = await page({ headers: { 'x-forwarded-for': ELSEWHERE } });
    expect(response.body).not.toContain('<b>Database');
    expect(response.body).toContain('sign in with <code>ADMIN_TOKEN</code>');
  });

  it('shows the state to a request from elsewhere with ADMIN_TOKEN as a bearer token, not with a wrong one', async () => {
    expect((await page({ remoteAddress: ELSEWHERE, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body).toContain('<b>Database</b> up');
    expect((await page({ remoteAddress: ELSEWHERE, headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).body).not.toContain('<b>Database');
  });

  it('signs in with the admin token through the form: a cookie (not the token itself) then shows the state', async () => {
    const wrong = await login('not-the-token-at-all');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('That is not the admin token.');
    expect(wrong.cookies).toEqual([]);

    const right = await login(ADMIN_TOKEN);
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toBe('/');
    const [cookie] = right.cookies;
    expect(cookie).toMatchObject({ name: 'gateway_admin', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie!.value).not.toContain(ADMIN_TOKEN);
    const signedIn = await page({ remoteAddress: ELSEWHERE, headers: { cookie: `gateway_admin=${cookie!.value}` } });
    expect(signedIn.body).toContain('<b>Database</b> up');
    expect((await page({ remoteAddress: ELSEWHERE, headers: { cookie: 'gateway_admin=forged' } })).body).not.toContain('<b>Database');
  });

  it('refuses an address that guessed ten times, even with the right token, and lets other addresses sign in', async () => {
    const guesser = '198.51.100.23';
    for (let i = 0; i < 10; i++) expect((await login(`guess-number-${i}-0123456789`, guesser)).statusCode).toBe(401);
    const blocked = await login(ADMIN_TOKEN, guesser);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.body).toContain('Too many sign-in attempts from this address; try again in 15 minutes.');
    expect(blocked.cookies).toEqual([]);
    expect((await login(ADMIN_TOKEN, '198.51.100.24')).statusCode).toBe(303);
  });

  it('shows no secret and nothing about customers', async () => {
    await harness.gateway.inbox.receive(inbound({ channel: 'webchat', externalChatId: 'visitor-1', text: 'my card number is 4111', profile: { name: 'Zelda Privatename' } }));
    const text = (await page()).body;
    for (const secret of [ADMIN_TOKEN, WEBCHAT_SECRET, harness.telegram.token, 'Zelda', '4111', 'visitor-1', String(harness.telegram.groupId)]) expect(text).not.toContain(secret);
  });
});

describe('who may read what', () => {
  it('answers /metrics to this machine and to ADMIN_TOKEN only', async () => {
    expect((await http.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    const stranger = await http.inject({ method: 'GET', url: '/metrics', remoteAddress: ELSEWHERE });
    expect(stranger.statusCode).toBe(401);
    expect(stranger.body).not.toContain('gateway_');
    const team = await http.inject({ method: 'GET', url: '/metrics', remoteAddress: ELSEWHERE, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(team.statusCode).toBe(200);
    expect(team.body).toContain('gateway_outbox_depth');
  });

  it('keeps /healthz open to everyone', async () => {
    const response = await http.inject({ method: 'GET', url: '/healthz', remoteAddress: ELSEWHERE });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', database: 'up' });
  });
});

describe('the status page in a real browser', () => {
  let browser: Browser;
  let url: string;
  beforeAll(async () => {
    await http.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the state on this machine, and a message written in its widget reaches the operator group', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const tab = await context.newPage();
    await tab.goto(url);
    await tab.getByText('forum mode: one topic per conversation').waitFor();
    await tab.locator('.launcher').click();
    await tab.locator('.panel').waitFor({ state: 'visible' });
    await tab.locator('textarea').pressSequentially('Hello from the status page');
    await tab.locator('textarea').press('Enter');
    await eventually(() => harness.telegram.groupMessages().find((m) => m.text?.includes('Hello from the status page')), 20_000);
    await tab.locator('.msg.visitor:not(.pending)').filter({ hasText: 'Hello from the status page' }).waitFor();
    await mkdir('test-artifacts', { recursive: true });
    await tab.screenshot({ path: 'test-artifacts/status-page.png', fullPage: true });
    await context.close();
  });

  it("shows the widget in the visitor's language: Russian to a browser set to Russian", { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ locale: 'ru-RU' });
    const tab = await context.newPage();
    await tab.goto(url);
    await tab.locator('.launcher').click();
    await tab.locator('.panel').waitFor({ state: 'visible' });
    expect(await tab.locator('textarea').getAttribute('placeholder')).toBe('Напишите сообщение…');
    await tab.getByRole('button', { name: 'Отправить' }).waitFor();
    await tab.getByText('Спросите нас о чём угодно').waitFor();
    await context.close();
  });

  it('signs a visitor from elsewhere in through the form, then shows the state', { timeout: 60_000 }, async () => {
    // Through a proxy on this machine: the gateway sees a forwarded request, not a local one.
    const context = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': ELSEWHERE } });
    const tab = await context.newPage();
    await tab.goto(url);
    expect(await tab.getByText('forum mode').count()).toBe(0);
    await tab.getByPlaceholder('ADMIN_TOKEN').fill('a wrong token, surely');
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.getByRole('alert').filter({ hasText: 'That is not the admin token.' }).waitFor();
    await tab.getByPlaceholder('ADMIN_TOKEN').fill(ADMIN_TOKEN);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.getByText('forum mode: one topic per conversation').waitFor();
    await context.close();
  });
});
