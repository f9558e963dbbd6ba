import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import i18next from 'i18next';
import { TEMPLATES_DIR } from '../templates.js';

/**
 * What operators read in the group, in the team's language (OPERATOR_LANGUAGE): catalogs in
 * templates/operator/<lang>/<area>.json, whose keys are read as `<area>.<key>`; plurals by i18next (Russian's
 * one/few/many included). A key a catalog lacks falls back to English.
 */
export const OPERATOR_CATALOG_DIR = path.join(TEMPLATES_DIR, 'operator');
export const OPERATOR_LANGUAGES = readdirSync(OPERATOR_CATALOG_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && /^[a-z]{2}$/.test(entry.name))
  .map((entry) => entry.name)
  .sort();

/** One language's catalog: every area file under its own key. */
export function readOperatorCatalog(language: string): Record<string, unknown> {
  const dir = path.join(OPERATOR_CATALOG_DIR, language);
  const areas = readdirSync(dir).filter((file) => file.endsWith('.json'));
  return Object.fromEntries(areas.map((file) => [path.basename(file, '.json'), JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown]));
}

const texts = i18next.createInstance();
void texts.init({
  initAsync: false,
  lng: 'en',
  fallbackLng: 'en',
  // Catalog texts are HTML already; values put into them are escaped by the caller where they are customer-written.
  interpolation: { escapeValue: false },
  resources: Object.fromEntries(OPERATOR_LANGUAGES.map((lang) => [lang, { translation: readOperatorCatalog(lang) }])),
});

/** Switches every operator-facing text to `language` (done once at start from the configuration). */
export function useOperatorLanguage(language: string): void {
  void texts.changeLanguage(language);
}

/** The team's language, for dates and times formatted outside the catalogs (luxon's setLocale). */
export function operatorLanguage(): string {
  return texts.language;
}

/** The operator-facing text of `key` with its values (`count` picks the plural form). */
export function operatorText(key: string, values?: Record<string, string | number>): string {
  return texts.t(key, values);
}

/** A command's help line in the team's language; the command's own description is the English one. */
export function commandDescription(name: string, english: string): string {
  return texts.t(`command.${name}`, { defaultValue: english });
}
