import { Agenda } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import { DateTime } from 'luxon';
import mongoose, { Types } from 'mongoose';
import { beforeEach, describe, expect, it } from 'vitest';
import { mayRun, UsageError, type CommandContext, type ReplyOptions } from '../commands/command.js';
import { commands } from '../commands/index.js';
import { stats } from '../commands/stats.js';
import { loadConfig } from '../src/config.js';
import { ConversationModel, CustomerModel, OutboxItemModel, type OperatorDoc } from '../src/db/models/index.js';
import type { ChannelKind, CloseReason, ConversationStatus } from '../src/domain.js';
import { renderChart } from '../src/stats/chart.js';
import { computeStats } from '../src/stats/compute.js';
import { csvField } from '../src/stats/csv.js';
import { rebuildFacts } from '../src/stats/facts-store.js';
import { parseStatsArgs } from '../src/stats/period.js';
import { DAILY_REPORT_JOB, defineReportJobs, postReport, reportSchedules, WEEKLY_REPORT_JOB } from '../src/stats/report-job.js';
import { useTestDatabase } from './support/database.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';

useTestDatabase();

const config = loadConfig({ NODE_ENV: 'test', REPORT_TIMEZONE: 'UTC' });
const WEEK = '2024-03-04..2024-03-10';
const utc = (iso: string) => new Date(`${iso}Z`);

interface FixtureChat {
  created: string;
  channel: ChannelKind;
  owner?: OperatorDoc;
  status: ConversationStatus;
  closed?: string;
  reason?: CloseReason;
  firstResponse?: number;
  resolution?: number;
  counts: [number, number];
  rating?: number;
  customerName?: string;
}

let number = 0;
/** Stores a conversation with the fields the conversation code writes when events happen. */
async function storeChat(chat: FixtureChat) {
  number += 1;
  const customer = await CustomerModel.create({ channel: chat.channel, externalChatId: `c${number}`, name: chat.customerName ?? `Customer ${number}` });
  const id = new Types.ObjectId();
  await ConversationModel.collection.insertOne({
    _id: id,
    number,
    customer: customer._id,
    channel: chat.channel,
    status: chat.status,
    openKey: chat.closed ? `closed:${id}` : String(customer._id),
    owner: chat.owner?._id,
    priority: 'normal',
    tags: [],
    createdAt: utc(chat.created),
    updatedAt: utc(chat.closed ?? chat.created),
    lastActivityAt: utc(chat.closed ?? chat.created),
    ...(chat.closed ? { closedAt: utc(chat.closed), closeReason: chat.reason, resolutionSeconds: chat.resolution } : {}),
    ...(chat.firstResponse !== undefined ? { firstResponseSeconds: chat.firstResponse } : {}),
    counts: { in: chat.counts[0], out: chat.counts[1], notes: 0 },
    ...(chat.rating !== undefined ? { rating: { score: chat.rating, at: utc(chat.closed!) } } : {}),
  });
}

/**
 * The hand-computed week (Mon 4 - Sun 10 March 2024, UTC). Seven chats opened in it, one opened before and
 * closed in it (counts for closures, resolution and CSAT only), two outside it entirely.
 */
