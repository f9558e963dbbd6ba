import { ShortcutModel } from '../src/db/models/index.js';
import { SHORTCUT_FORMAT } from '../src/conversations/shortcuts.js';
import { escapeHtml } from '../src/util/html.js';
import { UsageError, type Command, type CommandContext } from './command.js';

/** A shortcut must never be read as something else an operator types: a command or a note. */
function checkTrigger(trigger: string, ctx: CommandContext): void {
  if (trigger.startsWith('/')) {
    const clash = ctx.services.commands.find((c) => c.name === trigger.slice(1).toLowerCase());
    throw new UsageError(clash ? `"${trigger}" clashes with the command /${clash.name}.` : `"${trigger}" would be read as a command: start it with ; instead.`);
  }
  if (trigger.startsWith('!')) throw new UsageError(`"${trigger}" would start an internal note: start it with ; instead.`);
  if (!SHORTCUT_FORMAT.test(trigger)) throw new UsageError(`"${trigger}" is not a shortcut: a mark such as ; then letters, digits, _ or -, like ;thanks.`);
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
      if (all.length === 0) return ctx.reply('There are no shortcuts yet: /shortcut add ;name text.');
      return ctx.reply(['<b>Shortcuts</b>', ...all.map((s) => `<code>${escapeHtml(s._id)}</code> → ${escapeHtml(s.text)}`)].join('\n'), { html: true });
    }
    if (action !== 'add' && action !== 'remove') throw new UsageError(action ? `Unknown /shortcut ${action}: add, remove or list.` : 'Say what to do: add, remove or list.');
    if (!trigger) throw new UsageError('Name the shortcut, like ;thanks.');
    const key = trigger.toLowerCase();
    if (action === 'remove') {
      const removed = await ShortcutModel.deleteOne({ _id: key });
      if (removed.deletedCount === 0) throw new UsageError(`There is no shortcut "${trigger}". /shortcut list shows them.`);
      return ctx.reply(`🗑 Shortcut ${key} removed.`);
    }
    checkTrigger(key, ctx);
    const text = ctx.args.slice(ctx.args.indexOf(trigger) + trigger.length).trim();
    if (!text) throw new UsageError(`Give the text ${key} stands for.`);
    await ShortcutModel.updateOne({ _id: key }, { $set: { text, createdBy: ctx.operator.name } }, { upsert: true });
    await ctx.reply(`✂️ ${key} now stands for: ${text}`);
  },
};
