import mongoose from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator, inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { loadConfig, type Config } from '../src/config.js';
import { createInbox } from '../src/inbox.js';
import { onTransition } from '../src/conversations/lifecycle.js';
import { closeConversation, replyToCustomer, reopenConversation, takeConversation } from '../src/conversations/operator-actions.js';
import { ConversationEventModel, ConversationModel, CustomerModel, ErasureAuditModel, MessageModel, OutboxItemModel, type ConversationDoc } from '../src/db/models/index.js';
import { GENERAL_STREAM, conversationStream } from '../src/console/actions.js';
import { renderTemplate } from '../src/templates.js';
import { createJobs, type JobScheduler } from '../src/jobs/index.js';
import type { JobsContext } from '../src/jobs/context.js';
import { inboxHooks, planOnTransition } from '../src/jobs/planning.js';
import { REMINDER_JOB, runReminder } from '../src/jobs/reminder.js';
import { AUTO_CLOSE_JOB } from '../src/jobs/auto-close.js';
import { SLA_ALERT_JOB, planSlaAlerts } from '../src/jobs/sla-alert.js';
import { SURVEY_JOB, parseRating } from '../src/jobs/survey.js';
import { runArchive } from '../src/jobs/archive.js';
import { runRetention } from '../src/jobs/retention.js';
import { postReport } from '../src/stats/report-job.js';
import { createBusinessHours } from '../src/jobs/business-hours.js';
import { JOBS_COLLECTION } from '../src/jobs/scheduler.js';
import { remind } from '../commands/remind.js';
import type { CommandContext } from '../commands/command.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

useTestDatabase();
const config: Config = loadConfig({ NODE_ENV: 'test', COMPANY_NAME: 'ACME' });
const inbox = createInbox({ reopenWindowMs: 24 * HOUR, logger: testLogger });

/** The controllable clock the job logic reads; it starts at the real time so it matches the stored timestamps. */
let clock = new Date();
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));
let scheduler: JobScheduler;
let context: JobsContext;
const stops: Array<() => void> = [];

beforeAll(async () => {
  ({ scheduler, context } = createJobs({ config, db: mongoose.connection.db!, logger: testLogger, now: () => clock }));
  await scheduler.agenda.ready;
  stops.push(onTransition(planOnTransition(context)), inbox.use(inboxHooks(context)));
});
afterAll(() => stops.forEach((stop) => stop()));
beforeEach(async () => {
  clock = new Date();
  await mongoose.connection.db!.collection(JOBS_COLLECTION).deleteMany({});
});

async function customerWrites(text = 'hello', overrides: Parameters<typeof inbound>[0] = {}) {
  const result = await inbox.receive(inbound({ text, sentAt: clock, ...overrides }));
  if (result.status === 'duplicate') throw new Error('duplicate');
  return result;
}

async function newChat(overrides: Parameters<typeof inbound>[0] = {}): Promise<ConversationDoc> {
  const result = await customerWrites('I need help', overrides);
  return result.conversation;
}

const reload = async (c: ConversationDoc) => (await ConversationModel.findById(c._id))!;

/** Texts the gateway queued for the customer (outbox 'send' items), in order. */
async function sentToCustomer(c: ConversationDoc): Promise<string[]> {
  const items = await OutboxItemModel.find({ conversation: c._id, action: 'send' }).sort({ createdAt: 1, seq: 1 }).lean();
  const messages = await MessageModel.find({ _id: { $in: items.map((i) => i.message) } }).lean();
  return items.map((i) => messages.find((m) => String(m._id) === String(i.message))?.text ?? '');
}

async function generalNotices() {
  return OutboxItemModel.find({ stream: GENERAL_STREAM, action: 'notice' }).sort({ seq: 1 }).lean();
}

async function plannedNames(c: ConversationDoc): Promise<string[]> {
  return (await scheduler.planned({ conversationId: String(c._id) })).map((j) => j.name);
}

async function plannedAt(c: ConversationDoc, name: string): Promise<Date[]> {
  return (await scheduler.planned({ conversationId: String(c._id) })).filter((j) => j.name === name).map((j) => j.nextRunAt);
}