async function storeWeek() {
  const anna = await createOperator({ name: 'Anna', username: 'anna' });
  const boris = await createOperator({ name: 'Boris', username: 'boris' });
  const chats: FixtureChat[] = [
    { created: '2024-03-04T09:10:00', channel: 'telegram', owner: anna, status: 'closed', closed: '2024-03-04T10:10:00', reason: 'solved', firstResponse: 60, resolution: 3600, counts: [3, 2], rating: 5 },
    { created: '2024-03-04T09:40:00', channel: 'telegram', owner: anna, status: 'closed', closed: '2024-03-05T09:40:00', reason: 'no_response', firstResponse: 120, resolution: 86400, counts: [1, 1] },
    { created: '2024-03-05T14:00:00', channel: 'email', owner: boris, status: 'closed', closed: '2024-03-05T16:00:00', reason: 'solved', firstResponse: 600, resolution: 7200, counts: [2, 3], rating: 3 },
    { created: '2024-03-06T09:05:00', channel: 'email', owner: boris, status: 'archived', closed: '2024-03-06T09:35:00', reason: 'other', firstResponse: 240, resolution: 1800, counts: [4, 2], rating: 4 },
    { created: '2024-03-07T09:30:00', channel: 'webchat', owner: anna, status: 'awaiting', firstResponse: 30, counts: [2, 1] },
    { created: '2024-03-08T18:00:00', channel: 'webchat', status: 'new', counts: [1, 0] },
    { created: '2024-03-09T09:50:00', channel: 'telegram', owner: boris, status: 'closed', closed: '2024-03-09T10:50:00', reason: 'transferred_to_specialist', firstResponse: 900, resolution: 3600, counts: [5, 4], rating: 1 },
    // Opened before the week, closed in it.
    { created: '2024-03-01T12:00:00', channel: 'telegram', owner: anna, status: 'closed', closed: '2024-03-04T12:00:00', reason: 'solved', firstResponse: 100, resolution: 259200, counts: [2, 2], rating: 4 },
    // Outside the week.
    { created: '2024-03-02T08:00:00', channel: 'vk', owner: anna, status: 'closed', closed: '2024-03-03T08:00:00', reason: 'solved', firstResponse: 5, resolution: 86400, counts: [1, 1], rating: 2 },
    { created: '2024-03-12T10:00:00', channel: 'vk', owner: boris, status: 'new', counts: [1, 0] },
  ];
  for (const chat of chats) await storeChat(chat);
  // Stored behind the conversation code's back: fill the /stats read model as the daily rebuild would.
  await rebuildFacts();
  return { anna, boris };
}

function weekQuery(extra = '') {
  return parseStatsArgs(`${WEEK} ${extra}`, { timezone: 'UTC' });
}

/** A command context that records what the command answers, as the Telegram console would show it. */
function recordingContext(operator: OperatorDoc, args: string, contextConfig = config) {
  const replies: Array<{ text: string; options?: ReplyOptions }> = [];
  const files: Array<{ fileName: string; mimeType: string; content: Buffer; caption?: string }> = [];
  const ctx: CommandContext = {
    services: { commands },
    operator,
    args,
    config: contextConfig,
    logger: testLogger,
    reply: async (text, options) => {
      replies.push({ text, options });
    },
    replyFile: async (file, caption) => {
      files.push({ ...file, caption });
    },
  };
  return { ctx, replies, files };
}

