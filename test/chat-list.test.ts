import { describe, expect, it } from 'vitest';
import { eventually, useTelegramHarness } from './support/gateway.js';
import { inbound } from './support/factories.js';
import { bob } from './support/team.js';
import type { ChannelKind } from '../src/domain.js';
import { ConversationModel, OperatorModel } from '../src/db/models/index.js';

const h = useTelegramHarness({ forum: true }, ['bob', 'carol']);
const HOUR = 3_600_000;


let seq = 0;
/** A chat from a named customer, then shaped directly: owner, priority, status, age. */
async function chat(name: string, shape: { channel?: ChannelKind; owner?: string; priority?: 'low' | 'normal' | 'high'; status?: string; hoursAgo?: number; phone?: string } = {}) {
  const result = await h.gateway.inbox.receive(inbound({ channel: shape.channel ?? 'telegram', externalChatId: `list-${++seq}`, profile: { name, username: name.toLowerCase(), phone: shape.phone } }));
  if (result.status !== 'stored') throw new Error('not stored');
  const owner = shape.owner ? await OperatorModel.findOne({ name: shape.owner }) : undefined;
  const createdAt = new Date(Date.now() - (shape.hoursAgo ?? 0) * HOUR);
  // The driver's own update: mongoose keeps createdAt immutable.
  await ConversationModel.collection.updateOne(
    { _id: result.conversation._id },
    { $set: { createdAt, lastActivityAt: createdAt, priority: shape.priority ?? 'normal', status: shape.status ?? (owner ? 'active' : 'new'), ...(owner ? { owner: owner._id } : {}) } },
  );
  return result.conversation.number;
}

/** Runs /chats (or /search) in General and returns the answer's text. */
async function list(user: { id: number; first_name: string }, text: string) {
  const before = h.telegram.state.sent.length;
  h.telegram.operatorWrites(user, { text });
  const answer = await eventually(() => h.telegram.state.sent.slice(before).find((m) => m.chat_id === h.telegram.groupId && m.message_thread_id === undefined && /Chats|No chats|Found|Nothing found|Usage/.test(m.text ?? '')));
  return answer;
}

/** The chat numbers a list shows, in its order (the heading aside). */
const numbers = (text = '') => [...text.split('\n').slice(1).join('\n').matchAll(/#(\d+)/g)].map((m) => Number(m[1]));

describe('/chats', () => {
  it('shows number, status, channel, customer and contact, owner, priority, created time and the wait on each line', async () => {
    const number = await chat('Alice', { owner: 'Bob', priority: 'high', hoursAgo: 2, phone: '+15550001' });
    const { text } = await list(bob, '/chats');
    const line = text!.split('\n').find((l) => l.includes(`#${number}`))!;
    expect(line).toContain('🟢');
    expect(line).toContain('Telegram');
    expect(line).toContain('Alice (@alice, +15550001)');
    expect(line).toContain('👤 Bob');
    expect(line).toContain('❗high');
    expect(line).toMatch(/created \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(line).toMatch(/⌛ waits (1 h 59|2 h 0) min/);
  });

  it('puts high priority first, then the longest wait', async () => {
    const recent = await chat('Recent', { hoursAgo: 1 });
    const old = await chat('Old', { hoursAgo: 5 });
    const urgent = await chat('Urgent', { priority: 'high', hoursAgo: 0 });
    const low = await chat('Low', { priority: 'low', hoursAgo: 9 });
    expect(numbers((await list(bob, '/chats')).text)).toEqual([urgent, old, recent, low]);
  });

  it('filters by status: open by default, one status, or all', async () => {
    const open = await chat('Open');
    const closed = await chat('Closed', { status: 'closed' });
    expect(numbers((await list(bob, '/chats')).text)).toEqual([open]);
    expect(numbers((await list(bob, '/chats closed')).text)).toEqual([closed]);
    expect(numbers((await list(bob, '/chats all')).text).sort()).toEqual([open, closed].sort());
  });

  it('filters by channel', async () => {
    await chat('Tg');
    const vk = await chat('Vk', { channel: 'vk' });
    expect(numbers((await list(bob, '/chats vk')).text)).toEqual([vk]);
  });

  it('filters by operator: @name, me and none', async () => {
    const bobs = await chat('ForBob', { owner: 'Bob' });
    const carols = await chat('ForCarol', { owner: 'Carol' });
    const nobodys = await chat('ForNobody');
    expect(numbers((await list(bob, '/chats @carol_op')).text)).toEqual([carols]);
    expect(numbers((await list(bob, '/chats me')).text)).toEqual([bobs]);
    expect(numbers((await list(bob, '/chats none')).text)).toEqual([nobodys]);
  });

  it('filters by priority', async () => {
    await chat('Plain');
    const high = await chat('Hot', { priority: 'high' });
    expect(numbers((await list(bob, '/chats high')).text)).toEqual([high]);
  });

  it('filters by creation time with since: and until:', async () => {
    const today = await chat('Today', { hoursAgo: 1 });
    const lastWeek = await chat('LastWeek', { hoursAgo: 24 * 6 });
    const longAgo = await chat('LongAgo', { hoursAgo: 24 * 40 });
    expect(numbers((await list(bob, '/chats since:2d')).text)).toEqual([today]);
    expect(numbers((await list(bob, '/chats until:30d')).text)).toEqual([longAgo]);
    expect(numbers((await list(bob, '/chats since:10d until:1d')).text)).toEqual([lastWeek]);
  });

  it('combines filters, and the page buttons keep them', async () => {
    for (let i = 0; i < 11; i++) await chat(`Vip${i}`, { channel: 'vk', owner: 'Carol', priority: 'high', hoursAgo: i });
    await chat('Other', { channel: 'vk', owner: 'Carol' });
    await chat('Elsewhere', { owner: 'Carol', priority: 'high' });
    const first = await list(bob, '/chats vk @carol_op high since:7d');
    expect(first.text).toContain('11 in all, page 1/2');
    const next = first.reply_markup!.inline_keyboard![0]!.find((b) => b.text === 'Next ▶')!;
    expect(Buffer.byteLength(next.callback_data!)).toBeLessThanOrEqual(64);
    h.telegram.operatorPresses(bob, first, next.callback_data!);
    const second = await eventually(() => h.telegram.state.edits.find((e) => e.text.includes('page 2/2')));
    expect(second.text).toContain('11 in all');
    expect(second.text).toContain('Vip0');
  });

  it('refuses a word it does not know and an unknown operator, listing nothing', async () => {
    expect((await list(bob, '/chats purple')).text).toContain('"purple" is not a status');
    expect((await list(bob, '/chats @nobody')).text).toContain('No active operator "@nobody"');
  });
});

describe('/search', () => {
  it('finds a chat by its number', async () => {
    await chat('First');
    const second = await chat('Second');
    expect(numbers((await list(bob, `/search #${second}`)).text)).toEqual([second]);
  });

  it("finds an operator's chats", async () => {
    await chat('Mine', { owner: 'Bob' });
    const carols = await chat('Hers', { owner: 'Carol' });
    expect(numbers((await list(bob, '/search @carol_op')).text)).toEqual([carols]);
    expect((await list(bob, '/search @nobody')).text).toContain('No active operator "@nobody"');
  });
});
