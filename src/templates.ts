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

/**
 * Fills a template in the customer's language (`ru-RU` tries `ru`, then English). With `dropEmptyLines`, a line
 * whose placeholders all have no value is left out (a list of contacts of which only some are configured).
 */
export async function renderTemplate(kind: TemplateKind, name: string, language: string | undefined, vars: TemplateVars = {}, options: { dropEmptyLines?: boolean } = {}): Promise<string> {
  if (!/^[\w-]+$/.test(name)) throw new TemplateNotFoundError(`No template named "${name}".`);
  for (const lang of languageCandidates(language)) {
    const text = await readTemplate(kind, name, lang);
    if (text === null) continue;
    if (!options.dropEmptyLines) return fill(text, vars);
    return text
      .split('\n')
      .filter((line) => {
        const keys = [...line.matchAll(PLACEHOLDER)].map((m) => m[1]!);
        return keys.length === 0 || keys.some((key) => vars[key] !== undefined && vars[key] !== '');
      })
      .map((line) => fill(line, vars))
      .join('\n');
  }
  throw new TemplateNotFoundError(`No template named "${name}".`);
}

/** The languages to try for a customer's, in order: `ru-RU`, `ru`, then English. */
export function languageCandidates(language: string | undefined): string[] {
  return [...new Set([language?.toLowerCase(), language?.toLowerCase().split(/[-_]/)[0], DEFAULT_LANGUAGE].filter(Boolean) as string[])];
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

export function fill(text: string, vars: TemplateVars): string {
  return text.replace(PLACEHOLDER, (_, key: string) => String(vars[key] ?? ''));
}

/** The reply templates shipped as files (templates/replies), which seed the library operators edit (src/reply-templates.ts). */
export async function readReplyTemplateFiles(): Promise<Array<{ name: string; language: string; text: string }>> {
  const dir = path.join(TEMPLATES_DIR, 'replies');
  const files = await readdir(dir).catch(() => [] as string[]);
  const found = files.map((file) => /^([\w-]+)\.([\w-]+)\.txt$/.exec(file)).filter((match) => match !== null);
  return Promise.all(found.map(async ([file, name, language]) => ({ name: name!, language: language!, text: (await readFile(path.join(dir, file!), 'utf8')).trimEnd() })));
}
