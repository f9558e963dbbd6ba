import type { Types } from 'mongoose';
import { ConversationModel, OperatorModel, type ConversationDoc, type OperatorDoc } from '../db/models/index.js';
import { OPEN_STATUSES } from '../db/models/conversation.js';
import { transition } from '../conversations/lifecycle.js';
import { ConcurrentChangeError } from '../conversations/errors.js';
import { byUrgency } from '../conversations/waiting.js';
import { requestConsole } from '../console/actions.js';
import { markOnce } from '../jobs/marks.js';
import type { BusinessHours } from '../jobs/business-hours.js';
import { operatorText } from '../i18n/operator-texts.js';
import { chooseOperator, type AssignmentMode, type Candidate } from './policy.js';

export interface AssignmentSettings {
  mode: AssignmentMode;
  maxOpenPerOperator: number;
  hours: BusinessHours;
  now?: () => Date;
}

export interface RoundResult {
  assigned: Array<{ conversation: ConversationDoc; operator: OperatorDoc }>;
  /** Chats still without an owner, and why, when there are any. */
  waiting: number;
  why?: 'outside business hours' | 'nobody on duty' | 'everyone at the cap';
}

/**
 * One auto-assignment round: the unowned new chats, most urgent first, each to an on-duty operator below
 * MAX_OPEN_PER_OPERATOR, as long as anyone is. The caller holds the assignment lock (round-lock.ts), so loads
 * counted here are not changed by another copy's round; an owner set meanwhile by /take or another copy fails
 * the conditional write and the chat is left to them.
 */
export async function assignWaiting(settings: AssignmentSettings): Promise<RoundResult> {
  const now = settings.now?.() ?? new Date();
  const waiting = (await ConversationModel.find({ status: 'new', owner: { $exists: false } })).sort(byUrgency);
  if (waiting.length === 0) return { assigned: [], waiting: 0 };
  if (!settings.hours.isOpen(now)) return { assigned: [], waiting: waiting.length, why: 'outside business hours' };
  const operators = await OperatorModel.find({ active: true, onDuty: true });
  if (operators.length === 0) return { assigned: [], waiting: waiting.length, why: 'nobody on duty' };

  const loads = await openChatsOf(operators.map((o) => o._id));
  const candidates: Candidate[] = operators.map((o) => ({ id: String(o._id), open: loads.get(String(o._id)) ?? 0, lastAssignedAt: o.lastAssignedAt ?? undefined }));
  const byId = new Map(operators.map((o) => [String(o._id), o]));
  const assigned: RoundResult['assigned'] = [];
  let stamp = now.getTime();
  for (const [index, conversation] of waiting.entries()) {
    const chosen = chooseOperator(settings.mode, candidates, settings.maxOpenPerOperator);
    if (!chosen) {
      await tellWhyWaiting(waiting.slice(index), settings.maxOpenPerOperator);
      return { assigned, waiting: waiting.length - index, why: 'everyone at the cap' };
    }
    const operator = byId.get(chosen.id)!;
    let owned: ConversationDoc;
    try {
      owned = await transition(conversation, 'active', { actor: { kind: 'system' }, reason: 'auto-assigned', owner: operator._id, expectedOwner: null });
    } catch (error) {
      if (error instanceof ConcurrentChangeError) continue;
      throw error;
    }
    assigned.push({ conversation: owned, operator });
    // Distinct stamps keep the turns in order when one round gives several chats.
    chosen.lastAssignedAt = new Date((stamp = Math.max(stamp + 1, Date.now())));
    chosen.open += 1;
    await OperatorModel.updateOne({ _id: operator._id }, { $set: { lastAssignedAt: chosen.lastAssignedAt } });
    await showAssignment(owned, operator);
  }
  return { assigned, waiting: 0 };
}

/** Open chats per operator: what the cap counts. */
async function openChatsOf(operatorIds: Types.ObjectId[]): Promise<Map<string, number>> {
  const rows = await ConversationModel.aggregate<{ _id: Types.ObjectId; open: number }>([
    { $match: { owner: { $in: operatorIds }, status: { $in: [...OPEN_STATUSES] } } },
    { $group: { _id: '$owner', open: { $sum: 1 } } },
  ]);
  return new Map(rows.map((row) => [String(row._id), row.open]));
}

/** The owner is mentioned in the chat's topic; the new-chat alert loses its Take button. */
async function showAssignment(conversation: ConversationDoc, operator: OperatorDoc): Promise<void> {
  await requestConsole({ action: 'notice', conversation: conversation._id, text: operatorText('assignment.assigned', { number: conversation.number, name: operator.name }), mention: 'owner' });
  await requestConsole({ action: 'alertAnswered', conversation: conversation._id });
}

/** Each chat left waiting because everyone is at the cap hears it once, in its topic. */
async function tellWhyWaiting(conversations: ConversationDoc[], maxOpen: number): Promise<void> {
  for (const conversation of conversations) {
    if (!(await markOnce(`assignment-cap:${conversation._id}`, conversation._id, new Date()))) continue;
    await requestConsole({
      action: 'notice',
      conversation: conversation._id,
      text: operatorText('assignment.waits', { number: conversation.number, count: maxOpen }),
      alert: true,
    });
  }
}