function pngSize(png: Buffer) {
  return { signature: png.subarray(0, 8).toString('hex'), width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Splits CSV text (RFC 4180) into rows of fields, to read back what a spreadsheet would. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe('/stats figures over a hand-computed week', () => {
  let operators: Awaited<ReturnType<typeof storeWeek>>;
  beforeEach(async () => {
    number = 0;
    operators = await storeWeek();
  });

  it('counts chats opened, closed by reason and still open by status', async () => {
    const report = await computeStats({ period: weekQuery().period, timezone: 'UTC' });
    expect(report.opened).toBe(7);
    expect(report.closed).toBe(6);
    expect(report.closedByReason).toEqual({ solved: 3, no_response: 1, transferred_to_specialist: 1, other: 1 });
    expect(report.stillOpen).toBe(2);
    expect(report.openByStatus).toEqual({ new: 1, active: 0, awaiting: 1, transferred: 0 });
  });

  it('gives first response median, p90 and the share within the 5-minute SLA, and resolution median and p90', async () => {
    const report = await computeStats({ period: weekQuery().period, timezone: 'UTC' });
    // Answered: 30, 60, 120, 240, 600, 900 s.
    expect(report.firstResponse).toMatchObject({ count: 6, median: 180, p90: 900, slaSeconds: 300, withinSla: 4, unanswered: 1 });
    expect(report.firstResponse.shareWithinSla).toBeCloseTo(4 / 6);
    // Closed in the week: 1800, 3600, 3600, 7200, 86400, 259200 s.
    expect(report.resolution).toEqual({ count: 6, median: 5400, p90: 259200 });
  });

  it('measures satisfaction over chats closed in the period, and messages per chat opened', async () => {
    const report = await computeStats({ period: weekQuery().period, timezone: 'UTC' });
    expect(report.csat.rated).toBe(5);
    expect(report.csat.average).toBeCloseTo(17 / 5);
    expect(report.csat.distribution).toEqual({ 5: 1, 4: 2, 3: 1, 1: 1 });
    expect(report.csat.shareRated).toBeCloseTo(5 / 6);
    expect(report.messages.customerPerChat).toBeCloseTo(18 / 7);
    expect(report.messages.operatorPerChat).toBeCloseTo(13 / 7);
  });

  it('breaks the figures down per operator (by name) and per channel, and finds the busiest hours', async () => {
    const report = await computeStats({ period: weekQuery().period, timezone: 'UTC' });
    const anna = report.perOperator.find((o) => o.name === 'Anna')!;
    const boris = report.perOperator.find((o) => o.name === 'Boris')!;
    expect(anna).toMatchObject({ opened: 3, closed: 3, rated: 2, firstResponse: { count: 3, median: 60 } });
    expect(anna.csatAverage).toBeCloseTo(4.5);
    expect(boris).toMatchObject({ opened: 3, closed: 3, rated: 3, firstResponse: { count: 3, median: 600 } });
    expect(boris.csatAverage).toBeCloseTo(8 / 3);

    const byChannel = Object.fromEntries(report.perChannel.map((c) => [c.channel, c]));
    expect(Object.keys(byChannel).sort()).toEqual(['email', 'telegram', 'webchat']);
    expect(byChannel.telegram).toMatchObject({ opened: 3, closed: 4, rated: 3, firstResponse: { median: 120 } });
    expect(byChannel.telegram!.csatAverage).toBeCloseTo(10 / 3);
    expect(byChannel.email).toMatchObject({ opened: 2, closed: 2, csatAverage: 3.5, firstResponse: { median: 420 } });
    expect(byChannel.webchat).toMatchObject({ opened: 2, closed: 0, rated: 0, firstResponse: { median: 30 } });

    expect(report.busiestHours).toEqual([
      { hour: 9, opened: 5 },
      { hour: 14, opened: 1 },
      { hour: 18, opened: 1 },
    ]);
    expect(report.daily.map((d) => d.day)).toEqual(['2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08', '2024-03-09', '2024-03-10']);
    expect(report.daily[0]).toEqual({ day: '2024-03-04', byChannel: { telegram: 2 }, firstResponseMedian: 90 });
    expect(report.daily[6]).toEqual({ day: '2024-03-10', byChannel: {}, firstResponseMedian: undefined });
  });

  it('narrows to one channel or one @operator', async () => {
    const { period } = weekQuery();
    const email = await computeStats({ period, timezone: 'UTC', channel: 'email' });
    expect(email).toMatchObject({ opened: 2, closed: 2, closedByReason: { solved: 1, other: 1 } });
    const anna = await computeStats({ period, timezone: 'UTC', operator: { id: operators.anna._id, name: 'Anna' } });
    expect(anna).toMatchObject({ opened: 3, closed: 3, closedByReason: { solved: 2, no_response: 1 } });
    expect(anna.resolution).toEqual({ count: 3, median: 86400, p90: 259200 });
  });

  it('answers a supervisor with a readable text and a chart image', async () => {
    const supervisor = await createOperator({ role: 'supervisor' });
    const { ctx, replies, files } = recordingContext(supervisor, WEEK);
    await stats.run(ctx);
    expect(replies).toHaveLength(1);
    const text = replies[0]!.text;
    expect(replies[0]!.options?.html).toBe(true);
    expect(text).toContain('2024-03-04 to 2024-03-10');
    expect(text).toContain('7 opened, 6 closed (solved 3, customer not responding 1, transferred to specialist 1, other 1)');
    expect(text).toContain('Still open: 2 (new 1, awaiting 1)');
    expect(text).toContain('median 3m, p90 15m, within 5m: 67%; 1 without an answer');
    expect(text).toContain('<b>Resolution</b>: median 1h 30m, p90 3d 0h');
    expect(text).toContain('3.40 average from 5 ratings (83% of closed chats rated)');
    expect(text).toContain('• Anna: 3 opened, 3 closed, first response 1m, CSAT 4.5 (2)');
    expect(text).toContain('09:00 (5)');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ fileName: 'stats.png', mimeType: 'image/png' });
  });

  it('measures the share within the configured FIRST_RESPONSE_SLA', async () => {
    const supervisor = await createOperator({ role: 'supervisor' });
    const { ctx, replies } = recordingContext(supervisor, WEEK, loadConfig({ REPORT_TIMEZONE: 'UTC', FIRST_RESPONSE_SLA: '10m' }));
    await stats.run(ctx);
    expect(replies[0]!.text).toContain('within 10m: 83%');
  });

  it('filters by @operator from the command line and refuses an unknown one', async () => {
    const admin = await createOperator({ role: 'admin' });
    const filtered = recordingContext(admin, `${WEEK} @ANNA telegram`);
    await stats.run(filtered.ctx);
    expect(filtered.replies[0]!.text).toContain('telegram, Anna');
    expect(filtered.replies[0]!.text).toContain('2 opened, 3 closed');

    const unknown = recordingContext(admin, `${WEEK} @nobody`);
    await expect(stats.run(unknown.ctx)).rejects.toThrow(new UsageError('No operator with the username @nobody.'));
  });

  it('exports one CSV row per conversation opened or closed in the period', async () => {
    const supervisor = await createOperator({ role: 'supervisor' });
    const { ctx, files } = recordingContext(supervisor, `export ${WEEK}`);
    await stats.run(ctx);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ fileName: 'conversations-2024-03-04-to-2024-03-10.csv', mimeType: 'text/csv', caption: '8 conversations, 2024-03-04 to 2024-03-10' });
    const rows = parseCsv(files[0]!.content.toString('utf8').replace(/^\uFEFF/, ''));
    expect(rows[0]).toEqual(['number', 'channel', 'customer', 'owner', 'status', 'created', 'first response s', 'resolution s', 'closed', 'reason', 'rating']);
    expect(rows).toHaveLength(9);
    // Oldest first: the chat opened on 1 March and closed in the week leads.
    expect(rows[1]).toEqual(['8', 'telegram', 'Customer 8', 'Anna', 'closed', '2024-03-01T12:00:00.000Z', '100', '259200', '2024-03-04T12:00:00.000Z', 'solved', '4']);
    expect(rows[7]).toEqual(['6', 'webchat', 'Customer 6', '', 'new', '2024-03-08T18:00:00.000Z', '', '', '', '', '']);
  });
});