describe('reminder to an unresponsive customer', () => {
  it('is planned REMIND_AFTER after the operator answers and sends the reminder template, shown in the topic', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    await replyToCustomer({ conversation: chat, operator, text: 'Could you send your order number?' });
    const awaitingSince = (await reload(chat)).lastActivityAt;
    expect(await plannedAt(chat, REMINDER_JOB)).toEqual([new Date(awaitingSince.getTime() + 20 * MIN)]);

    advance(19 * MIN);
    await scheduler.runDue(clock);
    expect(await sentToCustomer(chat)).toEqual(['Could you send your order number?']);

    advance(2 * MIN);
    expect(await scheduler.runDue(clock)).toContain(REMINDER_JOB);
    const reminder = await renderTemplate('messages', 'reminder', undefined, { customerName: 'Alice Customer', companyName: 'ACME' });
    expect(await sentToCustomer(chat)).toEqual(['Could you send your order number?', reminder]);
    const reminderMessage = await MessageModel.findOne({ conversation: chat._id, text: reminder });
    expect(await OutboxItemModel.exists({ stream: conversationStream(chat._id), action: 'relay', message: reminderMessage!._id })).not.toBeNull();
    expect((await reload(chat)).status).toBe('awaiting');
  });

  it('speaks the customer’s language', async () => {
    const operator = await createOperator();
    const chat = await newChat({ externalChatId: 'ru-1', profile: { name: 'Иван', language: 'ru' } });
    await replyToCustomer({ conversation: chat, operator, text: 'Пришлите номер заказа' });
    advance(21 * MIN);
    await scheduler.runDue(clock);
    expect((await sentToCustomer(chat))[1]).toContain('Здравствуйте, Иван!');
  });

  /** The reminder a chat of `customer` gets with these contacts configured. */
  async function reminderWith(env: Record<string, string>, customer: Parameters<typeof inbound>[0]) {
    clock = new Date();
    const operator = await createOperator();
    const chat = await newChat(customer);
    await replyToCustomer({ conversation: chat, operator, text: 'Anything else?' });
    advance(21 * MIN);
    const contacts = loadConfig({ NODE_ENV: 'test', ...env }).contacts;
    await runReminder({ ...context, contacts }, { conversationId: String(chat._id), since: (await reload(chat)).lastActivityAt.toISOString(), n: 1 });
    return (await sentToCustomer(chat))[1]!;
  }

  it('offers the other ways to reach the team from configuration, in the customer’s language', async () => {
    const env = { SUPPORT_PHONE: '+1 555 0100', SUPPORT_EMAIL: 'help@acme.test', SUPPORT_OTHER_CHANNELS: 'WhatsApp +1 555 0101, t.me/acme_bot', SUPPORT_PHONE_RU: '+7 495 000-00-00' };
    expect(await reminderWith(env, { externalChatId: 'alt-en' })).toContain('If another way suits you better, you can also reach us:\n📞 +1 555 0100\n✉️ help@acme.test\n💬 WhatsApp +1 555 0101, t.me/acme_bot');
    expect(await reminderWith(env, { externalChatId: 'alt-ru', profile: { name: 'Иван', language: 'ru' } })).toContain('Если вам удобнее, с нами можно связаться и так:\n📞 +7 495 000-00-00\n✉️ help@acme.test\n💬 WhatsApp');
  });

  it('offers only the contacts that are configured, and none when there are none', async () => {
    expect(await reminderWith({ SUPPORT_EMAIL: 'help@acme.test' }, { externalChatId: 'alt-email' })).toMatch(/you can also reach us:\n✉️ help@acme\.test$/);
    expect(await reminderWith({}, { externalChatId: 'alt-none' })).not.toContain('reach us');
  });

  it('is cancelled when the customer answers, and a stale run sends nothing', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    await replyToCustomer({ conversation: chat, operator, text: 'Which plan are you on?' });
    const since = (await reload(chat)).lastActivityAt;
    advance(5 * MIN);
    await customerWrites('the basic one');
    expect(await plannedNames(chat)).not.toContain(REMINDER_JOB);

    advance(30 * MIN);
    await runReminder(context, { conversationId: String(chat._id), since: since.toISOString(), n: 1 });
    expect(await sentToCustomer(chat)).toEqual(['Which plan are you on?']);
  });

  it('does nothing for an earlier awaiting period after the chat was closed and reopened', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    await replyToCustomer({ conversation: chat, operator, text: 'Done!' });
    const since = (await reload(chat)).lastActivityAt;
    const closed = await closeConversation(await reload(chat), operator, 'other');
    expect(await plannedNames(chat)).toEqual([]);
    await reopenConversation(closed, operator);
    await replyToCustomer({ conversation: await reload(chat), operator, text: 'One more thing' });

    await runReminder(context, { conversationId: String(chat._id), since: since.toISOString(), n: 1 });
    expect(await sentToCustomer(chat)).toEqual(['Done!', 'One more thing']);
  });

  it('a duplicated run reminds once', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    await replyToCustomer({ conversation: chat, operator, text: 'Anything else?' });
    const data = { conversationId: String(chat._id), since: (await reload(chat)).lastActivityAt.toISOString(), n: 1 };
    advance(25 * MIN);
    await Promise.all([runReminder(context, data), runReminder(context, data)]);
    expect(await sentToCustomer(chat)).toHaveLength(2);
  });
});

