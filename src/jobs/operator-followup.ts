import { OperatorModel } from '../db/models/index.js';
import { requestConsole } from '../console/actions.js';
import { escapeHtml } from '../util/html.js';
import type { JobsContext } from './context.js';
import { loadConversation } from './episode.js';
import { operatorMention } from './sla-alert.js';

export const OPERATOR_FOLLOWUP_JOB = 'operator-followup';

export interface OperatorFollowupData {
  conversationId: string;
  operatorId: string;
  text: string;
}

/** `/remind 2h call back`: reminds the operator in the chat's topic, mentioning them. */
export async function runOperatorFollowup(_ctx: JobsContext, data: OperatorFollowupData): Promise<void> {
  const conversation = await loadConversation(data.conversationId);
  if (!conversation) return;
  const operator = await OperatorModel.findById(data.operatorId).lean();
  const who = operator ? `${operatorMention(operator)} ` : '';
  await requestConsole({
    action: 'notice',
    conversation: conversation._id,
    html: true,
    text: `⏰ ${who}reminder for chat #${conversation.number} (${conversation.status}): ${escapeHtml(data.text || 'follow up')}`,
    alert: true,
  });
}
