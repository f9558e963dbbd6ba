import type { InboxHooks } from '../inbox.js';
import type { Logger } from '../logger.js';
import { CustomerModel } from '../db/models/index.js';
import { requestConsole } from '../console/actions.js';
import { sendSystemMessage } from '../conversations/system-message.js';
import { renderTemplate } from '../templates.js';
import { operatorText } from '../i18n/operator-texts.js';
import { isMarked, markOnce, unmark } from '../jobs/marks.js';

/** The answers that confirm the request, in every language the question is asked in. */
const CONFIRMATIONS = new Set(['yes', 'да']);

const askedMark = (conversationId: unknown) => `forget-asked:${conversationId}`;
const requestedMark = (conversationId: unknown) => `forget-requested:${conversationId}`;

/**
 * Inbox hook: a customer who writes FORGET_KEYWORD is asked to confirm (forget-confirm template, in their
 * language); their next message confirms (YES / ДА) or cancels. A confirmed request reaches the supervisors in the
 * General topic with the button of /forget, and the customer is told (forget-requested). Both messages stay in the
 * chat like any other: the operators see the request where it was made.
 */
export function forgetRequestHooks(options: { keyword: string; companyName: string; logger: Logger }): InboxHooks {
  const keyword = options.keyword.toLowerCase();
  return {
    async afterStored(result, message) {
      const { conversation } = result;
      const text = message.text.trim().toLowerCase();
      const customer = await CustomerModel.findById(conversation.customer);
      if (!customer) return;
      const vars = { customerName: customer.name ?? '', companyName: options.companyName };
      if (text === keyword) {
        await unmark(askedMark(conversation._id));
        await markOnce(askedMark(conversation._id), conversation._id, new Date());
        await sendSystemMessage(conversation, await renderTemplate('messages', 'forget-confirm', customer.language ?? undefined, vars));
        return;
      }
      if (!(await isMarked(askedMark(conversation._id)))) return;
      await unmark(askedMark(conversation._id));
      if (!CONFIRMATIONS.has(text) || !(await markOnce(requestedMark(conversation._id), conversation._id, new Date()))) return;
      await requestConsole({
        action: 'notice',
        text: operatorText('privacy.customerAsksErasure', { number: conversation.number }),
        mention: 'supervisors',
        buttons: [[{ text: operatorText('privacy.eraseButton'), data: `c:forget:ask:${conversation._id}` }]],
      });
      await sendSystemMessage(conversation, await renderTemplate('messages', 'forget-requested', customer.language ?? undefined, vars));
      options.logger.info({ conversationId: String(conversation._id), conversationNumber: conversation.number }, 'the customer asked for the erasure of their data');
    },
  };
}