describe('auto-close', () => {
  it('closes AUTO_CLOSE_AFTER after the last reminder with reason no_response and the closing template', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    await replyToCustomer({ conversation: chat, operator, text: 'Is it working now?' });
    advance(21 * MIN);
    expect(await scheduler.runDue(clock)).toEqual([REMINDER_JOB]);
    const reminderAt = clock.getTime();
    expect(await plannedAt(chat, AUTO_CLOSE_JOB)).toEqual([new Date(reminderAt + 24 * HOUR)]);

    advance(24 * HOUR - MIN);
    await scheduler.runDue(clock);
    expect((await reload(chat)).status).toBe('awaiting');

    advance(MIN);
    await scheduler.runDue(clock);
    const after = await reload(chat);
    expect(after).toMatchObject({ status: 'closed', closeReason: 'no_response', closeComment: 'customer not responding' });
    const goodbye = await renderTemplate('messages', 'auto-closed', undefined, { customerName: 'Alice Customer', companyName: 'ACME' });
    expect((await sentToCustomer(chat)).at(-1)).toBe(goodbye);
    // The console closes the topic on this transition (src/conversations/status-follow-up.ts).
    expect(await ConversationEventModel.findOne({ conversation: chat._id, to: 'closed' }).lean()).toMatchObject({ from: 'awaiting', actor: { kind: 'system' }, reason: 'no_response' });
  });

  it('does not close a chat whose customer wrote after the reminder', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    await replyToCustomer({ conversation: chat, operator, text: 'Is it working now?' });
    advance(21 * MIN);
    expect(await scheduler.runDue(clock)).toEqual([REMINDER_JOB]);
    advance(HOUR);
    await customerWrites('still broken');
    expect(await plannedNames(chat)).not.toContain(AUTO_CLOSE_JOB);
    advance(24 * HOUR);
    await scheduler.runDue(clock);
    expect((await reload(chat)).status).toBe('active');
  });
});

describe('response-time (SLA) alerts', () => {
  it('alerts the on-duty operators in the General topic after FIRST_RESPONSE_SLA, then supervisors after ESCALATE_AFTER', async () => {
    const chat = await newChat();
    expect(await plannedAt(chat, SLA_ALERT_JOB)).toEqual([new Date(chat.createdAt.getTime() + 5 * MIN), new Date(chat.createdAt.getTime() + 15 * MIN)]);

    advance(5 * MIN + 1000);
    await scheduler.runDue(clock);
    let notices = await generalNotices();
    expect(notices).toHaveLength(1);
    expect(notices[0]!.payload).toMatchObject({ mention: 'onDuty' });
    expect(String(notices[0]!.payload.text)).toContain(`Chat #${chat.number} waits for an answer`);

    advance(10 * MIN);
    await scheduler.runDue(clock);
    notices = await generalNotices();
    expect(notices).toHaveLength(2);
    expect(notices[1]!.payload).toMatchObject({ mention: 'supervisors' });
    expect(String(notices[1]!.payload.text)).toContain('still unanswered');
  });

  it('names the owner when someone took the chat', async () => {
    const operator = await createOperator({ username: 'bob_support' });
    const chat = await newChat();
    await takeConversation(chat, operator);
    advance(6 * MIN);
    await scheduler.runDue(clock);
    const [notice] = await generalNotices();
    expect(String(notice!.payload.text)).toContain('@bob_support');
    expect(notice!.payload.mention).toBeUndefined();
  });

  it('stays silent once an operator answered', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    advance(3 * MIN);
    await replyToCustomer({ conversation: chat, operator, text: 'Hi!' });
    expect(await plannedNames(chat)).not.toContain(SLA_ALERT_JOB);
    // Even a late run of an alert planned before the answer does nothing.
    await planSlaAlerts(context, chat, chat.createdAt);
    advance(20 * MIN);
    const ran = await scheduler.runDue(clock);
    expect(ran).toContain(SLA_ALERT_JOB);
    expect(await generalNotices()).toEqual([]);
  });

  it('starts a new wait when the customer writes again while awaiting', async () => {
    const operator = await createOperator();
    const chat = await newChat();
    await replyToCustomer({ conversation: chat, operator, text: 'Hi!' });
    advance(MIN);
    await customerWrites('thanks, but one more question');
    const since = (await reload(chat)).lastActivityAt;
    expect(await plannedAt(chat, SLA_ALERT_JOB)).toEqual([new Date(since.getTime() + 5 * MIN), new Date(since.getTime() + 15 * MIN)]);
  });
});

