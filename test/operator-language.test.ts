import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { commands } from '../commands/index.js';
import { ConversationModel, OperatorModel } from '../src/db/models/index.js';
import { OPERATOR_LANGUAGES, operatorText, readOperatorCatalog } from '../src/i18n/operator-texts.js';

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

describe('the chat commands in Russian (OPERATOR_LANGUAGE=ru)', () => {
  let h: TelegramHarness;
  const olga = { id: 31, first_name: 'Ольга', username: 'olga_op' };
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: true, env: { OPERATOR_LANGUAGE: 'ru' } });
    await OperatorModel.create({ telegramUserId: olga.id, name: 'Ольга', username: 'olga_op', role: 'operator' });
  });
  afterAll(() => h.stop());

  /** A customer writes `texts`; resolves with the chat's topic once they are all shown there. */
  async function openChat(customerId: number, texts: string[]) {
    for (const text of texts) h.telegram.customerWrites({ id: customerId, first_name: 'Иван', language_code: 'ru' }, { text });
    const conversation = await eventually(() => ConversationModel.findOne({ chatKey: `telegram:${customerId}`, 'console.topicId': { $exists: true } }));
    const topicId = conversation.console!.topicId!;
    await eventually(() => texts.every((text) => h.telegram.groupMessages(topicId).some((m) => m.text?.includes(text))));
    return { topicId, number: conversation.number };
  }

  /** Olga runs a command; resolves with the gateway's answer there that matches `expected`. */
  async function command(text: string, expected: RegExp, threadId?: number) {
    const before = h.telegram.state.sent.length;
    h.telegram.operatorWrites(olga, { text }, { threadId });
    return eventually(() => h.telegram.state.sent.slice(before).find((m) => m.chat_id === h.telegram.groupId && m.message_thread_id === threadId && expected.test(m.text ?? '')));
  }

  it('refuses wrong arguments in Russian, and changes nothing', async () => {
    const { topicId, number } = await openChat(7201, ['Где мой заказ?']);
    await command('/history много', /^«много» — не число от 1 до 200\./, topicId);
    await command('/close someday', /^«someday» — не причина закрытия\./, topicId);
    await command('/duty', /^Вы не на дежурстве\./);
    expect((await ConversationModel.findOne({ number }))?.status).toBe('new');
  });

  it('counts messages and chats in Russian plural forms', async () => {
    const { topicId, number } = await openChat(7202, ['Здравствуйте', 'Посылка не пришла', 'Трек 123']);
    await command('/history', new RegExp(`^<b>Чат #${number}</b>, последние 3 сообщения \\(UTC\\):`), topicId);
    const list = await command('/chats', /^<b>Чаты<\/b>/);
    expect(list.text).toMatch(/^<b>Чаты<\/b> \(открытые\), самые срочные первыми — всего 2 чата, страница 1\/1/);
    expect(list.text).toContain('👤 никто');
    expect([1, 2, 5, 11, 21].map((count) => operatorText('forget.messages', { count }))).toEqual(['1 сообщение', '2 сообщения', '5 сообщений', '11 сообщений', '21 сообщение']);
  });

  it('asks for the close reason with Russian buttons and confirms in Russian', async () => {
    const { topicId, number } = await openChat(7203, ['Спасибо, всё получил']);
    const question = await command('/close', new RegExp(`^Закрыть чат #${number}\\? Выберите причину:`), topicId);
    expect(question.reply_markup?.inline_keyboard?.map((row) => row[0]?.text)).toEqual(['Проблема решена', 'Клиент не отвечает', 'Передан другому специалисту', 'Другое']);
    await command('/close solved', new RegExp(`^✅ Ольга закрыл\\(а\\) чат #${number}: Проблема решена\\.`), topicId);
  });
});
