import { OPERATOR_ROLES, type OperatorRole } from '../src/domain.js';
import { OperatorModel } from '../src/db/models/index.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { findOperatorByReference } from './arguments.js';
import { UsageError, type Command } from './command.js';

export const op: Command = {
  name: 'op',
  description: 'Manage operators: add (reply to their message or give their id), remove, role',
  usage: '/op add [telegram id] [name] [operator|supervisor|admin] · /op remove @user · /op role @user supervisor',
  role: 'admin',
  needsConversation: false,
  async run(ctx) {
    const [action, ...rest] = ctx.args.split(/\s+/).filter(Boolean);
    if (action === 'add') {
      const role = (OPERATOR_ROLES as readonly string[]).includes(rest.at(-1) ?? '') ? (rest.pop() as OperatorRole) : 'operator';
      const id = rest[0] && /^\d+$/.test(rest[0]) ? Number(rest.shift()) : ctx.repliedToUser?.id;
      if (!id) throw new UsageError(operatorText('op.whoToAdd'));
      const name = rest.join(' ') || (ctx.repliedToUser?.id === id ? ctx.repliedToUser.name : operatorText('op.defaultName', { id }));
      const username = ctx.repliedToUser?.id === id ? ctx.repliedToUser.username : undefined;
      await OperatorModel.updateOne({ telegramUserId: id }, { $set: { active: true, role, name, ...(username ? { username } : {}) }, $setOnInsert: { telegramUserId: id } }, { upsert: true });
      return ctx.reply(operatorText('op.added', { name, id, role: operatorText(`op.role.${role}`) }));
    }
    if (action === 'remove' && rest[0]) {
      const target = await findOperatorByReference(rest[0]);
      if (target._id.equals(ctx.operator._id)) throw new UsageError(operatorText('op.notYourself'));
      await OperatorModel.updateOne({ _id: target._id }, { $set: { active: false, onDuty: false } });
      return ctx.reply(operatorText('op.removed', { name: target.name }));
    }
    if (action === 'role' && rest[0] && rest[1]) {
      if (!(OPERATOR_ROLES as readonly string[]).includes(rest[1])) throw new UsageError(operatorText('op.notARole', { role: rest[1] }));
      const target = await findOperatorByReference(rest[0]);
      await OperatorModel.updateOne({ _id: target._id }, { $set: { role: rest[1] } });
      return ctx.reply(operatorText('op.roleChanged', { name: target.name, role: operatorText(`op.role.${rest[1]}`) }));
    }
    throw new UsageError(action ? operatorText('op.unknownAction', { action }) : operatorText('op.sayWhat'));
  },
};
