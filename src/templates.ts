import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Text templates kept as files: `templates/messages/<name>.<lang>.txt` are the gateway's own messages
 * (greetings, reminders, surveys); `templates/replies/<name>.<lang>.txt` seed the operators' canned answers (/t),
 * which then live in the database (src/reply-templates.ts).
 * Placeholders look like {{customerName}}; a missing language falls back to English.
 */
export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../templates');
export const DEFAULT_LANGUAGE = 'en';

export type TemplateKind = 'messages';
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
  for (const lang of languageCandidates(language)) {
    const text = await readTemplate(kind, name, lang);
    if (text !== null) return fill(text, vars);
  }
  throw new TemplateNotFoundError(`No template named "${name}".`);
}

/** The languages to try for a customer's, in order: `ru-RU`, `ru`, then English. */
export function languageCandidates(language: string | undefined): string[] {
  return [...new Set([language?.toLowerCase(), language?.toLowerCase().split(/[-_]/)[0], DEFAULT_LANGUAGE].filter(Boolean) as string[])];
}

export function fill(text: string, vars: TemplateVars): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => String(vars[key] ?? ''));
}

/** The reply templates shipped as files (templates/replies), which seed the library operators edit (src/reply-templates.ts). */
export async function readReplyTemplateFiles(): Promise<Array<{ name: string; language: string; text: string }>> {
  const dir = path.join(TEMPLATES_DIR, 'replies');
  const files = await readdir(dir).catch(() => [] as string[]);
  const found = files.map((file) => /^([\w-]+)\.([\w-]+)\.txt$/.exec(file)).filter((match) => match !== null);
  return Promise.all(found.map(async ([file, name, language]) => ({ name: name!, language: language!, text: (await readFile(path.join(dir, file!), 'utf8')).trimEnd() })));
}
