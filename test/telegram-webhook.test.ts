import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { ConversationModel, MessageModel } from '../src/db/models/index.js';

const SECRET = 'webhook-secret-0123456789';
let h: TelegramHarness;

beforeAll(async () => {
  h = await startTelegramHarness({ env: { TELEGRAM_WEBHOOK_URL: 'https://support.example.com/telegram/webhook', TELEGRAM_WEBHOOK_SECRET: SECRET } });
});
afterAll(() => h.stop());

const update = (id: number, text: string) => ({
  update_id: id,
  message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: 8001, type: 'private', first_name: 'Wes' }, from: { id: 8001, is_bot: false, first_name: 'Wes' }, text },
});

describe('Telegram webhook', () => {
  it('registers the webhook with its secret token instead of polling', () => {
    const call = h.telegram.state.calls.find((c) => c.method === 'setWebhook');
    expect(call?.params).toMatchObject({ url: 'https://support.example.com/telegram/webhook', secret_token: SECRET });
    expect(h.telegram.state.calls.some((c) => c.method === 'getUpdates')).toBe(false);
  });

  it('answers 401 to a request without the secret token and stores nothing', async () => {
    const forged = await h.gateway.http.inject({ method: 'POST', url: '/telegram/webhook', payload: update(1, 'forged') });
    const wrong = await h.gateway.http.inject({ method: 'POST', url: '/telegram/webhook', payload: update(2, 'forged'), headers: { 'x-telegram-bot-api-secret-token': 'nope' } });
    expect([forged.statusCode, wrong.statusCode]).toEqual([401, 401]);
    expect(await MessageModel.countDocuments()).toBe(0);
  });

  it('accepts an update carrying the secret token', async () => {
    const response = await h.gateway.http.inject({ method: 'POST', url: '/telegram/webhook', payload: update(3, 'hello by webhook'), headers: { 'x-telegram-bot-api-secret-token': SECRET } });
    expect(response.statusCode).toBe(200);
    const conversation = await eventually(() => ConversationModel.findOne());
    expect(conversation.channel).toBe('telegram');
    expect((await MessageModel.findOne({ direction: 'in' }))?.text).toBe('hello by webhook');
  });

  it('has stored the message by the time it answers 200, so Telegram never drops an unstored update', async () => {
    const response = await h.gateway.http.inject({ method: 'POST', url: '/telegram/webhook', payload: update(4, 'stored before the answer'), headers: { 'x-telegram-bot-api-secret-token': SECRET } });
    expect(response.statusCode).toBe(200);
    expect(await MessageModel.countDocuments({ text: 'stored before the answer' })).toBe(1);
  });

  it('refuses a body over 1 MB with 413 and stores nothing', async () => {
    const huge = update(5, 'x'.repeat(1_100_000));
    const response = await h.gateway.http.inject({ method: 'POST', url: '/telegram/webhook', payload: huge, headers: { 'x-telegram-bot-api-secret-token': SECRET } });
    expect(response.statusCode).toBe(413);
    expect(await MessageModel.countDocuments({ text: huge.message.text })).toBe(0);
  });
});