describe('business hours', () => {
  const hours = createBusinessHours({ schedule: 'mon-fri 09:00-18:00', timezone: 'Europe/Berlin', holidays: ['2026-12-25'] });
  const berlin = (iso: string) => new Date(new Date(`${iso}+01:00`).getTime());

  it('a chat opened Friday 17:55 with a 5 minute SLA alerts Monday 09:00', async () => {
    const friday = berlin('2026-11-13T17:55:00');
    expect(hours.addWorkingTime(friday, 5 * MIN)).toEqual(berlin('2026-11-16T09:00:00'));

    const chat = await newChat();
    await mongoose.connection.db!.collection(JOBS_COLLECTION).deleteMany({});
    const businessContext = { ...context, hours };
    await planSlaAlerts(businessContext, chat, friday);
    expect(await plannedAt(chat, SLA_ALERT_JOB)).toEqual([berlin('2026-11-16T09:00:00'), berlin('2026-11-16T09:10:00')]);
  });

  it('counts only working time, skips holidays and knows when it is open', () => {
    expect(hours.addWorkingTime(berlin('2026-11-12T17:50:00'), 15 * MIN)).toEqual(berlin('2026-11-13T09:05:00'));
    expect(hours.addWorkingTime(berlin('2026-12-24T17:58:00'), 5 * MIN)).toEqual(berlin('2026-12-28T09:03:00'));
    expect(hours.isOpen(berlin('2026-11-13T10:00:00'))).toBe(true);
    expect(hours.isOpen(berlin('2026-11-14T10:00:00'))).toBe(false);
    expect(hours.isOpen(berlin('2026-12-25T10:00:00'))).toBe(false);
    expect(hours.nextOpening(berlin('2026-11-14T10:00:00'))).toEqual(berlin('2026-11-16T09:00:00'));
    const weekend = createBusinessHours({ schedule: 'mon-fri 09:00-18:00; sat 10:00-14:00', timezone: 'Europe/Berlin' });
    expect(weekend.addWorkingTime(berlin('2026-11-13T17:55:00'), 5 * MIN)).toEqual(berlin('2026-11-14T10:00:00'));
  });

  it('rejects a schedule it can not read, at config load', () => {
    expect(() => loadConfig({ BUSINESS_HOURS: 'weekdays 9-18' })).toThrow(/BUSINESS_HOURS/);
    expect(() => loadConfig({ BUSINESS_HOURS: 'mon-fri 18:00-09:00' })).toThrow(/BUSINESS_HOURS/);
    expect(() => loadConfig({ BUSINESS_TIMEZONE: 'Mars/Base' })).toThrow(/BUSINESS_TIMEZONE/);
    expect(() => loadConfig({ HOLIDAYS: '25.12.2026' })).toThrow(/HOLIDAYS/);
    expect(() => loadConfig({ REMIND_AFTER: '10m' })).toThrow(/REMIND_AFTER/);
    expect(() => loadConfig({ REMIND_AFTER: '45m' })).toThrow(/REMIND_AFTER/);
    expect(loadConfig({ BUSINESS_HOURS: 'mon-fri 09:00-18:00; sat 10:00-14:00', HOLIDAYS: '2026-12-25,2027-01-01' }).jobs.businessHours?.holidays).toEqual(['2026-12-25', '2027-01-01']);
  });

  it('tells a customer writing out of hours when we are back, once per conversation', async () => {
    const saturday = berlin('2026-11-14T11:00:00');
    const stop = inbox.use(inboxHooks({ ...context, hours, now: () => saturday, settings: { ...context.settings, businessHours: { schedule: 'mon-fri 09:00-18:00', timezone: 'Europe/Berlin', holidays: [] } } }));
    try {
      const chat = await newChat({ externalChatId: 'ooh-1' });
      await customerWrites('anyone there?', { externalChatId: 'ooh-1' });
      const sent = await sentToCustomer(chat);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toContain('Our operators are away right now');
      expect(sent[0]).toContain('Monday');
    } finally {
      stop();
    }
  });
});