describe('/stats with nothing to report', () => {
  it('says so for an empty period and sends no chart', async () => {
    const supervisor = await createOperator({ role: 'supervisor' });
    const { ctx, replies, files } = recordingContext(supervisor, '2023-01-01..2023-01-31');
    await stats.run(ctx);
    expect(replies[0]!.text).toContain('No chats were opened or closed in this period.');
    expect(files).toHaveLength(0);

    const report = await computeStats({ period: parseStatsArgs('2023-01-01..2023-01-31', { timezone: 'UTC' }).period, timezone: 'UTC' });
    expect(report).toMatchObject({ opened: 0, closed: 0, stillOpen: 0, busiestHours: [], perOperator: [], perChannel: [] });
    expect(report.firstResponse.median).toBeUndefined();
    expect(report.csat.average).toBeUndefined();
  });

  it('answers an export of an empty period with a sentence instead of an empty file', async () => {
    const supervisor = await createOperator({ role: 'supervisor' });
    const { ctx, replies, files } = recordingContext(supervisor, 'export yesterday email');
    await stats.run(ctx);
    expect(files).toHaveLength(0);
    expect(replies[0]!.text).toMatch(/^No conversations were opened or closed in yesterday \(\d{4}-\d{2}-\d{2}\), email\.$/);
  });
});

