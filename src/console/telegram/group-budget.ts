import { setTimeout as sleep } from 'node:timers/promises';
import type { Api } from 'grammy';
import { SendSlotModel } from '../../db/models/index.js';
import { isDuplicateKeyError } from '../../db/errors.js';

/** A bot that may send into the operator group: the console's own, or a helper bot that only sends. */
export interface GroupSender {
  /** The bot's Telegram user id; it names the bot's budget. */
  id: number;
  username: string;
  api: Api;
  /** The bot that receives the group's updates: only it can own buttons, edit its messages, pin, react. */
  main: boolean;
  /** An admin with the right to manage topics: may create, rename, close and reopen them. */
  manageTopics: boolean;
}

/** What a call needs of the bot that makes it. */
export interface SenderNeeds {
  main?: boolean;
  manageTopics?: boolean;
  /** This very bot (a bot edits only its own messages). */
  senderId?: number;
}

/** A slot taken: the call must start before `usableUntil`, or the slot is lost and another one is needed. */
export interface Grant {
  sender: GroupSender;
  usableUntil: number;
}

export type BudgetAnswer = Grant | { waitMs: number };

/**
 * How long after a bot may send again (in slots) a priority must wait before it may send: a higher priority
 * waiting in any gateway process takes the slot at once; a lower one only what is left a moment later.
 */
const LAG: Record<number, number> = { 1: 0, 2: 0.25, 3: 0.5 };
const LOWEST_PRIORITY = 3;
const lagOf = (priority: number) => LAG[priority] ?? LAG[LOWEST_PRIORITY]!;
/** A waiting send not heard of again this many slots after it expected one is gone (skipped, sent by another process). */
const STALE_AFTER_SLOTS = 3;
/** How long a call after an item's first waits for budget before the attempt gives up (it is then retried). */
const MAX_WAIT_FOR_NEXT_CALL_MS = 20_000;
const KEEP_SLOTS_MS = 10 * 60_000;
const NO_SENDERS_RETRY_MS = 1000;
/**
 * A slot's call must start within this part of the slot: one that starts later, with network delay, could reach
 * Telegram in the next slot, next to that slot's own call, and make a sliding minute hold one call too many.
 */
const USABLE_PART_OF_SLOT = 0.75;
const MIN_SPACING_IN_SLOTS = 0.5;

/**
 * Telegram lets each bot send about 20 messages a minute into one group. Each bot's minute is cut into slots of
 * a minute / (limit - 1), one send each, so no sliding minute ever holds more than the limit. A slot is taken by
 * inserting its document (`SendSlot`): every gateway process on the database shares the one budget, and exactly
 * one of them gets each slot. More bots bring more slots; a send takes the first bot that has one.
 */
export class GroupBudget {
  private readonly slotMs: number;
  /** The latest slot of each bot known to be taken, so a waiting send does not ask the database again. */
  private readonly takenUpTo = new Map<number, number>();
  private readonly blockedUntil = new Map<number, number>();
  /** When this process last sent through each bot: its sends stay half a slot apart, never two at once. */
  private readonly lastSentAt = new Map<number, number>();
  /** The sends waiting in this process for a slot (by item), with their priority and when they expect one. */
  private readonly waiting = new Map<string, { priority: number; until: number }>();
  private rotation = 0;
  private claims = 0;

  constructor(
    private readonly options: { groupId: number; perMinute: number; senders: () => readonly GroupSender[]; now?: () => number },
  ) {
    this.slotMs = 60_000 / Math.max(options.perMinute - 1, 0.5);
  }

  /**
   * 0 when a send of this priority could be granted now, or how long until it might: answered from memory, so an
   * item can be checked for relevance (a read) only when budget is there for it. `item` names the send that waits.
   */
  waitFor(priority: number, needs: SenderNeeds = {}, item?: string): number {
    const now = this.now();
    const senders = this.eligible(needs);
    // Before the console has checked its bots there is nobody to send with yet.
    if (senders.length === 0) return NO_SENDERS_RETRY_MS;
    const waitMs = Math.min(...senders.map((sender) => this.waitOf(sender, priority, now)));
    if (waitMs > 0) this.note(item, priority, { waitMs }, now);
    return waitMs;
  }

  /** Takes a slot for a send of this priority on the first eligible bot that has one. */
  async take(priority: number, needs: SenderNeeds = {}, item?: string): Promise<BudgetAnswer> {
    const now = this.now();
    let waitMs = Number.POSITIVE_INFINITY;
    for (const sender of this.rotated(this.eligible(needs))) {
      const wait = this.waitOf(sender, priority, now);
      const slot = this.slotAt(now);
      if (wait === 0 && (await this.claim(sender, slot))) return this.note(item, priority, { sender, usableUntil: this.usableUntil(slot) }, now);
      waitMs = Math.min(waitMs, wait || this.waitOf(sender, priority, now));
    }
    return this.note(item, priority, { waitMs: Number.isFinite(waitMs) ? Math.max(1, Math.ceil(waitMs)) : NO_SENDERS_RETRY_MS }, now);
  }

