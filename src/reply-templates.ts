import { ReplyTemplateModel } from './db/models/index.js';
import { isDuplicateKeyError } from './db/errors.js';
import { fill, languageCandidates, readReplyTemplateFiles, TemplateNotFoundError, type TemplateVars } from './templates.js';

/**
 * The operators' library of ready answers (/t, /templates, /template), kept in the database so that operators
 * manage it from the group and every gateway copy sees the same one.
 */

const idOf = (name: string, language: string) => `${name.toLowerCase()}:${language.toLowerCase()}`;

/** Adds the shipped templates the library does not know yet; one an operator removed stays removed. */
export async function seedReplyTemplates(): Promise<void> {
  for (const file of await readReplyTemplateFiles()) {
    try {
      await ReplyTemplateModel.create({ _id: idOf(file.name, file.language), name: file.name.toLowerCase(), language: file.language.toLowerCase(), text: file.text });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
}

/**
 * Fills a template in the customer's language (`ru-RU` tries `ru`, then English); says which language it used and,
 * when that is not the customer's, which one it lacked.
 */
export async function renderReplyTemplate(name: string, language: string | undefined, vars: TemplateVars): Promise<{ text: string; language: string; missing?: string }> {
  const candidates = languageCandidates(language);
  const wanted = language?.toLowerCase().split(/[-_]/)[0];
  const found = await ReplyTemplateModel.find({ _id: { $in: candidates.map((lang) => idOf(name, lang)) }, removed: false }).lean();
  for (const lang of candidates) {
    const template = found.find((t) => t.language === lang);
    if (template) return { text: fill(template.text, vars), language: lang, ...(wanted && lang.split(/[-_]/)[0] !== wanted ? { missing: wanted } : {}) };
  }
  throw new TemplateNotFoundError(`No template named "${name}". /templates lists them.`);
}

export async function listReplyTemplates(): Promise<Array<{ name: string; languages: string[] }>> {
  const byName = new Map<string, string[]>();
  for (const t of await ReplyTemplateModel.find({ removed: false }).lean()) byName.set(t.name, [...(byName.get(t.name) ?? []), t.language]);
  return [...byName.entries()].map(([name, languages]) => ({ name, languages: languages.sort() })).sort((a, b) => a.name.localeCompare(b.name));
}

export async function replyTemplateExists(name: string, language: string): Promise<boolean> {
  return (await ReplyTemplateModel.exists({ _id: idOf(name, language), removed: false })) !== null;
}

/** Writes the template's text (new, edited, or brought back after a removal). */
export async function saveReplyTemplate(name: string, language: string, text: string, by: string): Promise<void> {
  await ReplyTemplateModel.updateOne({ _id: idOf(name, language) }, { $set: { name: name.toLowerCase(), language: language.toLowerCase(), text, removed: false, updatedBy: by } }, { upsert: true });
}

export async function removeReplyTemplate(name: string, language: string, by: string): Promise<boolean> {
  const result = await ReplyTemplateModel.updateOne({ _id: idOf(name, language), removed: false }, { $set: { removed: true, updatedBy: by } });
  return result.matchedCount > 0;
}
