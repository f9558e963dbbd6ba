import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Types } from 'mongoose';
import { CustomerModel } from '../db/models/index.js';
import { TEMPLATES_DIR } from '../templates.js';
import type { InboundMessage } from '../domain.js';
import { detectLanguage } from './detect.js';

/** Where a customer's language comes from; a later value replaces the stored one only from an equal or better source. */
export const LANGUAGE_SOURCES = ['text', 'channel', 'operator'] as const;
export type LanguageSource = (typeof LANGUAGE_SOURCES)[number];

/** The sources a language from `source` may replace (itself and the weaker ones). */
export function replaceableSources(source: LanguageSource): LanguageSource[] {
  return LANGUAGE_SOURCES.slice(0, LANGUAGE_SOURCES.indexOf(source) + 1);
}

/**
 * The language a batch of one customer's messages tells: what the channel says (Telegram's language_code, the
 * browser's, the VK app's, the Messenger locale), else what the texts are written in (e-mail, WhatsApp); the
 * latest message's first.
 */
export function languageOfMessages(messages: readonly InboundMessage[]): { language: string; languageFrom: LanguageSource } | undefined {
  const latestFirst = [...messages].reverse();
  const fromChannel = latestFirst.find((message) => message.profile.language)?.profile.language;
  if (fromChannel) return { language: fromChannel, languageFrom: 'channel' };
  for (const message of latestFirst) {
    const detected = detectLanguage(message.text);
    if (detected) return { language: detected, languageFrom: 'text' };
  }
  return undefined;
}

/** The languages the gateway's own messages exist in (templates/messages/<name>.<lang>.txt). */
export async function customerLanguages(): Promise<string[]> {
  const files = await readdir(path.join(TEMPLATES_DIR, 'messages'));
  return [...new Set(files.map((file) => /^[\w-]+\.([a-z]{2,3})\.txt$/.exec(file)?.[1]).filter((lang): lang is string => Boolean(lang)))].sort();
}

/**
 * An operator's choice of the customer's language (`/lang ru`): kept over what the channel or the text says
 * until the choice is given back (`undefined`: the next message's language counts again).
 */
export async function chooseCustomerLanguage(customer: Types.ObjectId, language: string | undefined): Promise<void> {
  await CustomerModel.updateOne({ _id: customer }, { $set: language ? { language, languageFrom: 'operator' } : { languageFrom: 'text' } });
}
