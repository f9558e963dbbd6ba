import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { commands } from '../commands/index.js';
import { OPERATOR_LANGUAGES, operatorText, readOperatorCatalog } from '../src/i18n/operator-texts.js';
import { ConversationModel } from '../src/db/models/index.js';
import { formatWait } from '../src/jobs/sla-alert.js';

type Catalog = { [key: string]: string | Catalog };
const catalog = (lang: string) => readOperatorCatalog(lang) as Catalog;

/** The catalog's keys, plural forms (`_one`, `_few`…) counted as their base key. */
function keysOf(node: Catalog, prefix = ''): Set<string> {
  const keys = new Set<string>();
  for (const [key, value] of Object.entries(node)) {
    const name = `${prefix}${key.replace(/_(zero|one|two|few|many|other)$/, '')}`;
    if (typeof value === 'string') keys.add(name);
    else for (const nested of keysOf(value, `${name}.`)) keys.add(nested);
  }
  return keys;
}

/** Every literal key the code asks for with operatorText('…'). */
function keysUsedInCode(): Set<string> {
  const used = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts')) for (const match of readFileSync(file, 'utf8').matchAll(/operatorText\(\s*['`]([\w.]+)['`]/g)) used.add(match[1]!);
    }
  };
  for (const dir of ['src', 'commands', 'channels']) walk(dir);
  return used;
}

describe('the operator catalogs', () => {
  it('have every key the code uses, in every language', () => {
    const used = keysUsedInCode();
    expect(used.size).toBeGreaterThan(5);
    for (const lang of OPERATOR_LANGUAGES) {
      const missing = [...used].filter((key) => !keysOf(catalog(lang)).has(key));
      expect({ lang, missing }).toEqual({ lang, missing: [] });
    }
  });

  it('have the same keys in every language, and a help line for every command in each one but English', () => {
    const english = [...keysOf(catalog('en'))];
    for (const lang of OPERATOR_LANGUAGES.filter((l) => l !== 'en')) {
      const keys = keysOf(catalog(lang));
      expect({ lang, missing: english.filter((key) => !keys.has(key)) }).toEqual({ lang, missing: [] });
      expect({ lang, missing: commands.map((c) => `command.${c.name}`).filter((key) => !keys.has(key)) }).toEqual({ lang, missing: [] });
    }
  });
});

describe('the operator interface in Russian (OPERATOR_LANGUAGE=ru)', () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: true, env: { OPERATOR_LANGUAGE: 'ru' } });
  });
  afterAll(() => h.stop());

  it('registers the command list with Russian descriptions and answers /help in Russian', async () => {
    const registered = h.telegram.state.commands.find((c) => (c.scope as { type: string }).type === 'chat');
    expect(registered?.commands.find((c) => c.command === 'take')?.description).toBe('Взять чат: вы становитесь его владельцем');
    h.telegram.operatorWrites({ id: 1, first_name: 'Ada' }, { text: '/help' });
    const answer = await eventually(() => h.telegram.state.sent.find((m) => m.text?.startsWith('<b>Команды</b>')));
    expect(answer.text).toContain('Пишите в теме чата');
  });

  it('counts in Russian plural forms', () => {
    expect([1, 3, 5, 21].map((count) => operatorText('wait.days', { count }))).toEqual(['1 день', '3 дня', '5 дней', '21 день']);
  });

  it('keeps the pinned dashboard in Russian', async () => {
    h.telegram.customerWrites({ id: 7101, first_name: 'Иван', language_code: 'ru' }, { text: 'Здравствуйте' });
    const dashboard = await eventually(() => h.telegram.state.sent.find((m) => m.text?.includes('Панель поддержки') && m.text.includes('новые: <b>1</b>')));
    expect(dashboard.text).toMatch(/Дольше всех без ответа: #1, ждёт 0 мин/);
    expect(dashboard.text).toContain('На дежурстве: никого');
  });
});

describe('chats, alerts and refusals in Russian (OPERATOR_LANGUAGE=ru)', () => {
  let h: TelegramHarness;
  const ada = { id: 1, first_name: 'Ada' };
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: true, env: { OPERATOR_LANGUAGE: 'ru' } });
  });
  afterAll(() => h.stop());

  it('shows a new chat with a Russian customer card, and alerts General with a Взять button', async () => {
    h.telegram.customerWrites({ id: 7201, first_name: 'Мария', username: 'masha', language_code: 'ru' }, { text: 'Где мой заказ?' });
    const relayed = await eventually(() => h.telegram.state.sent.find((m) => m.message_thread_id && m.text?.includes('Где мой заказ?')));
    expect(relayed.text).toMatch(/^👤 <b>Мария<\/b> · @masha\nTelegram · чат №\d+ · язык: ru\n/);
    const alert = await eventually(() => h.telegram.state.sent.find((m) => m.text?.startsWith('🆕 <b>Новый чат №')));
    expect(alert.text).toContain('Открыть чат');
    expect(alert.reply_markup?.inline_keyboard?.[0]?.[0]?.text).toBe('✋ Взять');
  });

  it('refuses to take a chat the operator already owns, in Russian, and changes nothing', async () => {
    h.telegram.customerWrites({ id: 7202, first_name: 'Пётр', language_code: 'ru' }, { text: 'Нужна помощь' });
    const conversation = await eventually(() => ConversationModel.findOne({ chatKey: 'telegram:7202', 'console.topicId': { $exists: true } }));
    const threadId = conversation.console!.topicId!;
    h.telegram.operatorWrites(ada, { text: '/take' }, { threadId });
    await eventually(async () => (await ConversationModel.findById(conversation._id))?.status === 'active');
    h.telegram.operatorWrites(ada, { text: '/take' }, { threadId });
    await eventually(() => h.telegram.groupMessages(threadId).find((m) => m.text?.includes(`Чат №${conversation.number} уже ваш.`)));
    expect((await ConversationModel.findById(conversation._id))?.status).toBe('active');
  });

  it('counts attempts and waiting time in Russian forms', () => {
    expect([1, 3, 5, 21].map((count) => operatorText('delivery.gaveUp', { count, reason: 'HTTP 502' }))).toEqual([
      'не удалось после 1 попытки: HTTP 502',
      'не удалось после 3 попыток: HTTP 502',
      'не удалось после 5 попыток: HTTP 502',
      'не удалось после 21 попытки: HTTP 502',
    ]);
    expect(formatWait(125 * 60_000)).toBe('2 ч 5 мин');
  });
});
