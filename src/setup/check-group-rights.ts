import type { BotApi } from './bot-api.js';

export interface GroupRights {
  /** What stops the console from working, each with how to fix it. */
  missing: string[];
  /** How the console will work there, in words. */
  mode: string;
}

/** Whether the bot may run the console in the group: an admin, and in a forum one who may manage topics. */
export async function checkGroupRights(api: BotApi, bot: { id: number; username: string }, groupId: number): Promise<GroupRights> {
  const [chat, member] = await Promise.all([
    api<{ type: string; is_forum?: boolean }>('getChat', { chat_id: groupId }),
    api<{ status: string; can_manage_topics?: boolean }>('getChatMember', { chat_id: groupId, user_id: bot.id }),
  ]);
  const missing: string[] = [];
  const admin = member.status === 'administrator' || member.status === 'creator';
  if (!admin) missing.push(`@${bot.username} is not an admin of the group: open the group's settings → Administrators → Add Admin → @${bot.username} (an admin sees every message operators write).`);
  const forum = chat.is_forum === true;
  if (forum && member.status === 'administrator' && !member.can_manage_topics) {
    missing.push(`@${bot.username} may not manage topics: in the group's settings → Administrators → @${bot.username}, turn on "Manage Topics" (without it the gateway falls back to reply mode).`);
  }
  const mode = forum
    ? 'Topics are on: forum mode, one topic per conversation.'
    : 'Topics are off: reply mode, each customer message appears in the group and operators answer by replying to it. For one topic per conversation, turn on Topics in the group\'s settings and run setup again.';
  return { missing, mode };
}
