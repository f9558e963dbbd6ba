import { CHANNEL_KINDS, CLOSE_REASONS, type ChannelKind, type CloseReason } from '../src/domain.js';
import { OperatorModel, type ConversationDoc, type OperatorDoc } from '../src/db/models/index.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { UsageError } from './command.js';

/** Names operators type for each close reason. */
const REASON_WORDS: Record<string, CloseReason> = {
  solved: 'solved',
  resolved: 'solved',
  no_response: 'no_response',
  noresponse: 'no_response',
  silent: 'no_response',
  transferred: 'transferred_to_specialist',
  specialist: 'transferred_to_specialist',
  transferred_to_specialist: 'transferred_to_specialist',
  other: 'other',
};

/** A close reason's label in the team's language. */
export const reasonLabel = (reason: CloseReason): string => operatorText(`close.reason.${reason}`);

export function parseCloseReason(word: string): CloseReason | undefined {
  return REASON_WORDS[word.toLowerCase()] ?? (CLOSE_REASONS as readonly string[]).find((r) => r === word) as CloseReason | undefined;
}

export function parseChannel(word: string): ChannelKind | undefined {
  return (CHANNEL_KINDS as readonly string[]).includes(word.toLowerCase()) ? (word.toLowerCase() as ChannelKind) : undefined;
}

/** "7d", "24h", "30m" or a date "2026-11-01" → the moment it names in the past. */
export function parseSince(word: string, now = new Date()): Date | undefined {
  const relative = /^(\d+)([mhdw])$/i.exec(word);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2]!.toLowerCase() as 'm'];
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(word)) {
    const date = new Date(`${word}T00:00:00Z`);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/** Finds an active operator by @username, Telegram id or exact name; a clear refusal otherwise. */
export async function findOperatorByReference(reference: string): Promise<OperatorDoc> {
  const cleaned = reference.replace(/^@/, '');
  const escaped = cleaned.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const query = /^\d+$/.test(cleaned) ? { telegramUserId: Number(cleaned) } : { $or: [{ username: { $regex: `^${escaped}$`, $options: 'i' } }, { name: { $regex: `^${escaped}$`, $options: 'i' } }] };
  const operator = await OperatorModel.findOne({ ...query, active: true });
  if (!operator) throw new UsageError(operatorText('refusals.noActiveOperator', { reference }));
  return operator;
}

/** The command's conversation, which the console guarantees for commands that need one. */
export function conversationOf(ctx: { conversation?: ConversationDoc }): ConversationDoc {
  if (!ctx.conversation) throw new UsageError(operatorText('refusals.useInsideChatTopic'));
  return ctx.conversation;
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
