import { franc } from 'franc-min';

/** The languages the gateway has texts in (templates/messages/*.<lang>.txt), as ISO 639-1 with franc's 639-3. */
const DETECTABLE: Record<string, string> = { eng: 'en', rus: 'ru' };
/** Shorter texts ("ok", "спасибо!") say too little to tell languages apart reliably. */
const MIN_LENGTH = 12;

/**
 * The language a customer wrote in, for channels that do not say (e-mail, WhatsApp), among the languages the
 * gateway can answer in; undefined when the text is too short to tell.
 */
export function detectLanguage(text: string): string | undefined {
  const sample = text.replace(/https?:\/\/\S+|\S+@\S+/g, ' ').trim();
  if (sample.length < MIN_LENGTH) return undefined;
  const code = franc(sample, { only: Object.keys(DETECTABLE), minLength: MIN_LENGTH });
  return DETECTABLE[code];
}

/** `ru-RU`, `ru_RU`, `RU` → `ru`; undefined for what is not a language tag. */
export function baseLanguage(tag: string | undefined | null): string | undefined {
  const match = /^([a-z]{2,3})(?:[-_][a-z0-9]+)*$/i.exec(tag?.trim() ?? '');
  return match ? match[1]!.toLowerCase() : undefined;
}