describe('/stats arguments', () => {
  const now = new Date('2024-03-10T15:30:00Z');
  const parse = (args: string, timezone = 'UTC') => parseStatsArgs(args, { now, timezone });

  it('reads today, yesterday, 7d, 30d and date ranges as whole days in the report time zone', () => {
    expect(parse('today').period).toMatchObject({ from: new Date('2024-03-10T00:00:00Z'), to: now, days: ['2024-03-10'] });
    expect(parse('yesterday').period).toMatchObject({ from: new Date('2024-03-09T00:00:00Z'), to: new Date('2024-03-10T00:00:00Z') });
    expect(parse('7d').period).toMatchObject({ from: new Date('2024-03-04T00:00:00Z'), to: now, label: 'last 7 days' });
    expect(parse('30d').period.days).toHaveLength(30);
    expect(parse('2024-02-28..2024-03-01').period).toMatchObject({ from: new Date('2024-02-28T00:00:00Z'), to: new Date('2024-03-02T00:00:00Z'), days: ['2024-02-28', '2024-02-29', '2024-03-01'] });
    // Moscow is UTC+3: its "today" started at 21:00 UTC the day before.
    expect(parse('today', 'Europe/Moscow').period.from).toEqual(new Date('2024-03-09T21:00:00Z'));
    expect(parse('').period.label).toBe('last 7 days');
  });

  it('takes a channel and an @operator in any order', () => {
    expect(parse('@boris 30d vk')).toMatchObject({ channel: 'vk', operatorUsername: 'boris', period: { label: 'last 30 days' } });
  });

  it.each([
    ['lastweek', '"lastweek" is not a period, channel or @operator'],
    ['2024-02-30..2024-03-01', '2024-02-30 is not a valid date.'],
    ['2024-03-10..2024-03-01', 'The range 2024-03-10..2024-03-01 ends before it starts.'],
    ['0d', 'A period of 0 days is out of range'],
    ['7d 30d', 'Only one period at a time'],
    ['email vk', 'Only one channel at a time'],
    ['@a @b', 'Only one @operator at a time'],
    ['2020-01-01..2024-01-01', 'at most 400 are allowed'],
  ])('refuses "%s" with a clear message', (args, message) => {
    expect(() => parse(args)).toThrow(UsageError);
    expect(() => parse(args)).toThrow(message);
  });

  it('refuses bad arguments through the command too, before reading anything', async () => {
    const supervisor = await createOperator({ role: 'supervisor' });
    const { ctx } = recordingContext(supervisor, 'export 31d..1d');
    await expect(stats.run(ctx)).rejects.toBeInstanceOf(UsageError);
  });
});

describe('/stats permissions', () => {
  it('is registered for supervisors and admins only, usable outside conversations', async () => {
    expect(commands).toContain(stats);
    expect(stats).toMatchObject({ name: 'stats', role: 'supervisor', needsConversation: false });
    expect(mayRun(await createOperator({ role: 'operator' }), stats)).toBe(false);
    expect(mayRun(await createOperator({ role: 'supervisor' }), stats)).toBe(true);
    expect(mayRun(await createOperator({ role: 'admin' }), stats)).toBe(true);
  });
});

describe('CSV export escaping', () => {
  it('quotes commas, quotes and line breaks, and defuses spreadsheet formulas in names', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('Smith, John')).toBe('"Smith, John"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://x")', { text: true })).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField('-5', { text: true })).toBe("'-5");
    expect(csvField(-5)).toBe('-5');
    expect(csvField(undefined)).toBe('');
  });

  it('round-trips awkward customer names through the exported file', async () => {
    await storeChat({ created: '2024-03-05T10:00:00', channel: 'email', status: 'new', counts: [1, 0], customerName: 'Smith, "Jr"\nsecond line' });
    await storeChat({ created: '2024-03-05T11:00:00', channel: 'email', status: 'new', counts: [1, 0], customerName: '@cmd|calc' });
    await rebuildFacts();
    const supervisor = await createOperator({ role: 'supervisor' });
    const { ctx, files } = recordingContext(supervisor, `export ${WEEK}`);
    await stats.run(ctx);
    const rows = parseCsv(files[0]!.content.toString('utf8').replace(/^\uFEFF/, ''));
    expect(rows.map((r) => r[2])).toEqual(['customer', 'Smith, "Jr"\nsecond line', "'@cmd|calc"]);
    expect(rows.every((r) => r.length === 11)).toBe(true);
  });
});

describe('stats chart', () => {
  it('is a PNG of a sensible size, drawn without a browser', async () => {
    await storeWeek();
    const report = await computeStats({ period: weekQuery().period, timezone: 'UTC' });
    const png = await renderChart(report);
    const { signature, width, height } = pngSize(png);
    expect(signature).toBe('89504e470d0a1a0a');
    expect(width).toBeGreaterThan(1000);
    expect(width).toBeLessThan(3000);
    expect(height).toBeGreaterThan(600);
    expect(height).toBeLessThan(3000);
    expect(png.length).toBeGreaterThan(10_000);
  });
});

