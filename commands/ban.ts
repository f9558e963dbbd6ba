import { CustomerModel } from '../src/db/models/index.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { conversationOf } from './arguments.js';
import type { Command, CommandContext } from './command.js';

/** Shared with /unban. */
export async function setBanned(ctx: CommandContext, banned: boolean): Promise<void> {
  const conversation = conversationOf(ctx);
  const customer = await CustomerModel.findById(conversation.customer);
  if (!customer) return ctx.reply(operatorText('ban.noCustomer', { number: conversation.number }));
  if (customer.blocked === banned) return ctx.reply(banned ? operatorText('ban.alreadyBanned') : operatorText('ban.alreadyNotBanned'));
  customer.blocked = banned;
  await customer.save();
  ctx.logger.info({ customerId: String(customer._id), banned }, 'customer ban changed');
  await ctx.reply(banned ? operatorText('ban.banned', { name: ctx.operator.name }) : operatorText('ban.unbanned', { name: ctx.operator.name }));
}

export const ban: Command = {
  name: 'ban',
  description: "Ban this chat's customer: messages stored, not shown",
  usage: '/ban',
  role: 'supervisor',
  needsConversation: true,
  run: (ctx) => setBanned(ctx, true),
};