describe('satisfaction survey', () => {
  async function solvedChat(externalChatId: string) {
    const operator = await createOperator();
    const chat = await newChat({ externalChatId });
    await replyToCustomer({ conversation: chat, operator, text: 'Fixed it for you.' });
    await closeConversation(await reload(chat), operator, 'solved');
    return chat;
  }

  it('asks for a 1-5 rating after a close as solved, with buttons 1-5, and stores the digit reply without reopening', async () => {
    const chat = await solvedChat('survey-1');
    expect(await plannedNames(chat)).toEqual([SURVEY_JOB]);
    advance(MIN);
    await scheduler.runDue(clock);
    const question = await renderTemplate('messages', 'survey', undefined, {});
    expect((await sentToCustomer(chat)).at(-1)).toBe(question);
    const asked = await MessageModel.findOne({ conversation: chat._id, text: question }).lean();
    expect(asked!.quickReplies).toEqual(['1', '2', '3', '4', '5']);

    const reply = await customerWrites('4 quick, but I had to wait a bit', { externalChatId: 'survey-1' });
    expect(reply.status).toBe('intercepted');
    const after = await reload(chat);
    expect(after.status).toBe('closed');
    expect(after.rating).toMatchObject({ score: 4, comment: 'quick, but I had to wait a bit' });
    const notice = await OutboxItemModel.findOne({ stream: conversationStream(chat._id), action: 'notice' }).lean();
    expect(String(notice!.payload.text)).toContain('rated this chat 4/5: quick, but I had to wait a bit');
    expect(await ConversationModel.countDocuments({ customer: chat.customer })).toBe(1);
  });

  it('a reply that is not a rating reopens the chat as usual', async () => {
    const chat = await solvedChat('survey-2');
    advance(MIN);
    await scheduler.runDue(clock);
    const reply = await customerWrites('actually it broke again', { externalChatId: 'survey-2' });
    expect(reply.status).toBe('stored');
    expect((await reload(chat)).status).toBe('active');
  });

  it('is not asked when the chat was reopened before the survey went out', async () => {
    const operator = await createOperator();
    const chat = await solvedChat('survey-3');
    await reopenConversation(await reload(chat), operator);
    expect(await plannedNames(chat)).not.toContain(SURVEY_JOB);
    expect(await sentToCustomer(chat)).toEqual(['Fixed it for you.']);
  });

  it('reads digits with or without a comment, and nothing else', () => {
    expect(parseRating('5')).toEqual({ score: 5 });
    expect(parseRating(' 3 - slow ')).toEqual({ score: 3, comment: 'slow' });
    expect(parseRating('2/5 rude')).toEqual({ score: 2, comment: 'rude' });
    expect(parseRating('10')).toBeUndefined();
    expect(parseRating('1st floor')).toBeUndefined();
    expect(parseRating('hello')).toBeUndefined();
  });
});

describe('archive', () => {
  it('archives chats closed longer than ARCHIVE_AFTER and leaves newer ones', async () => {
    const operator = await createOperator();
    const old = await closeConversation(await newChat({ externalChatId: 'arch-1' }), operator, 'solved');
    const recent = await closeConversation(await newChat({ externalChatId: 'arch-2' }), operator, 'solved');
    await ConversationModel.updateOne({ _id: old._id }, { $set: { closedAt: new Date(clock.getTime() - 31 * 24 * HOUR) } });
    await ConversationModel.updateOne({ _id: recent._id }, { $set: { closedAt: new Date(clock.getTime() - 29 * 24 * HOUR) } });

    expect(await runArchive(context)).toBe(1);
    expect((await reload(old)).status).toBe('archived');
    expect((await reload(recent)).status).toBe('closed');
    expect(await runArchive(context)).toBe(0);
  });
});

