import type { Types } from 'mongoose';
import type { Actor, CloseReason, ConversationStatus } from '../domain.js';
import { ChatKeyModel, ConversationEventModel, ConversationModel, type ConversationDoc } from '../db/models/index.js';
import { ConcurrentChangeError, IllegalTransitionError } from './errors.js';
import { withConversationLock } from '../db/serialized-writes.js';

/**
 * The only writer of Conversation.status. Allowed moves, from DESIGN.md:
 * - a customer message: awaiting -> active (owned) or new (unowned); closed -> active/new (reopen)
 * - an operator: take (new/transferred/awaiting -> active), reply (-> awaiting), forward (-> transferred), close, reopen,
 *   hand back when going off duty (active/transferred -> new, unowned)
 * - auto-assignment: new -> active with an owner
 * - the archive job: closed -> archived
 */
const ALLOWED: Record<ConversationStatus, readonly ConversationStatus[]> = {
  new: ['active', 'awaiting', 'transferred', 'closed'],
  active: ['new', 'awaiting', 'transferred', 'closed'],
  awaiting: ['new', 'active', 'transferred', 'closed'],
  transferred: ['new', 'active', 'awaiting', 'transferred', 'closed'],
  closed: ['new', 'active', 'archived'],
  archived: [],
};

export function canTransition(from: ConversationStatus, to: ConversationStatus): boolean {
  return ALLOWED[from].includes(to);
}

export interface TransitionOptions {
  actor: Actor;
  reason?: string;
  comment?: string;
  /** New owner (take, forward); `null` clears it. */
  owner?: Types.ObjectId | null;
  /**
   * The owner the caller read, made part of the write's condition (`null`: none): auto-assignment and hand-back
   * must not overwrite an owner someone set meanwhile, in this process or another.
   */
  expectedOwner?: Types.ObjectId | null;
  at?: Date;
}

export type TransitionListener = (conversation: ConversationDoc, from: ConversationStatus, options: TransitionOptions) => Promise<void>;
const listeners: TransitionListener[] = [];

/** Registers work that must follow every status change (console topic rename, job planning). */
export function onTransition(listener: TransitionListener): () => void {
  listeners.push(listener);
  return () => listeners.splice(listeners.indexOf(listener), 1);
}

/**
 * Moves the conversation to `to`, records who/when/why in the transition log, and returns the updated document.
 * The write is conditional on the status we read, so a concurrent move is detected instead of overwritten.
 */
export async function transition(conversation: ConversationDoc, to: ConversationStatus, options: TransitionOptions): Promise<ConversationDoc> {
  const from = conversation.status as ConversationStatus;
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, conversation.number);
  const at = options.at ?? new Date();
  const set: Record<string, unknown> = { status: to, lastActivityAt: at };
  const unset: Record<string, ''> = {};

  if (options.owner !== undefined) {
    if (options.owner === null) unset.owner = '';
    else set.owner = options.owner;
  }
  if (to === 'transferred' && conversation.owner) set.transferredFrom = conversation.owner;
  if (to === 'closed') {
    set.closedAt = at;
    set.openKey = `closed:${conversation._id}`;
    set.closeReason = options.reason as CloseReason;
    if (options.comment) set.closeComment = options.comment;
    set.resolutionSeconds = Math.round((at.getTime() - conversation.createdAt.getTime()) / 1000);
  }
  if (from === 'closed') {
    set.openKey = String(conversation.customer);
    unset.closedAt = '';
    unset.closeReason = '';
    unset.closeComment = '';
    unset.resolutionSeconds = '';
  }
  if (to === 'archived') set.archivedAt = at;

  const update = Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set };
  // Conditional on the status our caller read: a move made meanwhile, by this process or another, is refused
  // instead of overwritten (atomic on MongoDB, and on the embedded FerretDB with its atomic-update patch).
  const condition: Record<string, unknown> = { _id: conversation._id, status: from };
  if (options.expectedOwner !== undefined) condition.owner = options.expectedOwner ?? { $exists: false };
  const moved = await withConversationLock(conversation._id, () => ConversationModel.updateOne(condition, update));
  if (moved.matchedCount === 0) throw new ConcurrentChangeError(conversation.number);
  if (conversation.chatKey && (to === 'closed' || from === 'closed')) {
    await ChatKeyModel.updateOne({ _id: conversation.chatKey }, to === 'closed' ? { $unset: { openConversation: '' } } : { $set: { openConversation: conversation._id, lastConversation: conversation._id } });
  }

  await ConversationEventModel.create({
    conversation: conversation._id,
    at,
    from,
    to,
    actor: options.actor.kind === 'operator' ? { kind: 'operator', operatorId: options.actor.operatorId, name: options.actor.name } : { kind: options.actor.kind },
    reason: options.reason,
    comment: options.comment,
  });

  const updated = (await ConversationModel.findById(conversation._id))!;
  for (const listener of listeners) await listener(updated, from, options);
  return updated;
}

/** The status a conversation takes when its customer writes while it is awaiting or after it was closed. */
export function statusOnCustomerMessage(conversation: ConversationDoc): ConversationStatus | undefined {
  switch (conversation.status) {
    case 'awaiting':
    case 'closed':
      return conversation.owner ? 'active' : 'new';
    default:
      return undefined;
  }
}
