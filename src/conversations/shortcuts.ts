import { ShortcutModel } from '../db/models/index.js';

/** The marks a shortcut may start with: not `/` (commands) nor `!` (internal notes). */
const MARKS = ';:.,#$%&*+=~^';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
export const SHORTCUT_FORMAT = new RegExp(`^[${escape(MARKS)}][\\w-]{1,32}$`);
const MAY_HOLD_ONE = new RegExp(`(^|\\s)[${escape(MARKS)}][\\w-]`);

/**
 * Replaces each shortcut standing as a word of an operator's reply (`;thanks`, `;thanks.`) by its text, before
 * the reply is stored and sent: the customer only ever sees the expanded text.
 */
export async function expandShortcuts(text: string): Promise<string> {
  if (!MAY_HOLD_ONE.test(text)) return text;
  const shortcuts = await ShortcutModel.find().lean();
  if (shortcuts.length === 0) return text;
  const byTrigger = new Map(shortcuts.map((s) => [s._id.toLowerCase(), s.text]));
  const triggers = [...byTrigger.keys()].sort((a, b) => b.length - a.length).map(escape);
  return text.replace(new RegExp(`(?<=^|\\s)(${triggers.join('|')})(?=$|[\\s.,!?;:)])`, 'gi'), (found) => byTrigger.get(found.toLowerCase()) ?? found);
}
