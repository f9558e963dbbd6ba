import { Bot, webhookCallback } from 'grammy';
import type { LanguageCode } from 'grammy/types';
import { sequentialize } from '@grammyjs/runner';
import { commandDescription } from '../../i18n/operator-texts.js';
import { customerLanguages } from '../../language/customer-language.js';
import { DEFAULT_LANGUAGE, renderTemplate } from '../../templates.js';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import type { ChannelState } from '../../domain.js';
import type { Logger } from '../../logger.js';
import type { Command, CommandServices } from '../../../commands/command.js';
import { ConversationModel } from '../../db/models/index.js';
import type { Deliverer } from '../../outbox/worker.js';
import { requestConsole } from '../actions.js';
import type { OperatorConsole } from '../console.js';
import { telegramConsoleDeliverer } from './deliverer.js';
import { operatorUpdates } from './operator-updates.js';
import { bootstrapAdmins } from './operators.js';
import { ConfirmingPoller } from './confirming-poller.js';
import { GroupBudget, type GroupSender } from './group-budget.js';
import { helperSenders } from './group-senders.js';

type TelegramConfig = NonNullable<Config['telegram']>;

export interface TelegramConsoleOptions {
  config: Config;
  logger: Logger;
  commands: readonly Command[];
  services: Omit<CommandServices, 'commands'>;
}

export const WEBHOOK_PATH = '/telegram/webhook';
const WEBHOOK_BODY_LIMIT = 1024 * 1024;
const TYPING_REPEAT_MS = 4000;
const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

/**
 * The operators' Telegram group. Owns the one Bot (customer chats are mounted on it by the Telegram
 * channel), checks the group at start (forum or reply mode), registers the commands, and performs the
 * core's console requests as the `console` route's deliverer.
 */
export class TelegramConsole implements OperatorConsole {
  readonly bot: Bot;
  readonly deliverer: Deliverer<unknown>;
  private readonly telegram: TelegramConfig;
  private readonly logger: Logger;
  private forum = false;
  private current: ChannelState = 'stopped';
  private poller?: ConfirmingPoller;
  private dashboardTimer?: NodeJS.Timeout;
  /** The bots that send into the group: this one, and the helpers; known once start() checked them. */
  private senders: GroupSender[] = [];
  /** When each conversation last showed "typing": Telegram shows it for about 5 s, so once per 4 s is enough. */
  private readonly typingShownAt = new Map<string, number>();

  constructor(private readonly options: TelegramConsoleOptions) {
    this.telegram = options.config.telegram!;
    this.logger = options.logger.child({ component: 'telegram-console' });
    this.bot = new Bot(this.telegram.token, { client: { apiRoot: this.telegram.apiRoot } });
    // Updates of one chat are handled one after another (order of a customer's messages), chats in parallel.
    this.bot.use(sequentialize((ctx) => String(ctx.chat?.id ?? ctx.from?.id ?? '')));
    this.bot.catch((error) => {
      const update = error.ctx.update;
      this.logger.error({ err: error.error, updateId: update.update_id, chatId: error.ctx.chat?.id }, 'handling a Telegram update failed');
    });
    this.deliverer = telegramConsoleDeliverer({
      groupId: this.telegram.operatorChatId,
      forum: () => this.forum,
      budget: new GroupBudget({ groupId: this.telegram.operatorChatId, perMinute: options.config.rateLimits.telegramPerGroupPerMinute, senders: () => this.senders }),
      dashboardStale: () => this.dashboardStale(),
      topicRenameDelayMs: this.telegram.topicRenameDelayMs,
      instanceId: options.config.instanceId,
    }) as Deliverer<unknown>;
  }

  state(): ChannelState {
    return this.current;
  }

  mode(): 'forum' | 'reply' {
    return this.forum ? 'forum' : 'reply';
  }

