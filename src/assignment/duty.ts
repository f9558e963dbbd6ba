import { ConversationModel, OperatorModel, type ConversationDoc, type OperatorDoc } from '../db/models/index.js';
import { transition } from '../conversations/lifecycle.js';
import { ConcurrentChangeError } from '../conversations/errors.js';
import { actorOf } from '../conversations/operator-actions.js';
import { waitingSince } from '../conversations/waiting.js';
import { requestConsole } from '../console/actions.js';
import { operatorText } from '../i18n/operator-texts.js';
import { capacityChanged } from './signals.js';

/**
 * Puts an operator on or off duty. Going off with `handBack`, their chats whose customer waits for an answer
 * become new and unowned again, for a colleague or auto-assignment; the chats they answered stay theirs.
 */
export async function setDuty(operator: OperatorDoc, onDuty: boolean, options: { handBack?: boolean } = {}): Promise<ConversationDoc[]> {
  await OperatorModel.updateOne({ _id: operator._id }, { $set: { onDuty } });
  await requestConsole({ action: 'dashboard' });
  const handedBack = !onDuty && options.handBack ? await handBack(operator) : [];
  if (onDuty || handedBack.length > 0) capacityChanged();
  return handedBack;
}

async function handBack(operator: OperatorDoc): Promise<ConversationDoc[]> {
  const owned = await ConversationModel.find({ owner: operator._id, status: { $in: ['active', 'transferred'] } });
  const handedBack: ConversationDoc[] = [];
  for (const conversation of owned.filter((c) => waitingSince(c))) {
    try {
      // Conditional on still being theirs: a chat forwarded or taken meanwhile is not handed back.
      handedBack.push(await transition(conversation, 'new', { actor: actorOf(operator), reason: 'handed back', owner: null, expectedOwner: operator._id }));
    } catch (error) {
      if (!(error instanceof ConcurrentChangeError)) throw error;
      continue;
    }
    await requestConsole({ action: 'notice', conversation: conversation._id, text: operatorText('assignment.handedBack', { name: operator.name, number: conversation.number }), mention: 'onDuty' });
  }
  return handedBack;
}
