import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { commands } from '../commands/index.js';
import { ConversationModel, OperatorModel } from '../src/db/models/index.js';
import { OPERATOR_LANGUAGES, operatorText, readOperatorCatalog } from '../src/i18n/operator-texts.js';
import { CLOSE_REASONS, OPERATOR_ROLES, PRIORITIES } from '../src/domain.js';
import { LANGUAGE_SOURCES } from '../src/language/customer-language.js';
import { reasonLabel } from '../commands/arguments.js';
import { formatWait } from '../src/jobs/sla-alert.js';
import { parseStatsArgs } from '../src/stats/period.js';

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

  it('names /stats periods and refuses their mistakes in Russian', () => {
    expect(parseStatsArgs('21d', { timezone: 'UTC' }).period.label).toBe('последний 21 день');
    expect(parseStatsArgs('5d', { timezone: 'UTC' }).period.label).toBe('последние 5 дней');
    expect(() => parseStatsArgs('7d 30d', { timezone: 'UTC' })).toThrow('Только один период за раз: «30d» идёт после «последние 7 дней».');
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

describe("the operators' commands and refusals in Russian (OPERATOR_LANGUAGE=ru)", () => {
  let h: TelegramHarness;
  const ada = { id: 1, first_name: 'Ада' };
  const boris = { id: 2, first_name: 'Борис' };
  const stranger = { id: 66, first_name: 'Мэллори' };
  beforeAll(async () => {
    h = await startTelegramHarness({ forum: true, env: { OPERATOR_LANGUAGE: 'ru' } });
    await h.reset();
    await OperatorModel.updateOne({ telegramUserId: ada.id }, { $set: { name: 'Ада' } });
    await OperatorModel.create({ telegramUserId: boris.id, name: 'Борис', role: 'operator' });
  });
  afterAll(() => h.stop());

  /** Runs a command and resolves with the bot's answer in the same place that contains `expected`. */
  async function command(user: { id: number; first_name: string }, text: string, expected: string, threadId?: number) {
    const before = h.telegram.state.sent.length;
    h.telegram.operatorWrites(user, { text }, { threadId });
    return eventually(() => h.telegram.state.sent.slice(before).find((m) => m.message_thread_id === threadId && m.text?.includes(expected)));
  }

  async function openChat(customerId: number) {
    h.telegram.customerWrites({ id: customerId, first_name: 'Иван', language_code: 'ru' }, { text: 'Где мой заказ?' });
    const conversation = await eventually(() => ConversationModel.findOne({ chatKey: `telegram:${customerId}`, 'console.topicId': { $exists: true } }));
    return { topicId: conversation.console!.topicId!, number: conversation.number };
  }

  it('refuses in Russian: a stranger, a role too low, a command out of its topic, an unknown command, wrong arguments', async () => {
    await command(stranger, '/take', 'Это могут делать только зарегистрированные операторы. Администратор может добавить вас командой /op add.');
    await command(boris, '/stats', 'Команда /stats доступна только супервайзерам.');
    const outside = await command(boris, '/take', 'Используйте /take в теме чата.');
    expect(outside.text).toBe('Используйте /take в теме чата.\nФормат: /take');
    await command(boris, '/frobnicate', 'Неизвестная команда /frobnicate. Список команд — /help.');
    const { topicId } = await openChat(7201);
    const refusal = await command(boris, '/priority urgent', '«urgent» — это не приоритет.', topicId);
    expect(refusal.text).toContain('Формат: /priority high|normal|low');
    expect((await ConversationModel.findOne({ 'console.topicId': topicId }))?.priority).not.toBe('urgent');
  });

  it('answers commands in Russian, names included: /take, /priority, /info', async () => {
    const { topicId, number } = await openChat(7202);
    await command(boris, '/take', `✋ Борис взял(а) чат #${number}.`, topicId);
    await command(boris, '/priority high', `Приоритет чата #${number} теперь высокий.`, topicId);
    const info = await command(boris, '/info', 'Статус:', topicId);
    expect(info.text).toContain('· приоритет высокий · ведёт Борис');
    expect(info.text).toContain('Сообщения: от клиента — 1, от операторов — 0');
    expect(info.text).toContain('Прошлых чатов нет.');
  });

  it('plans a reminder with a Russian date and a counted delay, and lists it', async () => {
    const { topicId, number } = await openChat(7203);
    const planned = await command(boris, '/remind 3d перезвонить', `⏰ Напомню вам о чате #${number} — `, topicId);
    expect(planned.text).toMatch(/ — (пн|вт|ср|чт|пт|сб|вс) \d\d \S+ \d\d:\d\d \(через 3 дня\): перезвонить\.$/);
    const list = await command(boris, '/remind', `Запланировано для чата #${number}:`, topicId);
    expect(list.text).toContain('⏰ Борис: перезвонить');
    expect(list.text).toContain('Отменить: /remind cancel N.');
  });

  it('has a word for every role, priority, close reason and language source the commands name, in every language', () => {
    const named = [
      ...OPERATOR_ROLES.flatMap((role) => [`refusals.roles.${role}`, `op.role.${role}`, `operators.role.${role}`]),
      ...PRIORITIES.map((priority) => `priority.level.${priority}`),
      ...LANGUAGE_SOURCES.map((source) => `lang.source.${source}`),
    ];
    for (const lang of OPERATOR_LANGUAGES) expect({ lang, missing: named.filter((key) => !keysOf(catalog(lang)).has(key)) }).toEqual({ lang, missing: [] });
    expect(CLOSE_REASONS.map(reasonLabel)).toEqual(['Проблема решена', 'Клиент не отвечает', 'Передан другому специалисту', 'Другое']);
  });

  it('counts reminders and exported chats in Russian plural forms', () => {
    expect([1, 2, 5, 21].map((count) => operatorText('remind.hours', { count }))).toEqual(['1 час', '2 часа', '5 часов', '21 час']);
    expect([1, 3, 11].map((count) => operatorText('stats.exportCaption', { count, scope: '7d' }))).toEqual(['1 чат, 7d', '3 чата, 7d', '11 чатов, 7d']);
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
