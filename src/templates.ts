import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Text templates kept as files: `templates/messages/<name>.<lang>.txt` are the gateway's own messages
 * (greetings, reminders, surveys); `templates/replies/<name>.<lang>.txt` are operators' canned answers (/t).
 * Placeholders look like {{customerName}}; a missing language falls back to English.
 */
export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../templates');
export const DEFAULT_LANGUAGE = 'en';

export type TemplateKind = 'messages' | 'replies';
export type TemplateVars = Record<string, string | number | undefined>;

export class TemplateNotFoundError extends Error {
  override name = 'TemplateNotFoundError';
}

const cache = new Map<string, string | null>();

async function readTemplate(kind: TemplateKind, name: string, language: string): Promise<string | null> {
  const key = `${kind}/${name}.${language}`;
  if (!cache.has(key)) {
    const file = path.join(TEMPLATES_DIR, kind, `${name}.${language}.txt`);
    cache.set(key, await readFile(file, 'utf8').then((t) => t.trimEnd(), () => null));
  }
  return cache.get(key)!;
}

/** Fills a template in the customer's language (`ru-RU` tries `ru`, then English). */
export async function renderTemplate(kind: TemplateKind, name: string, language: string | undefined, vars: TemplateVars = {}): Promise<string> {
  if (!/^[\w-]+$/.test(name)) throw new TemplateNotFoundError(`No template named "${name}".`);
  const candidates = [...new Set([language?.toLowerCase(), language?.toLowerCase().split(/[-_]/)[0], DEFAULT_LANGUAGE].filter(Boolean) as string[])];
  for (const lang of candidates) {
    const text = await readTemplate(kind, name, lang);
    if (text !== null) return fill(text, vars);
  }
  throw new TemplateNotFoundError(`No template named "${name}".`);
}

export function fill(text: string, vars: TemplateVars): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => String(vars[key] ?? ''));
}

/** Names of the operators' reply templates, with the languages each exists in. */
export async function listReplyTemplates(): Promise<Array<{ name: string; languages: string[] }>> {
  const files = await readdir(path.join(TEMPLATES_DIR, 'replies')).catch(() => [] as string[]);
  const byName = new Map<string, string[]>();
  for (const file of files) {
    const match = /^([\w-]+)\.([\w-]+)\.txt$/.exec(file);
    if (match) byName.set(match[1]!, [...(byName.get(match[1]!) ?? []), match[2]!]);
  }
  return [...byName.entries()].map(([name, languages]) => ({ name, languages: languages.sort() })).sort((a, b) => a.name.localeCompare(b.name));
}
