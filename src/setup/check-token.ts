import { BOT_TOKEN_PATTERN } from '../config.js';
import { BotApiError, botApi, type BotApi } from './bot-api.js';

export interface BotIdentity {
  id: number;
  username: string;
  token: string;
  api: BotApi;
}

/** The bot a token belongs to (getMe), or why it is not usable, in words for the user. */
export async function checkBotToken(apiRoot: string, token: string): Promise<BotIdentity | { problem: string }> {
  if (!BOT_TOKEN_PATTERN.test(token)) return { problem: 'That does not look like a bot token (digits, a colon, then letters, e.g. 123456:ABC-DEF). Copy it from @BotFather.' };
  const api = botApi(apiRoot, token);
  try {
    const me = await api<{ id: number; username: string }>('getMe');
    return { id: me.id, username: me.username, token, api };
  } catch (error) {
    if (error instanceof BotApiError && (error.code === 401 || error.code === 404)) {
      return { problem: 'Telegram does not know this token: copy it again from @BotFather (/mybots → your bot → API Token).' };
    }
    return { problem: `Could not reach Telegram at ${apiRoot}: ${(error as Error).message}. Check the connection and try again.` };
  }
}
