import type { InboundMessage } from '../domain.js';
import { ChatKeyModel, ConversationModel, CustomerModel, type ConversationDoc, type CustomerDoc } from '../db/models/index.js';
import { customerMessageDoc } from '../conversations/customer-message.js';
import { insertMessage } from '../db/batched-writes.js';
import { isDuplicateKeyError } from '../db/errors.js';
import { renderTemplate } from '../templates.js';
import { sendSystemMessage } from '../conversations/system-message.js';
import { chatKeyOf } from '../conversations/open.js';
import { requestConsole } from '../console/actions.js';
import { conversationLogger } from '../logger.js';
import type { JobsContext } from './context.js';
import { loadConversation } from './episode.js';
import { doOnce, isMarked } from './marks.js';
import { refreshFacts } from '../stats/facts-store.js';
import { operatorText } from '../i18n/operator-texts.js';
import { updateConversation } from '../db/serialized-writes.js';

export const SURVEY_JOB = 'satisfaction-survey';

export interface SurveyData {
  conversationId: string;
  /** The close (ISO) the survey is about: a reopen and a later close ask again. */
  closedAt: string;
}

/** Plain digits: a tap comes back as the message "5", which parseRating reads like a typed answer. */
export const RATING_CHOICES = ['1', '2', '3', '4', '5'];

const surveyMark = (conversationId: string, closedAt: Date) => `survey:${conversationId}:${closedAt.getTime()}`;

export async function planSurvey(ctx: JobsContext, conversation: ConversationDoc): Promise<void> {
  if (!conversation.closedAt) return;
  await ctx.planner.schedule(new Date(ctx.now().getTime() + ctx.settings.surveyDelayMs), SURVEY_JOB, {
    conversationId: String(conversation._id),
    closedAt: conversation.closedAt.toISOString(),
  });
}

/** Asks the customer to rate the help 1-5, if the chat is still closed as solved by that close. */
export async function runSurvey(ctx: JobsContext, data: SurveyData): Promise<void> {
  const conversation = await loadConversation(data.conversationId);
  const closedAt = new Date(data.closedAt);
  if (!conversation || conversation.status !== 'closed' || conversation.closeReason !== 'solved' || conversation.closedAt?.getTime() !== closedAt.getTime()) return;
  if (conversation.rating?.score) return;
  const sent = await doOnce(surveyMark(data.conversationId, closedAt), conversation._id, ctx.now(), async () => {
    const customer = await CustomerModel.findById(conversation.customer);
    const text = await renderTemplate('messages', 'survey', customer?.language ?? undefined, { customerName: customer?.name ?? '', companyName: ctx.companyName });
    // Not shown in the (closed) topic: the operators' group budget is for what they act on; the rating is shown.
    await sendSystemMessage(conversation, text, { quickReplies: RATING_CHOICES, showInConsole: false });
  });
  if (!sent) return;
  conversationLogger(ctx.logger, conversation).info('satisfaction survey sent');
}

/** "5", "4 quick and friendly", "3 - slow": the score and an optional comment. */
export function parseRating(text: string): { score: number; comment?: string } | undefined {
  const match = /^\s*([1-5])(?:\s*\/\s*5)?(?=$|[\s\-–—:.,!)])\s*[-–—:.,!)]?\s*([\s\S]*)$/u.exec(text);
  if (!match) return undefined;
  const comment = match[2]!.trim();
  return { score: Number(match[1]), ...(comment ? { comment } : {}) };
}

/**
 * Inbox hook: a digit reply to a survey of the customer's last closed chat is stored as its rating and shown
 * in the topic, without reopening the chat. Anything else goes on as a normal customer message.
 */
export function surveyReplyInterceptor(ctx: Pick<JobsContext, 'settings' | 'logger' | 'now' | 'companyName'>) {
  return async (message: InboundMessage, customer: CustomerDoc): Promise<ConversationDoc | undefined> => {
    const rating = parseRating(message.text);
    if (!rating) return undefined;
    // By _id through the chat's look-up document: FerretDB would scan the conversations for any other filter.
    const chat = await ChatKeyModel.findById(chatKeyOf(message.channel, message.externalChatId)).lean();
    if (!chat?.lastConversation || chat.openConversation) return undefined;
    const conversation = await ConversationModel.findById(chat.lastConversation);
    if (conversation?.status !== 'closed' || !conversation.closedAt || conversation.closeReason !== 'solved' || conversation.rating?.score) return undefined;
    if (ctx.now().getTime() - conversation.closedAt.getTime() > ctx.settings.surveyReplyWindowMs + ctx.settings.surveyDelayMs) return undefined;
    if (!(await isMarked(surveyMark(String(conversation._id), conversation.closedAt)))) return undefined;

    try {
      await insertMessage(customerMessageDoc(message, conversation._id, customer, 'survey rating'));
    } catch (error) {
      if (isDuplicateKeyError(error)) return conversation;
      throw error;
    }
    const at = ctx.now();
    await updateConversation(conversation._id, { $set: { rating: { score: rating.score, comment: rating.comment, at }, lastCustomerMessageAt: message.sentAt }, $inc: { 'counts.in': 1 } });
    await refreshFacts(conversation._id);
    const stars = '⭐'.repeat(rating.score);
    await requestConsole({ action: 'notice', conversation: conversation._id, text: operatorText('jobs.rated', { stars, score: rating.score, comment: rating.comment ? `: ${rating.comment}` : '' }), alert: true });
    const thanks = await renderTemplate('messages', 'survey-thanks', customer.language ?? undefined, { customerName: customer.name ?? '', companyName: ctx.companyName });
    await sendSystemMessage(conversation, thanks, { showInConsole: false });
    conversationLogger(ctx.logger, conversation).info({ score: rating.score }, 'satisfaction rating stored');
    return (await ConversationModel.findById(conversation._id)) ?? conversation;
  };
}
