import { DEFAULT_LANGUAGE } from '../src/templates.js';
import { removeReplyTemplate, replyTemplateExists, saveReplyTemplate } from '../src/reply-templates.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { UsageError, type Command } from './command.js';

const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

/**
 * "ru" or "pt-br", in lower case, a code Intl knows: so that the usual capitalised first word of a text ("Hi
 * there") is not taken for a language. A text that starts with such a word in lower case names its language first.
 */
function isLanguage(word: string | undefined): word is string {
  if (!word || !/^[a-z]{2}(-[a-z]{2})?$/.test(word)) return false;
  try {
    return LANGUAGE_NAMES.of(word) !== undefined;
  } catch {
    return false;
  }
}

function parse(args: string): { action: string; name: string; language: string; text: string } {
  const [action = '', name = '', ...rest] = args.split(/\s+/);
  if (!['add', 'edit', 'remove'].includes(action)) throw new UsageError(action ? operatorText('template.unknownAction', { action }) : operatorText('template.sayWhat'));
  if (!/^[\w-]{1,32}$/.test(name)) throw new UsageError(name ? operatorText('template.notAName', { name }) : operatorText('template.nameIt'));
  // /template remove takes the language alone; add and edit need text after it.
  const hasLanguage = isLanguage(rest[0]) && (action === 'remove' || rest.length > 1);
  // The text keeps its line breaks: everything after the name (and the language).
  const text = args.split(/(\s+)/).slice(hasLanguage ? 6 : 4).join('').trim();
  return { action, name: name.toLowerCase(), language: hasLanguage ? rest[0]! : DEFAULT_LANGUAGE, text };
}

export const template: Command = {
  name: 'template',
  description: 'Manage the reply templates: add, edit or remove one, per language (a lower-case code such as ru; English unless given)',
  usage: '/template add|edit name [language] text · /template remove name [language]',
  role: 'operator',
  needsConversation: false,
  async run(ctx) {
    const { action, name, language, text } = parse(ctx.args);
    const exists = await replyTemplateExists(name, language);
    const template = operatorText('template.label', { name, language });
    const operator = ctx.operator.name;
    if (action === 'remove') {
      if (!(await removeReplyTemplate(name, language, operator))) throw new UsageError(operatorText('template.noSuchTemplate', { template }));
      return ctx.reply(operatorText('template.removed', { template, operator }));
    }
    if (!text) throw new UsageError(operatorText('template.giveText', { template }));
    if (action === 'add' && exists) throw new UsageError(operatorText('template.exists', { template }));
    if (action === 'edit' && !exists) throw new UsageError(operatorText('template.noSuchToEdit', { template }));
    await saveReplyTemplate(name, language, text, operator);
    await ctx.reply(action === 'add' ? operatorText('template.added', { template, operator, text }) : operatorText('template.changed', { template, operator, text }));
  },
};