  async start(): Promise<void> {
    this.current = 'starting';
    const groupId = this.telegram.operatorChatId;
    await this.bot.init().catch((error: unknown) => {
      throw new Error(`Telegram refused the bot token (TELEGRAM_BOT_TOKEN) or is unreachable at ${this.telegram.apiRoot}: ${(error as Error).message}`);
    });
    const { chat, member } = await Promise.all([this.bot.api.getChat(groupId), this.bot.api.getChatMember(groupId, this.bot.botInfo.id)])
      .then(([chat, member]) => ({ chat, member }))
      .catch((error: unknown) => {
        throw new Error(`The bot cannot reach the operator group OPERATOR_CHAT_ID=${groupId}: ${(error as Error).message}. Add @${this.bot.botInfo.username} to the group as an admin.`);
      });
    this.forum = 'is_forum' in chat && chat.is_forum === true;
    const admin = member.status === 'administrator' || member.status === 'creator';
    if (!admin) this.logger.warn({ groupId }, 'the bot is not an admin of the operator group: it may not see plain messages or manage topics');
    if (this.forum && member.status === 'administrator' && !member.can_manage_topics) {
      this.logger.warn({ groupId }, 'the bot lacks the "manage topics" right: falling back to reply mode');
      this.forum = false;
    }
    this.logger.info({ groupId, mode: this.forum ? 'forum' : 'reply' }, this.forum ? 'operator group is a forum: one topic per conversation' : 'operator group is not a forum: operators answer by replying to relayed messages');
    const helpers = await helperSenders({ tokens: this.telegram.helperTokens, apiRoot: this.telegram.apiRoot, groupId, forum: this.forum });
    this.senders = [{ id: this.bot.botInfo.id, username: this.bot.botInfo.username, api: this.bot.api, main: true, manageTopics: this.forum }, ...helpers];
    if (helpers.length > 0) this.logger.info({ helpers: helpers.map((h) => ({ bot: h.username, manageTopics: h.manageTopics })) }, `${helpers.length} helper bot(s) share the sends into the operator group`);

    await bootstrapAdmins(this.telegram.adminIds);
    const commands = this.options.commands;
    this.bot.use(
      operatorUpdates({
        groupId,
        botUsername: this.bot.botInfo.username,
        forum: () => this.forum,
        commands,
        services: { ...this.options.services, commands },
        config: this.options.config,
        logger: this.logger,
      }),
    );
    await this.bot.api.setMyCommands(
      commands.map((c) => ({ command: c.name, description: commandDescription(c.name, c.description) })),
      { scope: { type: 'chat', chat_id: groupId } },
    );
    // Customers see /start described in their Telegram app's language where the gateway has it.
    for (const language of await customerLanguages()) {
      const description = await renderTemplate('messages', 'start-command', language);
      await this.bot.api.setMyCommands([{ command: 'start', description }], { scope: { type: 'all_private_chats' }, ...(language === DEFAULT_LANGUAGE ? {} : { language_code: language as LanguageCode }) });
    }

    if (this.telegram.webhook) {
      await this.bot.api.setWebhook(this.telegram.webhook.url, { secret_token: this.telegram.webhook.secret, allowed_updates: [...ALLOWED_UPDATES] });
      this.logger.info('receiving Telegram updates by webhook');
    } else {
      await this.bot.api.deleteWebhook();
      this.poller = new ConfirmingPoller(this.bot, { logger: this.logger, allowedUpdates: ALLOWED_UPDATES });
      this.poller.start();
      this.logger.info('receiving Telegram updates by long polling');
    }
    this.current = 'up';
    this.dashboardStale();
  }

  /** Routes before start(): the webhook endpoint, checked against the secret token on every request. */
  registerRoutes(app: FastifyInstance): void {
    if (!this.telegram.webhook) return;
    // An update is a few kB; the server's limit is sized for web chat uploads. grammY answers only after the update
    // was handled (an error or a timeout makes Telegram send it again).
    app.post(WEBHOOK_PATH, { bodyLimit: WEBHOOK_BODY_LIMIT }, webhookCallback(this.bot, 'fastify', { secretToken: this.telegram.webhook.secret }));
  }

  async stop(): Promise<void> {
    clearTimeout(this.dashboardTimer);
    await this.poller?.stop();
    this.current = 'stopped';
  }

  showTyping(conversationId: string): void {
    const now = Date.now();
    if (now - (this.typingShownAt.get(conversationId) ?? 0) < TYPING_REPEAT_MS) return;
    this.typingShownAt.set(conversationId, now);
    if (this.typingShownAt.size > 10_000) this.typingShownAt.clear();
    void (async () => {
      const conversation = await ConversationModel.findById(conversationId, { console: 1 }).lean();
      const threadId = this.forum ? conversation?.console?.topicId : undefined;
      // Only in the chat's topic: in reply mode "typing" would not say which customer it is.
      if (!threadId) return;
      await this.bot.api.sendChatAction(this.telegram.operatorChatId, 'typing', { message_thread_id: threadId });
    })().catch((error: unknown) => this.logger.debug({ err: error, conversation: conversationId }, 'could not show that the customer is typing'));
  }

  /**
   * Refreshes the pinned dashboard at most once per DASHBOARD_INTERVAL, whatever the number of changes. The request
   * is one item however often made (it renders what is current when it runs, and only with spare budget).
   */
  private dashboardStale(): void {
    if (this.dashboardTimer) return;
    this.dashboardTimer = setTimeout(() => {
      this.dashboardTimer = undefined;
      requestConsole({ action: 'dashboard' }).catch((error: unknown) => this.logger.warn({ err: error }, 'could not queue a dashboard refresh'));
    }, this.telegram.dashboardIntervalMs);
    this.dashboardTimer.unref();
  }
}
