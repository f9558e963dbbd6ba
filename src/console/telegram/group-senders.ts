import { Api } from 'grammy';
import type { GroupSender } from './group-budget.js';

/**
 * The helper bots (TELEGRAM_HELPER_BOT_TOKENS), checked against the operator group: each must be a member that
 * may post; one that is an admin with "manage topics" may also open and rename topics. A wrong one stops the
 * start with a message naming it.
 */
export async function helperSenders(options: { tokens: readonly string[]; apiRoot: string; groupId: number; forum: boolean }): Promise<GroupSender[]> {
  const senders: GroupSender[] = [];
  for (const [index, token] of options.tokens.entries()) {
    const api = new Api(token, { apiRoot: options.apiRoot });
    const me = await api.getMe().catch((error: unknown) => {
      throw new Error(`Telegram refused helper bot token number ${index + 1} of TELEGRAM_HELPER_BOT_TOKENS: ${(error as Error).message}`);
    });
    const member = await api.getChatMember(options.groupId, me.id).catch((error: unknown) => {
      throw new Error(`Helper bot @${me.username} cannot reach the operator group: ${(error as Error).message}. Add it to the group.`);
    });
    const admin = member.status === 'administrator' || member.status === 'creator';
    const mayPost = admin || member.status === 'member' || (member.status === 'restricted' && member.can_send_messages);
    if (!mayPost) throw new Error(`Helper bot @${me.username} is not a member of the operator group that may post (it is "${member.status}"). Add it to the group.`);
    const manageTopics = options.forum && (member.status === 'creator' || (member.status === 'administrator' && Boolean(member.can_manage_topics)));
    senders.push({ id: me.id, username: me.username, api, main: false, manageTopics });
  }
  return senders;
}
