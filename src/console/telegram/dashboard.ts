import type { Api } from 'grammy';
import { ConsoleStateModel, ConversationModel, OperatorModel } from '../../db/models/index.js';
import { OPEN_STATUSES } from '../../db/models/conversation.js';
import type { ConversationStatus } from '../../domain.js';
import { escapeHtml } from '../../util/html.js';
import { telegramCall } from './delivery-error.js';
import { STATUS_EMOJI } from './render.js';

const DASHBOARD_KEY = 'dashboard';

export async function renderDashboard(now = new Date()): Promise<string> {
  const counts = await Promise.all(OPEN_STATUSES.map(async (status) => [status, await ConversationModel.countDocuments({ status })] as const));
  const oldestUnanswered = await ConversationModel.findOne({ status: { $in: ['new', 'transferred'] } }, { createdAt: 1, number: 1 }).sort({ createdAt: 1 }).lean();
  const onDuty = await OperatorModel.find({ onDuty: true, active: true }, { name: 1 }).lean();
  const lines = [
    '<b>📊 Support dashboard</b>',
    counts.map(([status, count]) => `${STATUS_EMOJI[status as ConversationStatus]} ${status}: <b>${count}</b>`).join('\n'),
    oldestUnanswered ? `⌛ Oldest unanswered: #${oldestUnanswered.number}, waiting ${formatWait(now.getTime() - oldestUnanswered.createdAt.getTime())}` : '⌛ Nobody is waiting for a first answer',
    `👥 On duty: ${onDuty.length ? onDuty.map((o) => escapeHtml(o.name)).join(', ') : 'nobody'}`,
    `<i>Updated ${now.toISOString().slice(11, 16)} UTC</i>`,
  ];
  return lines.join('\n');
}

function formatWait(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} days`;
}

/** Edits the pinned dashboard in place, or posts and pins a new one when there is none yet. */
export async function refreshDashboard(api: Api, chatId: number): Promise<void> {
  const text = await renderDashboard();
  const stored = await ConsoleStateModel.findById(DASHBOARD_KEY).lean();
  const messageId = (stored?.value as { messageId?: number } | undefined)?.messageId;
  if (messageId) {
    try {
      await api.editMessageText(chatId, messageId, text, { parse_mode: 'HTML' });
      return;
    } catch (error) {
      const description = (error as { description?: string }).description ?? '';
      if (description.includes('message is not modified')) return;
      if (!description.includes('message to edit not found')) throw error;
    }
  }
  const sent = await telegramCall(() => api.sendMessage(chatId, text, { parse_mode: 'HTML' }));
  await ConsoleStateModel.updateOne({ _id: DASHBOARD_KEY }, { $set: { value: { messageId: sent.message_id }, updatedAt: new Date() } }, { upsert: true });
  await telegramCall(() => api.pinChatMessage(chatId, sent.message_id, { disable_notification: true }));
}
