import { CustomerModel } from '../src/db/models/index.js';
import { chooseCustomerLanguage, customerLanguages } from '../src/language/customer-language.js';
import { conversationOf } from './arguments.js';
import { UsageError, type Command } from './command.js';

export const lang: Command = {
  name: 'lang',
  description: "Show or set the customer's language for the gateway's messages (auto: from their messages)",
  usage: '/lang [en|ru|…|auto]',
  role: 'operator',
  needsConversation: true,
  async run(ctx) {
    const conversation = conversationOf(ctx);
    const customer = await CustomerModel.findById(conversation.customer).lean();
    if (!customer) throw new UsageError(`The customer of chat #${conversation.number} no longer exists.`);
    const wanted = ctx.args.toLowerCase();
    if (!wanted) {
      const how = { operator: 'chosen by an operator', channel: 'from their messenger', text: 'from their messages' }[customer.languageFrom ?? 'text'];
      await ctx.reply(customer.language ? `The customer of chat #${conversation.number} gets messages in ${customer.language} (${how}).` : `The language of chat #${conversation.number}'s customer is not known: messages go in the default language.`);
      return;
    }
    if (wanted === 'auto') {
      await chooseCustomerLanguage(customer._id, undefined);
      await ctx.reply(`Chat #${conversation.number}: the customer's language follows their messages again.`);
      return;
    }
    const languages = await customerLanguages();
    if (!languages.includes(wanted)) throw new UsageError(`"${ctx.args}" is not a language the gateway has messages in (${languages.join(', ')}).`);
    await chooseCustomerLanguage(customer._id, wanted);
    await ctx.reply(`Chat #${conversation.number}: the customer now gets the gateway's messages and templates in ${wanted}.`);
  },
};
