import { ShortcutModel } from '../src/db/models/index.js';
import { SHORTCUT_FORMAT } from '../src/conversations/shortcuts.js';
import { escapeHtml } from '../src/util/html.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { UsageError, type Command, type CommandContext } from './command.js';

/** A shortcut must never be read as something else an operator types: a command or a note. */
function checkTrigger(trigger: string, ctx: CommandContext): void {
  if (trigger.startsWith('/')) {
    const clash = ctx.services.commands.find((c) => c.name === trigger.slice(1).toLowerCase());
    throw new UsageError(clash ? operatorText('shortcut.clashesWithCommand', { shortcut: trigger, command: clash.name }) : operatorText('shortcut.readAsCommand', { shortcut: trigger }));
  }
  if (trigger.startsWith('!')) throw new UsageError(operatorText('shortcut.startsNote', { shortcut: trigger }));
  if (!SHORTCUT_FORMAT.test(trigger)) throw new UsageError(operatorText('shortcut.notAShortcut', { shortcut: trigger }));
}

export const shortcut: Command = {
  name: 'shortcut',
  description: 'Auto-replace: a shortcut such as ;thanks in your reply is replaced by its text before it is sent',
  usage: '/shortcut add ;name text · /shortcut remove ;name · /shortcut list',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const [action = '', trigger = ''] = ctx.args.split(/\s+/);
    if (action === 'list') {
      const all = await ShortcutModel.find().sort({ _id: 1 }).lean();
      if (all.length === 0) return ctx.reply(operatorText('shortcut.noneYet'));
      return ctx.reply([operatorText('shortcut.title'), ...all.map((s) => `<code>${escapeHtml(s._id)}</code> → ${escapeHtml(s.text)}`)].join('\n'), { html: true });
    }
    if (action !== 'add' && action !== 'remove') throw new UsageError(action ? operatorText('shortcut.unknownAction', { action }) : operatorText('shortcut.sayWhat'));
    if (!trigger) throw new UsageError(operatorText('shortcut.nameIt'));
    const key = trigger.toLowerCase();
    if (action === 'remove') {
      const removed = await ShortcutModel.deleteOne({ _id: key });
      if (removed.deletedCount === 0) throw new UsageError(operatorText('shortcut.noSuchShortcut', { shortcut: trigger }));
      return ctx.reply(operatorText('shortcut.removed', { shortcut: key }));
    }
    checkTrigger(key, ctx);
    const text = ctx.args.slice(ctx.args.indexOf(trigger) + trigger.length).trim();
    if (!text) throw new UsageError(operatorText('shortcut.giveText', { shortcut: key }));
    await ShortcutModel.updateOne({ _id: key }, { $set: { text, createdBy: ctx.operator.name } }, { upsert: true });
    await ctx.reply(operatorText('shortcut.saved', { shortcut: key, text }));
  },
};
