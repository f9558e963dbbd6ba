import { ConsoleStateModel, ConversationModel, OperatorModel } from '../../db/models/index.js';
import { OPEN_STATUSES } from '../../db/models/conversation.js';
import type { ConversationStatus } from '../../domain.js';
import { escapeHtml } from '../../util/html.js';
import { operatorText } from '../../i18n/operator-texts.js';
import type { GroupCalls } from './group-calls.js';
import { recordSent } from './relay.js';
import { STATUS_EMOJI } from './render.js';

const DASHBOARD_KEY = 'dashboard';
/** The time line closes the dashboard; what is above it is compared to see whether the figures changed. */
const UPDATED_LINE_START = '<i>';

/** What the dashboard says now: counts per status, the longest wait for a first answer, who is on duty. */
export async function renderDashboard(now = new Date()): Promise<string> {
  const counts = await Promise.all(OPEN_STATUSES.map(async (status) => [status, await ConversationModel.countDocuments({ status })] as const));
  const oldestUnanswered = await ConversationModel.findOne({ status: { $in: ['new', 'transferred'] } }, { createdAt: 1, number: 1 }).sort({ createdAt: 1 }).lean();
  const onDuty = await OperatorModel.find({ onDuty: true, active: true }, { name: 1 }).lean();
  const lines = [
    `<b>${operatorText('dashboard.title')}</b>`,
    counts.map(([status, count]) => `${STATUS_EMOJI[status as ConversationStatus]} ${operatorText(`status.${status}`)}: <b>${count}</b>`).join('\n'),
    oldestUnanswered ? operatorText('dashboard.oldestUnanswered', { number: oldestUnanswered.number, wait: formatWait(now.getTime() - oldestUnanswered.createdAt.getTime()) }) : operatorText('dashboard.nobodyWaiting'),
    operatorText('dashboard.onDuty', { names: onDuty.length ? onDuty.map((o) => escapeHtml(o.name)).join(', ') : operatorText('dashboard.nobodyOnDuty') }),
  ];
  return lines.join('\n');
}

/** The dashboard as it would be shown now, and whether it says something the pinned one does not. */
export async function dashboardText(now = new Date()): Promise<{ text: string; changed: boolean }> {
  const body = await renderDashboard(now);
  const shown = (await ConsoleStateModel.findById(DASHBOARD_KEY).lean())?.value as DashboardState | undefined;
  return { text: `${body}\n${UPDATED_LINE_START}${operatorText('dashboard.updated', { time: now.toISOString().slice(11, 16) })}</i>`, changed: shown?.body !== body };
}

export function formatWait(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return operatorText('wait.minutes', { count: minutes });
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? operatorText('wait.hoursMinutes', { hours, minutes: minutes % 60 }) : operatorText('wait.days', { count: Math.floor(hours / 24) });
}

/** Edits the pinned dashboard in place, or posts and pins a new one when there is none yet. */
export async function showDashboard(calls: GroupCalls, chatId: number, text: string): Promise<void> {
  const body = text.slice(0, text.lastIndexOf(`\n${UPDATED_LINE_START}`));
  const stored = (await ConsoleStateModel.findById(DASHBOARD_KEY).lean())?.value as DashboardState | undefined;
  if (stored?.messageId) {
    try {
      await calls.make({ main: true }, (api) => api.editMessageText(chatId, stored.messageId!, text, { parse_mode: 'HTML' }));
      await saveState({ messageId: stored.messageId, body });
      return;
    } catch (error) {
      const description = (error as Error).message;
      if (description.includes('message is not modified')) return saveState({ messageId: stored.messageId, body });
      if (!description.includes('message to edit not found')) throw error;
    }
  }
  const sent = await calls.make({ main: true }, (api) => api.sendMessage(chatId, text, { parse_mode: 'HTML' }));
  await recordSent(() => saveState({ messageId: sent.message_id, body }));
  await calls.make({ main: true }, (api) => api.pinChatMessage(chatId, sent.message_id, { disable_notification: true }));
}

/** The pinned dashboard's message, and what it says (without its time line). */
interface DashboardState {
  messageId?: number;
  body?: string;
}

async function saveState(state: DashboardState): Promise<void> {
  await ConsoleStateModel.updateOne({ _id: DASHBOARD_KEY }, { $set: { value: state, updatedAt: new Date() } }, { upsert: true });
}