describe('scheduled reports', () => {
  it('posts yesterday\'s figures to the General topic as a notice, with the chart', async () => {
    await storeWeek();
    await postReport('daily', { config, logger: testLogger, now: new Date('2024-03-05T09:00:00Z') });
    const items = await OutboxItemModel.find({ route: 'console', action: 'notice' }).lean();
    expect(items).toHaveLength(1);
    expect(items[0]!.stream).toBe('console:general');
    const payload = items[0]!.payload as { text: string; html: boolean; file?: { fileName: string; mimeType: string; dataBase64: string } };
    expect(payload.html).toBe(true);
    expect(payload.text).toContain('Daily support report: yesterday (2024-03-04)');
    expect(payload.text).toContain('2 opened, 2 closed (solved 2)');
    expect(payload.file).toMatchObject({ mimeType: 'image/png', fileName: expect.stringMatching(/^daily-report-.*\.png$/) });
    expect(Buffer.from(payload.file!.dataBase64, 'base64').subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('posts a report once, however often its job runs again (a restart after a crash)', async () => {
    await storeWeek();
    const now = new Date('2024-03-05T09:00:00Z');
    await Promise.all([postReport('daily', { config, logger: testLogger, now }), postReport('daily', { config, logger: testLogger, now })]);
    await postReport('daily', { config, logger: testLogger, now });
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'notice' })).toBe(1);
    // Delivered (the item is gone): a later run still does not post it again; the next day's report is new.
    await OutboxItemModel.deleteMany({});
    await postReport('daily', { config, logger: testLogger, now });
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'notice' })).toBe(0);
    await postReport('daily', { config, logger: testLogger, now: new Date('2024-03-06T09:00:00Z') });
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'notice' })).toBe(1);
  });

  it('covers the seven days before the weekly run', async () => {
    await storeWeek();
    await postReport('weekly', { config, logger: testLogger, now: new Date('2024-03-11T09:00:00Z') });
    const item = await OutboxItemModel.findOne({ route: 'console', action: 'notice' }).lean();
    expect((item!.payload as { text: string }).text).toContain('Weekly support report: 2024-03-04 to 2024-03-10');
    expect((item!.payload as { text: string }).text).toContain('7 opened, 6 closed');
  });

  it('schedules both jobs at the configured time and time zone, and unschedules one switched off', async () => {
    const berlin = loadConfig({ REPORT_DAILY_AT: '08:30', REPORT_WEEKLY_DAY: 'fri', REPORT_TIMEZONE: 'Europe/Berlin' });
    expect(reportSchedules(berlin)).toEqual({ daily: '30 8 * * *', weekly: '30 8 * * 5' });

    const agenda = new Agenda({ backend: new MongoBackend({ mongo: mongoose.connection.db! }) });
    await defineReportJobs(agenda, { config: berlin, logger: testLogger });
    const jobs = mongoose.connection.db!.collection('agendaJobs');
    const scheduled = await jobs.find({ name: { $in: [DAILY_REPORT_JOB, WEEKLY_REPORT_JOB] } }).toArray();
    expect(scheduled.map((j) => [j.name, j.repeatInterval, j.repeatTimezone]).sort()).toEqual([
      [DAILY_REPORT_JOB, '30 8 * * *', 'Europe/Berlin'],
      [WEEKLY_REPORT_JOB, '30 8 * * 5', 'Europe/Berlin'],
    ]);
    const daily = scheduled.find((j) => j.name === DAILY_REPORT_JOB)!;
    const next = DateTime.fromJSDate(daily.nextRunAt as Date, { zone: 'Europe/Berlin' });
    expect([next.hour, next.minute]).toEqual([8, 30]);

    await defineReportJobs(agenda, { config: loadConfig({ REPORT_WEEKLY_DAY: 'off', REPORT_TIMEZONE: 'Europe/Berlin' }), logger: testLogger });
    expect(await jobs.countDocuments({ name: WEEKLY_REPORT_JOB })).toBe(0);
    expect(await jobs.countDocuments({ name: DAILY_REPORT_JOB })).toBe(1);
    await jobs.deleteMany({});
  });

  it('refuses a time zone or report time it cannot use', () => {
    expect(() => loadConfig({ REPORT_TIMEZONE: 'Mars/Olympus' })).toThrow('REPORT_TIMEZONE');
    expect(() => loadConfig({ REPORT_DAILY_AT: '9am' })).toThrow('REPORT_DAILY_AT');
  });
});
