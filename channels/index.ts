import type { Config } from '../src/config.js';
import type { Channel } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import type { Metrics } from '../src/metrics.js';
import type { OperatorConsole } from '../src/console/console.js';
import { TelegramConsole } from '../src/console/telegram/console.js';
import { commands } from '../commands/index.js';
import type { CommandServices } from '../commands/command.js';
import { TelegramChannel } from './telegram.js';
import { VkChannel } from './vk.js';
import { MessengerChannel } from './messenger.js';
import { WhatsAppCloudChannel } from './whatsapp-cloud.js';
import { WHATSAPP_WEB_REF_PREFIX, WhatsAppWebChannel } from './whatsapp-web.js';
import { WebchatChannel } from './webchat.js';
import { EmailChannel } from './email.js';
import { OneCopyChannel } from './one-copy-channel.js';

/** How soon another gateway copy takes WhatsApp Web over when the one running it dies. */
const WHATSAPP_WEB_LEASE_MS = 30_000;

export interface ChannelDeps {
  config: Config;
  logger: Logger;
  /** Webhook channels count what they refuse or skip (gateway_webhook_rejected_total). */
  metrics?: Pick<Metrics, 'webhookRejected' | 'webchatFramesRefused' | 'webchatConnectsRefused' | 'webchatSocketsClosed' | 'webchatUploadsRefused' | 'webchatUnsentUploadsDeleted'>;
  /** Handed to the operator commands (e.g. the job scheduler for /remind). */
  services?: Omit<CommandServices, 'commands'>;
}

/** Every channel whose configuration is present, plus the operator console. A channel without config is off. */
export async function buildChannels(deps: ChannelDeps): Promise<{ channels: Channel[]; console?: OperatorConsole }> {
  const { config, logger } = deps;
  const rejected = deps.metrics?.webhookRejected;
  const channels: Channel[] = [];
  let operatorConsole: TelegramConsole | undefined;
  if (config.telegram) {
    // Commands may ask what a chat's channel can do (/delete): the channels are all known by the time one runs.
    const services = { ...deps.services, channelCapabilities: (kind: string) => channels.find((c) => c.kind === kind)?.capabilities };
    operatorConsole = new TelegramConsole({ config, logger, commands, services });
    const telegram = new TelegramChannel({
      bot: operatorConsole.bot,
      apiRoot: config.telegram.apiRoot,
      token: config.telegram.token,
      logger: logger.child({ channel: 'telegram' }),
      companyName: config.companyName,
      rate: { perChatPerSecond: config.rateLimits.telegramPerChatPerSecond, globalPerSecond: config.rateLimits.telegramGlobalPerSecond },
    });
    operatorConsole.bot.use(telegram.composer);
    channels.push(telegram);
  }
  // @section more channels
  if (config.email) channels.push(new EmailChannel({ ...config.email, logger: logger.child({ channel: 'email' }) }));
  if (config.webchat) channels.push(new WebchatChannel({ ...config.webchat, instanceId: config.instanceId, metrics: deps.metrics, logger: logger.child({ channel: 'webchat' }) }));
  // Both are kind 'whatsapp'; the configuration refuses enabling both at once.
  if (config.whatsappCloud) channels.push(new WhatsAppCloudChannel({ ...config.whatsappCloud, logger: logger.child({ channel: 'whatsapp' }), rejected }));
  if (config.whatsappWeb) {
    const whatsappWeb = new WhatsAppWebChannel({ ...config.whatsappWeb, logger: logger.child({ channel: 'whatsapp' }) });
    channels.push(new OneCopyChannel(whatsappWeb, { instanceId: config.instanceId, leaseMs: WHATSAPP_WEB_LEASE_MS, attachmentPrefix: WHATSAPP_WEB_REF_PREFIX, logger: logger.child({ channel: 'whatsapp' }) }));
  }
  if (config.vk) channels.push(new VkChannel({ ...config.vk, logger: logger.child({ channel: 'vk' }), rejected }));
  if (config.messenger) channels.push(new MessengerChannel({ ...config.messenger, logger: logger.child({ channel: 'messenger' }), rejected }));
  return { channels, console: operatorConsole };
}
