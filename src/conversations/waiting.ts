import type { Conversation } from '../db/models/index.js';

type Timing = Pick<Conversation, 'status' | 'priority' | 'createdAt' | 'lastCustomerMessageAt' | 'lastOperatorMessageAt' | 'lastActivityAt'>;

const PRIORITY_RANK: Record<string, number> = { high: 0, normal: 1, low: 2 };

/**
 * Since when the customer has been waiting for an answer, or undefined when they are not (an operator answered
 * last, or the chat is closed). A chat never answered waits since it opened; one answered before, since the
 * customer's latest message (the first unanswered one is not kept, so the wait shown is never longer than true).
 */
export function waitingSince(conversation: Timing): Date | undefined {
  if (!['new', 'active', 'transferred'].includes(conversation.status)) return undefined;
  const { lastOperatorMessageAt, lastCustomerMessageAt } = conversation;
  if (!lastOperatorMessageAt) return conversation.createdAt;
  return lastCustomerMessageAt && lastCustomerMessageAt > lastOperatorMessageAt ? lastCustomerMessageAt : undefined;
}

/** Who needs an operator first: high priority first, then the longest wait, then the latest activity. */
export function byUrgency(a: Timing, b: Timing): number {
  const rank = (PRIORITY_RANK[a.priority ?? 'normal'] ?? 1) - (PRIORITY_RANK[b.priority ?? 'normal'] ?? 1);
  if (rank !== 0) return rank;
  const waitA = waitingSince(a)?.getTime() ?? Infinity;
  const waitB = waitingSince(b)?.getTime() ?? Infinity;
  if (waitA !== waitB) return waitA - waitB;
  return b.lastActivityAt.getTime() - a.lastActivityAt.getTime();
}
