import { setTimeout as sleep } from 'node:timers/promises';
import { BotApiError, type BotApi } from './bot-api.js';

interface Chat {
  id: number;
  type: string;
  title?: string;
}

export interface TelegramUser {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
}

interface Update {
  update_id: number;
  message?: { chat: Chat; from?: TelegramUser; migrate_to_chat_id?: number };
  my_chat_member?: { chat: Chat; from: TelegramUser; new_chat_member: { status: string } };
}

export interface FoundGroup {
  id: number;
  title: string;
  /** Who added the bot or wrote there: the person running setup, most likely. */
  by?: TelegramUser;
  updateId: number;
}

const GROUP_TYPES = new Set(['group', 'supergroup']);

/** The group of the latest update after `after` that shows the bot in a group (added to it, or a message there). */
function latestGroup(updates: Update[], after: number): FoundGroup | undefined {
  let found: FoundGroup | undefined;
  for (const update of updates) {
    if (update.update_id <= after) continue;
    const member = update.my_chat_member;
    if (member && GROUP_TYPES.has(member.chat.type)) {
      const stillIn = !['left', 'kicked'].includes(member.new_chat_member.status);
      found = stillIn ? { id: member.chat.id, title: member.chat.title ?? String(member.chat.id), by: member.from, updateId: update.update_id } : found?.id === member.chat.id ? undefined : found;
    }
    const message = update.message;
    if (message && GROUP_TYPES.has(message.chat.type)) {
      // A group that became a supergroup (Topics turned on, for one) has a new id.
      found = { id: message.migrate_to_chat_id ?? message.chat.id, title: message.chat.title ?? String(message.chat.id), by: message.from, updateId: update.update_id };
    }
  }
  return found;
}

/**
 * Waits until the bot's pending updates show it in a group, and returns the latest such group. The updates are read
 * without confirming them (no offset), so none is lost: the gateway still gets every one when it starts.
 */
export async function findOperatorGroup(api: BotApi, options: { after?: number; pollIntervalMs: number }): Promise<FoundGroup> {
  for (;;) {
    let updates: Update[];
    try {
      updates = await api<Update[]>('getUpdates', { timeout: 0, limit: 100 });
    } catch (error) {
      if (error instanceof BotApiError && error.code === 409) {
        throw new Error(`Telegram gives this bot's updates to someone else (${error.description}): stop the gateway that uses this bot, or remove its webhook, then run setup again.`);
      }
      throw error;
    }
    const group = latestGroup(updates, options.after ?? 0);
    if (group) return group;
    await sleep(options.pollIntervalMs);
  }
}
