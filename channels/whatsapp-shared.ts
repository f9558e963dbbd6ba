import type { ChannelState, OutboundMessage } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { ConversationModel, CustomerModel } from '../src/db/models/index.js';
import { requestConsole } from '../src/console/actions.js';
import { operatorText } from '../src/i18n/operator-texts.js';
import { ChannelStateTracker } from './channel-state.js';

/** WhatsApp's customer service window: free-form messages only within 24 h of the customer's last message. */
export const WHATSAPP_WINDOW_MS = 24 * 3600_000;
export const OUTSIDE_WHATSAPP_WINDOW = "outside WhatsApp's 24-hour window: only a template message can be sent — use /wa_template <name>";

/** Meta names on an OutboundMessage that turn it into a template send (see commands/wa-template.ts). */
export const TEMPLATE_META = 'whatsappTemplate';
export const TEMPLATE_LANGUAGE_META = 'whatsappTemplateLanguage';

export function templateOf(message: OutboundMessage): { name: string; language: string } | undefined {
  const meta = (name: string) => message.meta?.find((m) => m.name === name)?.value;
  const name = meta(TEMPLATE_META);
  return name ? { name, language: meta(TEMPLATE_LANGUAGE_META) || 'en_US' } : undefined;
}

/** When this WhatsApp customer last wrote to us, across all their conversations. */
export async function lastCustomerMessageAt(externalChatId: string): Promise<Date | undefined> {
  const customer = await CustomerModel.findOne({ channel: 'whatsapp', externalChatId }).lean();
  if (!customer) return undefined;
  const latest = await ConversationModel.findOne({ customer: customer._id, lastCustomerMessageAt: { $exists: true } }).sort({ lastCustomerMessageAt: -1 }).lean();
  return latest?.lastCustomerMessageAt ?? undefined;
}

/**
 * The channel's up/down state, and one notice in the operators' General topic per change: a connection that
 * keeps failing is one "down" message, and its recovery one "back" message.
 */
export class WhatsAppStatus extends ChannelStateTracker {
  private wasDown = false;

  constructor(
    private readonly label: string,
    private readonly log: Logger,
  ) {
    super('whatsapp', log);
  }

  override set(state: ChannelState, detail?: string): void {
    if (state === this.get()) return;
    super.set(state, detail);
    let text: string | undefined;
    if (state === 'down') {
      this.wasDown = true;
      text = operatorText('channels.whatsappDown', { channel: this.label, detail: detail ? operatorText('channels.detail', { detail }) : '' });
    } else if (state === 'up' && this.wasDown) {
      this.wasDown = false;
      text = operatorText('channels.whatsappUp', { channel: this.label });
    }
    if (text) requestConsole({ action: 'notice', text }).catch((error) => this.log.error({ err: error }, 'could not tell the operators about the WhatsApp state'));
  }
}
