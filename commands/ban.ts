import { CustomerModel } from '../src/db/models/index.js';
import { conversationOf } from './arguments.js';
import type { Command, CommandContext } from './command.js';

/** Shared with /unban. */
export async function setBanned(ctx: CommandContext, banned: boolean): Promise<void> {
  const conversation = conversationOf(ctx);
  const customer = await CustomerModel.findById(conversation.customer);
  if (!customer) return ctx.reply(`Chat #${conversation.number} has no customer record.`);
  if (customer.blocked === banned) return ctx.reply(`This customer is already ${banned ? 'banned' : 'not banned'}.`);
  customer.blocked = banned;
  await customer.save();
  ctx.logger.info({ customerId: String(customer._id), banned }, 'customer ban changed');
  await ctx.reply(banned ? `🚫 Customer banned by ${ctx.operator.name}: their messages are stored but no longer shown here.` : `✅ Customer unbanned by ${ctx.operator.name}.`);
}

export const ban: Command = {
  name: 'ban',
  description: "Ban this chat's customer: messages stored, not shown",
  usage: '/ban',
  role: 'supervisor',
  needsConversation: true,
  run: (ctx) => setBanned(ctx, true),
};