  /** Whether this bot sends into the group (a message it sent can be edited only while it does). */
  hasSender(id: number): boolean {
    return this.options.senders().some((s) => s.id === id);
  }

  /** Whether a call may still start on this grant. */
  inTime(grant: Grant): boolean {
    return this.now() < grant.usableUntil;
  }

  /** The send no longer waits (it turned out not to be needed). */
  forget(item: string): void {
    this.waiting.delete(item);
  }

  /** For a further call of an item already under way: waits for budget, up to a limit. */
  async takeWaiting(priority: number, needs: SenderNeeds = {}): Promise<Grant> {
    const deadline = this.now() + MAX_WAIT_FOR_NEXT_CALL_MS;
    for (;;) {
      const answer = await this.take(priority, needs);
      if ('sender' in answer) return answer;
      if (this.now() + answer.waitMs > deadline) throw new Error('no send budget left in the operator group for the rest of this item');
      await sleep(answer.waitMs);
    }
  }

  /** Telegram answered 429: nothing goes out through this bot for `ms`. */
  block(sender: GroupSender, ms: number): void {
    this.blockedUntil.set(sender.id, Math.max(this.blockedUntil.get(sender.id) ?? 0, this.now() + ms));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private slotAt(time: number): number {
    return Math.floor(time / this.slotMs);
  }

  private usableUntil(slot: number): number {
    return (slot + USABLE_PART_OF_SLOT) * this.slotMs;
  }

  private eligible(needs: SenderNeeds): GroupSender[] {
    return this.options.senders().filter((s) => (!needs.main || s.main) && (!needs.manageTopics || s.manageTopics) && (needs.senderId === undefined || s.id === needs.senderId));
  }

  /** Starts with a different bot each time, so sends spread over all of them. */
  private rotated(senders: GroupSender[]): GroupSender[] {
    if (senders.length === 0) return senders;
    this.rotation = (this.rotation + 1) % senders.length;
    return [...senders.slice(this.rotation), ...senders.slice(0, this.rotation)];
  }

  private waitOf(sender: GroupSender, priority: number, now: number): number {
    const blocked = (this.blockedUntil.get(sender.id) ?? 0) - now;
    if (blocked > 0) return Math.ceil(blocked);
    const slot = this.slotAt(now);
    const late = now >= this.usableUntil(slot);
    const free = !late && (this.takenUpTo.get(sender.id) ?? -1) < slot ? slot : slot + 1;
    // The bot may send again once its next free slot opens and half a slot has passed since its last send. A whole
    // slot would carry each send's delay into the next one, until a send came too late in its slot and lost it.
    let opens = Math.max(free * this.slotMs, (this.lastSentAt.get(sender.id) ?? Number.NEGATIVE_INFINITY) + MIN_SPACING_IN_SLOTS * this.slotMs);
    // While a send of a higher priority waits in this process, a lower one waits behind it.
    for (const [item, wait] of this.waiting) {
      if (wait.until + STALE_AFTER_SLOTS * this.slotMs < now) this.waiting.delete(item);
      else if (wait.priority < priority) opens = Math.max(opens, wait.until, now + this.slotMs / 4);
    }
    return Math.max(0, Math.ceil(opens + lagOf(priority) * this.slotMs - now));
  }

  /** Remembers which sends wait, and until when they expect a slot; one that got its slot waits no more. */
  private note(item: string | undefined, priority: number, answer: BudgetAnswer, now: number): BudgetAnswer {
    if (item === undefined) return answer;
    if ('sender' in answer) this.waiting.delete(item);
    else if (priority < LOWEST_PRIORITY) this.waiting.set(item, { priority, until: now + answer.waitMs });
    return answer;
  }

  private async claim(sender: GroupSender, slot: number): Promise<boolean> {
    const budget = `group:${this.options.groupId}:bot:${sender.id}`;
    try {
      await SendSlotModel.create({ _id: `${budget}:${slot}`, budget, at: new Date(this.now()) });
      this.lastSentAt.set(sender.id, this.now());
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return false;
    } finally {
      this.takenUpTo.set(sender.id, Math.max(this.takenUpTo.get(sender.id) ?? -1, slot));
      if (++this.claims % 200 === 0) await SendSlotModel.deleteMany({ budget, at: { $lt: new Date(this.now() - KEEP_SLOTS_MS) } }).catch(() => undefined);
    }
  }
}