describe('retention (RETENTION_AFTER)', () => {
  const DAY = 24 * HOUR;
  const keepingAYear = () => ({ ...context, settings: { ...context.settings, retentionAfterMs: 365 * DAY } });

  /** A chat of `externalChatId`, closed and archived, last active `daysAgo` days ago. */
  async function archivedChat(externalChatId: string, daysAgo: number, status: 'archived' | 'closed' = 'archived') {
    const operator = await createOperator();
    const closed = await closeConversation(await newChat({ externalChatId }), operator, 'solved');
    const at = new Date(clock.getTime() - daysAgo * DAY);
    await ConversationModel.updateOne({ _id: closed._id }, { $set: { status, lastActivityAt: at, closedAt: at, ...(status === 'archived' ? { archivedAt: at } : {}) } });
    return closed;
  }

  it('erases only archived chats last active before RETENTION_AFTER; a customer with a newer chat keeps the profile', async () => {
    const old = await archivedChat('ret-1', 400);
    const recent = await archivedChat('ret-2', 100);
    const closedLongAgo = await archivedChat('ret-3', 400, 'closed');
    const returning = await archivedChat('ret-4', 400);
    const newer = await newChat({ externalChatId: 'ret-4' });

    expect(await runRetention(context)).toBe(0);
    expect(await runRetention(keepingAYear())).toBe(2);
    expect(await ConversationModel.exists({ _id: old._id })).toBeNull();
    expect(await MessageModel.countDocuments({ conversation: { $in: [old._id, returning._id] } })).toBe(0);
    expect(await CustomerModel.exists({ _id: old.customer })).toBeNull();
    for (const kept of [recent, closedLongAgo, newer]) expect(await ConversationModel.exists({ _id: kept._id })).not.toBeNull();
    expect(await ConversationModel.exists({ _id: returning._id })).toBeNull();
    expect(await CustomerModel.exists({ _id: returning.customer })).not.toBeNull();
    expect(await ErasureAuditModel.find({}, { by: 1, customerErased: 1, _id: 0 }).sort({ customerErased: -1 }).lean()).toEqual([
      { by: 'retention', customerErased: true },
      { by: 'retention', customerErased: false },
    ]);
    expect(await runRetention(keepingAYear())).toBe(0);
  });

  it('the daily report tells how many chats it erased since the previous report', async () => {
    await archivedChat('ret-5', 400);
    await archivedChat('ret-6', 500);
    await runRetention(keepingAYear());
    await postReport('daily', { config, logger: testLogger });
    expect((await generalNotices()).at(-1)!.payload.text).toContain('🗑 2 archived chats were erased since the last report (RETENTION_AFTER).');
    await postReport('daily', { config, logger: testLogger, now: new Date(Date.now() + DAY) });
    expect((await generalNotices()).at(-1)!.payload.text).not.toContain('erased since the last report');
  });
});

describe('/remind', () => {
  function commandContext(conversation: ConversationDoc, operator: Awaited<ReturnType<typeof createOperator>>, args: string, replies: string[]): CommandContext {
    return {
      services: { commands: [], scheduler },
      operator,
      args,
      conversation,
      config,
      logger: testLogger,
      reply: async (text) => void replies.push(text),
      replyFile: async () => undefined,
    } as CommandContext;
  }

  it('plans a follow-up that mentions the operator in the topic, lists the chat’s jobs and cancels one', async () => {
    const operator = await createOperator({ username: 'carol' });
    const chat = await newChat({ externalChatId: 'remind-1' });
    const replies: string[] = [];
    await remind.run(commandContext(chat, operator, '2h call the customer back', replies));
    expect(replies[0]).toContain('I will remind you about chat');

    await remind.run(commandContext(chat, operator, '', replies));
    expect(replies[1]).toMatch(/1\. .*response-time alert\n2\. .*escalation to supervisors.*\n3\. .*⏰ .*: call the customer back/);

    await remind.run(commandContext(chat, operator, 'cancel 2', replies));
    expect(replies[2]).toContain('Cancelled: escalation to supervisors');
    expect(await plannedNames(chat)).toEqual([SLA_ALERT_JOB, 'operator-followup']);

    await replyToCustomer({ conversation: chat, operator, text: 'looking into it' });
    advance(2 * HOUR + MIN);
    await scheduler.runDue(clock);
    const notice = await OutboxItemModel.findOne({ stream: conversationStream(chat._id), action: 'notice' }).lean();
    expect(String(notice!.payload.text)).toContain('@carol');
    expect(String(notice!.payload.text)).toContain('call the customer back');
  });

  it('refuses a delay it can not read', async () => {
    const operator = await createOperator();
    const chat = await newChat({ externalChatId: 'remind-2' });
    await expect(remind.run(commandContext(chat, operator, 'tomorrow call', []))).rejects.toThrow('not a delay');
    await expect(remind.run(commandContext(chat, operator, 'cancel 9', []))).rejects.toThrow('no planned job number 9');
  });
});
