import type { ConversationStatus, DeliveryStatus } from '../../domain.js';
import type { Conversation, Customer } from '../../db/models/index.js';
import { escapeHtml } from '../../util/html.js';
import { operatorText } from '../../i18n/operator-texts.js';

export const STATUS_EMOJI: Record<ConversationStatus, string> = {
  new: '🆕',
  active: '🟢',
  awaiting: '⏳',
  transferred: '🔀',
  closed: '✅',
  archived: '🗄',
};

/** Reactions Telegram allows, one per delivery status of an operator's message. */
export const DELIVERY_REACTION: Partial<Record<DeliveryStatus, string>> = {
  sent: '🕊',
  delivered: '👌',
  read: '👀',
  failed: '💔',
};

const CHANNEL_LABEL: Record<string, string> = {
  webchat: 'Web chat',
  telegram: 'Telegram',
  whatsapp: 'WhatsApp',
  vk: 'VK',
  email: 'Email',
  messenger: 'Messenger',
};

export function channelLabel(channel: string): string {
  return CHANNEL_LABEL[channel] ?? channel;
}

export function customerName(customer: Pick<Customer, 'name' | 'username' | 'email' | 'phone' | 'externalChatId'>): string {
  return customer.name || (customer.username ? `@${customer.username}` : '') || customer.email || customer.phone || customer.externalChatId;
}

/** "🟢 #12 · Telegram · Alice Smith", cut to Telegram's 128-character topic name limit. */
export function topicTitle(conversation: Pick<Conversation, 'status' | 'number' | 'channel' | 'priority'>, customer: Parameters<typeof customerName>[0]): string {
  const priority = conversation.priority === 'high' ? '❗' : '';
  const title = `${STATUS_EMOJI[conversation.status as ConversationStatus]}${priority} #${conversation.number} · ${channelLabel(conversation.channel)} · ${customerName(customer)}`;
  return title.length > 128 ? `${title.slice(0, 127)}…` : title;
}

/** The customer card shown with the first message of a conversation (HTML). */
export function customerCard(conversation: Pick<Conversation, 'number' | 'channel'>, customer: Customer): string {
  const contact = [customer.username ? `@${customer.username}` : '', customer.phone ?? '', customer.email ?? ''].filter(Boolean).map(escapeHtml).join(' · ');
  const language = customer.language ? operatorText('relay.cardLanguage', { language: escapeHtml(customer.language) }) : '';
  return operatorText('relay.card', { name: escapeHtml(customerName(customer)), contact: contact ? ` · ${contact}` : '', channel: channelLabel(conversation.channel), number: conversation.number, language });
}

/** What describing an attachment needs; stored and normalized attachments both have it. */
interface DescribedAttachment {
  kind: string;
  fileName?: string | null;
  size?: number | null;
  location?: { latitude?: number | null; longitude?: number | null } | null;
  contact?: { name?: string | null; phone?: string | null } | null;
}

export function attachmentSummary(attachments: readonly DescribedAttachment[]): string {
  return attachments
    .map((a) => {
      if (a.kind === 'location' && a.location) return operatorText('console.attachment.location', { latitude: String(a.location.latitude), longitude: String(a.location.longitude) });
      if (a.kind === 'contact' && a.contact) return operatorText('console.attachment.contact', { name: a.contact.name ?? '', phone: a.contact.phone ?? '' }).trim();
      const size = a.size ? operatorText('console.attachment.size', { kb: Math.ceil(a.size / 1024) }) : '';
      return operatorText('console.attachment.file', { kind: operatorText(`console.attachment.kind.${a.kind}`, { defaultValue: a.kind }), name: a.fileName ? ` ${a.fileName}` : '', size });
    })
    .map(escapeHtml)
    .join('\n');
}

export function mention(operator: { telegramUserId: number; name: string; username?: string | null }): string {
  return `<a href="tg://user?id=${operator.telegramUserId}">${escapeHtml(operator.username ? `@${operator.username}` : operator.name)}</a>`;
}

/** t.me link to a forum topic of a private supergroup (-100xxxxxxxxxx → c/xxxxxxxxxx). */
export function topicLink(groupId: number, topicId: number): string {
  return `https://t.me/c/${String(groupId).replace(/^-100/, '')}/${topicId}`;
}
