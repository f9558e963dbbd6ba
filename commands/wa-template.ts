import { CustomerModel } from '../src/db/models/index.js';
import { OperatorActionError, replyToCustomer } from '../src/conversations/operator-actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { TEMPLATE_LANGUAGE_META, TEMPLATE_META } from '../channels/whatsapp-shared.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

/** Meta's rules: template names are lowercase letters, digits and underscores; languages like en, en_US, pt_BR. */
const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
const LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/;
const DEFAULT_LANGUAGE = 'en_US';

/**
 * Sends an approved WhatsApp template, the only kind of message WhatsApp allows more than 24 hours after the
 * customer last wrote. The reply is stored like any other and carries the template in its meta; the Cloud
 * API adapter turns that into a `type: template` send.
 */
export const waTemplate: Command = {
  name: 'wa_template',
  description: 'Send an approved WhatsApp template (the only message allowed 24 h after the customer last wrote)',
  usage: '/wa_template name [language, e.g. en_US]',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    if (conversation.channel !== 'whatsapp') throw new OperatorActionError(operatorText('waTemplate.notWhatsapp', { number: conversation.number, channel: conversation.channel }));
    if (!ctx.config.whatsappCloud) throw new OperatorActionError(operatorText('waTemplate.needsCloudApi'));
    const [name, language, ...rest] = ctx.args.split(/\s+/).filter(Boolean);
    if (!name) throw new UsageError(operatorText('waTemplate.nameIt'));
    if (rest.length > 0) throw new UsageError(operatorText('waTemplate.noVariables'));
    if (!TEMPLATE_NAME.test(name)) throw new UsageError(operatorText('waTemplate.notAName', { name }));
    if (language !== undefined && !LANGUAGE.test(language)) throw new UsageError(operatorText('waTemplate.notALanguage', { language }));
    const customer = await CustomerModel.findById(conversation.customer);
    // Templates are approved per locale: a language only guessed from the customer's texts could name one that does
    // not exist, so only an operator's /lang choice is taken over.
    const chosen = customer?.languageFrom === 'operator' && customer.language && LANGUAGE.test(customer.language) ? customer.language : undefined;
    const code = language ?? chosen ?? DEFAULT_LANGUAGE;
    await replyToCustomer({
      conversation,
      operator: ctx.operator,
      dedupeKey: ctx.actionKey,
      text: `[WhatsApp template “${name}” (${code})]`,
      meta: [
        { name: TEMPLATE_META, value: name },
        { name: TEMPLATE_LANGUAGE_META, value: code },
      ],
    });
    await ctx.reply(operatorText('waTemplate.sending', { name, language: code }));
  },
};
