import type { Types } from 'mongoose';
import { ConversationModel, CustomerModel, type ConversationDoc, type CustomerDoc } from '../../db/models/index.js';
import type { ClaimedItem, DeliveryOutcome } from '../../outbox/worker.js';
import type { GroupCalls } from './group-calls.js';
import type { SenderNeeds } from './group-budget.js';
import type { ConsoleTarget } from './target.js';

/**
 * What an item needs before anything is spent on it: nothing (skip, with why), a wait, or a slot of a bot that
 * meets `needs`. `prepared` carries what the plan already read to the run.
 */
export type Plan = { skip: string } | { waitMs: number } | { needs: SenderNeeds; prepared?: unknown };

/** One kind of console request (relay, notice, topic name...): planned from the database, then run. */
export interface ConsoleAction {
  plan(item: ClaimedItem): Promise<Plan>;
  run(item: ClaimedItem, calls: GroupCalls, prepared: unknown): Promise<DeliveryOutcome>;
}

/** What every action knows of the group. */
export class ConsoleContext {
  constructor(
    readonly groupId: number,
    /** Forum mode (a topic per conversation) or reply mode; known after the console checked the group. */
    readonly forum: () => boolean,
    /** A status or relay changed what the dashboard shows. */
    readonly dashboardStale: () => void,
    /** A topic's name follows its chat's status this long after the first change (later changes ride along). */
    readonly topicRenameDelayMs: number,
    /** Whether this bot still sends into the group (only the bot that sent a message can edit it). */
    readonly hasSender: (botId: number) => boolean,
    /** This gateway's instance id: locks it takes name it, so that its next run after a crash frees them. */
    readonly instanceId: string,
  ) {}

  get general(): ConsoleTarget {
    return { chatId: this.groupId };
  }

  /** The conversation's topic in forum mode, the General topic (or the plain group) otherwise. */
  targetOf(conversation: Pick<ConversationDoc, 'console'>): ConsoleTarget {
    return this.forum() && conversation.console?.topicId ? { chatId: this.groupId, threadId: conversation.console.topicId } : this.general;
  }

  /** The conversation and its customer, or undefined when either is gone (erased). */
  async load(id: Types.ObjectId | null | undefined): Promise<{ conversation: ConversationDoc; customer: CustomerDoc } | undefined> {
    const conversation = id ? await ConversationModel.findById(id) : null;
    const customer = conversation ? await CustomerModel.findById(conversation.customer) : null;
    return conversation && customer ? { conversation, customer } : undefined;
  }
}
