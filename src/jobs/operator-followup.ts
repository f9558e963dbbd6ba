import { OperatorModel } from '../db/models/index.js';
import { requestConsole } from '../console/actions.js';
import { escapeHtml } from '../util/html.js';
import type { JobsContext } from './context.js';
import { loadConversation } from './episode.js';
import { operatorText } from '../i18n/operator-texts.js';
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
    text: operatorText('jobs.followUp', { mention: who, number: conversation.number, state: operatorText(`conversations.state.${conversation.status}`), text: data.text ? escapeHtml(data.text) : operatorText('jobs.followUpDefault') }),
    alert: true,
  });
}
