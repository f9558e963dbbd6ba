import { CustomerModel } from '../src/db/models/index.js';
import { chooseCustomerLanguage, customerLanguages } from '../src/language/customer-language.js';
import { operatorText } from '../src/i18n/operator-texts.js';
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
    if (!customer) throw new UsageError(operatorText('lang.noCustomer', { number: conversation.number }));
    const wanted = ctx.args.toLowerCase();
    if (!wanted) {
      const source = operatorText(`lang.source.${customer.languageFrom ?? 'text'}`);
      await ctx.reply(customer.language ? operatorText('lang.current', { number: conversation.number, language: customer.language, source }) : operatorText('lang.unknown', { number: conversation.number }));
      return;
    }
    if (wanted === 'auto') {
      await chooseCustomerLanguage(customer._id, undefined);
      await ctx.reply(operatorText('lang.automatic', { number: conversation.number }));
      return;
    }
    const languages = await customerLanguages();
    if (!languages.includes(wanted)) throw new UsageError(operatorText('lang.notALanguage', { given: ctx.args, languages: languages.join(', ') }));
    await chooseCustomerLanguage(customer._id, wanted);
    await ctx.reply(operatorText('lang.chosen', { number: conversation.number, language: wanted }));
  },
};
