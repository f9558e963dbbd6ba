import { Composer, type Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { Command, CommandContext, CommandServices, ReplyOptions } from '../../../commands/command.js';
import { UsageError, mayRun } from '../../../commands/command.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import { ConversationModel, MessageModel, type ConversationDoc } from '../../db/models/index.js';
import { requestConsole, type NoticeButton } from '../actions.js';
import { addNote, OperatorActionError, replyToCustomer } from '../../conversations/operator-actions.js';
import { ConcurrentChangeError, IllegalTransitionError } from '../../conversations/errors.js';
import { TemplateNotFoundError } from '../../templates.js';
import { telegramAttachments } from './attachments.js';
import { findOperator } from './operators.js';
import { editAnswer } from '../../conversations/message-changes.js';
import { derivedObjectId } from '../../db/derived-id.js';
import { operatorText } from '../../i18n/operator-texts.js';

export interface OperatorUpdatesOptions {
  groupId: number;
  botUsername: string;
  forum: () => boolean;
  commands: readonly Command[];
  services: CommandServices;
  config: Config;
  logger: Logger;
}

type EditOptions = { parse_mode?: 'HTML'; reply_markup?: { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> } };

/** Replaces a command's message (text and buttons, which call the same command back). */
function editor(editMessage: (text: string, other: EditOptions) => Promise<unknown>, commandName: string) {
  return async (text: string, editOptions: ReplyOptions = {}) => {
    const rows = editOptions.buttons?.map((row) => row.map((b) => ({ text: b.text, callback_data: `c:${commandName}:${b.data}` })));
    await editMessage(text, { parse_mode: editOptions.html ? 'HTML' : undefined, reply_markup: rows ? { inline_keyboard: rows } : undefined });
  };
}

/** An operator's message in the group, as the dedupe key of what it causes: handled twice, it acts once. */
export function operatorMessageKey(groupId: number, messageId: number): string {
  return `console:${groupId}:${messageId}`;
}

const COMMAND = /^\/([a-z0-9_]+)(?:@(\w+))?(?:\s+([\s\S]*))?$/i;
const notAnOperator = () => operatorText('refusals.notAnOperator');
const usageLine = (command: Command | undefined) => operatorText('refusals.usage', { usage: command?.usage ?? '' });
/** "Only supervisors may use /stats.": the roles named in the team's language. */
const onlyRoleMayUse = (command: Command) => operatorText('refusals.onlyRoleMayUse', { roles: operatorText(`refusals.roles.${command.role}`), command: command.name });

/**
 * Everything operators do in the group: commands, answers to customers, internal notes (`!text`) and
 * button presses. Refusals are one line; nothing changes on a refusal.
 */
export function operatorUpdates(options: OperatorUpdatesOptions): Composer<Context> {
  const composer = new Composer<Context>();
  const group = composer.filter((ctx) => ctx.chat?.id === options.groupId);
  const byName = new Map(options.commands.map((c) => [c.name, c]));

  async function conversationOf(message: Message | undefined): Promise<ConversationDoc | undefined> {
    if (!message) return undefined;
    if (options.forum() && message.is_topic_message && message.message_thread_id) {
      const byTopic = await ConversationModel.findOne({ 'console.topicId': message.message_thread_id });
      if (byTopic) return byTopic;
    }
    const repliedTo = message.reply_to_message?.message_id;
    if (repliedTo) {
      const relayed = await MessageModel.findOne({ consoleMessageIds: repliedTo }, { conversation: 1 }).lean();
      if (relayed) return (await ConversationModel.findById(relayed.conversation)) ?? undefined;
      return (await ConversationModel.findOne({ 'console.alertMessageId': repliedTo })) ?? undefined;
    }
    return undefined;
  }

  function replier(conversation: ConversationDoc | undefined, message: Message | undefined, commandName: string) {
    const threadId = message?.is_topic_message ? message.message_thread_id : undefined;
    const toButtons = (rows: ReplyOptions['buttons']): NoticeButton[][] | undefined => rows?.map((row) => row.map((b) => ({ text: b.text, data: `c:${commandName}:${b.data}` })));
    return {
      reply: async (text: string, replyOptions: ReplyOptions = {}) => {
        await requestConsole({ action: 'notice', conversation: conversation?._id, text, html: replyOptions.html, buttons: toButtons(replyOptions.buttons), threadId });
      },
      replyFile: async (file: { fileName: string; mimeType: string; content: Buffer }, caption?: string) => {
        await requestConsole({ action: 'notice', conversation: conversation?._id, text: caption ?? '', threadId, file: { fileName: file.fileName, mimeType: file.mimeType, dataBase64: file.content.toString('base64') } });
      },
    };
  }

  /** A reply to one of the console bot's messages whose buttons belong to a command that takes answers. */
  function questionOf(message: Message): { command: Command; data: string } | undefined {
    const asked = message.reply_to_message;
    if (!asked?.from?.is_bot || asked.from.username?.toLowerCase() !== options.botUsername.toLowerCase()) return undefined;
    const [prefix, name, ...data] = (asked.reply_markup?.inline_keyboard[0]?.[0] as { callback_data?: string } | undefined)?.callback_data?.split(':') ?? [];
    const command = prefix === 'c' ? byName.get(name ?? '') : undefined;
    return command?.answer ? { command, data: data.join(':') } : undefined;
  }

  /** Turns an expected refusal into its one-line explanation; anything else is logged and answered generically. */
  function explain(error: unknown, command: Command | undefined, log: Logger): string {
    if (error instanceof UsageError) return `${error.message}\n${usageLine(command)}`;
    if (error instanceof OperatorActionError || error instanceof IllegalTransitionError || error instanceof ConcurrentChangeError || error instanceof TemplateNotFoundError) return error.message;
    log.error({ err: error, command: command?.name }, 'operator action failed');
    return operatorText('refusals.somethingWentWrong');
  }

  group.on('message', async (ctx, next) => {
    const message = ctx.message;
    const text = message.text ?? '';
    const match = COMMAND.exec(text);
    if (!match) return next();
    const [, rawName, addressedTo, rawArgs] = match;
    if (addressedTo && addressedTo.toLowerCase() !== options.botUsername.toLowerCase()) return;
    const name = rawName!.toLowerCase();
    const command = byName.get(name);
    const operator = await findOperator(ctx.from);
    const conversation = await conversationOf(message);
    const { reply, replyFile } = replier(conversation, message, name);
    const log = options.logger.child({ command: name, operator: ctx.from?.id, ...(conversation ? { conversationId: String(conversation._id), conversationNumber: conversation.number } : {}) });

    if (!operator) return reply(notAnOperator());
    if (!command) return reply(operatorText('refusals.unknownCommand', { command: name }));
    if (!mayRun(operator, command)) return reply(onlyRoleMayUse(command));
    if (command.needsConversation && !conversation) {
      const where = options.forum() ? operatorText('refusals.useInTopic', { command: command.name }) : operatorText('refusals.useInTopicReplyMode', { command: command.name });
      return reply(`${where}\n${usageLine(command)}`);
    }

    const repliedFrom = message.reply_to_message?.from;
    const repliedToUser = repliedFrom && !repliedFrom.is_bot && !message.reply_to_message?.forum_topic_created ? { id: repliedFrom.id, name: [repliedFrom.first_name, repliedFrom.last_name].filter(Boolean).join(' '), username: repliedFrom.username } : undefined;
    const context: CommandContext = { operator, args: (rawArgs ?? '').trim(), conversation, repliedToUser, repliedToMessageId: message.reply_to_message?.forum_topic_created ? undefined : message.reply_to_message?.message_id, actionKey: operatorMessageKey(options.groupId, message.message_id), config: options.config, logger: log, services: options.services, reply, replyFile };
    try {
      await command.run(context);
      log.info('command done');
    } catch (error) {
      await reply(explain(error, command, log));
    }
  });

  group.on('message', async (ctx) => {
    const message = ctx.message;
    if (message.from?.is_bot) return;
    const conversation = await conversationOf(message);
    if (!conversation) return;
    const { reply } = replier(conversation, message, 'reply');
    const operator = await findOperator(ctx.from);
    if (!operator) return reply(notAnOperator());
    const log = options.logger.child({ conversationId: String(conversation._id), conversationNumber: conversation.number, operator: operator.telegramUserId });
    const text = message.text ?? message.caption ?? '';
    const question = questionOf(message);
    if (question && message.text) {
      const { command, data } = question;
      const questionLog = options.logger.child({ command: command.name, answer: true, operator: operator.telegramUserId });
      const edit = editor((html, other) => ctx.api.editMessageText(options.groupId, message.reply_to_message!.message_id, html, other), command.name);
      try {
        if (!mayRun(operator, command)) return reply(onlyRoleMayUse(command));
        await command.answer!({ operator, conversation, data, text: message.text, config: options.config, logger: questionLog, services: options.services, ...replier(conversation, message, command.name), edit });
      } catch (error) {
        await reply(explain(error, command, questionLog));
      }
      return;
    }
    try {
      if (text.startsWith('!')) {
        await addNote(conversation, operator, text.slice(1).trim(), message.message_id, operatorMessageKey(options.groupId, message.message_id));
        await ctx.api.setMessageReaction(options.groupId, message.message_id, [{ type: 'emoji', emoji: '✍' }]).catch(() => undefined);
        return;
      }
      const attachments = telegramAttachments(message);
      if (!text && attachments.length === 0) return;
      const sent = await replyToCustomer({ conversation, operator, text, attachments, consoleMessageId: message.message_id, dedupeKey: operatorMessageKey(options.groupId, message.message_id) });
      // The group shows what the operator typed: a reply whose shortcuts were expanded shows what the customer got.
      if (sent.text !== text) await requestConsole({ action: 'notice', conversation: conversation._id, text: operatorText('shortcut.expandedReply', { text: sent.text }), replyTo: message.message_id, threadId: message.is_topic_message ? message.message_thread_id : undefined });
      log.info('operator reply queued');
    } catch (error) {
      await reply(explain(error, undefined, log));
    }
  });

  // An operator corrected an answer or a note: the stored message keeps the old text, the customer gets the new one.
  group.on('edited_message', async (ctx) => {
    const edited = ctx.editedMessage;
    if (edited.from?.is_bot) return;
    const stored = await MessageModel.findById(derivedObjectId(operatorMessageKey(options.groupId, edited.message_id)));
    if (!stored || stored.author?.kind !== 'operator') return;
    const conversation = (await ConversationModel.findById(stored.conversation)) ?? undefined;
    const { reply } = replier(conversation, edited, 'edit');
    const operator = await findOperator(ctx.from);
    if (!operator) return reply(notAnOperator());
    const text = edited.text ?? edited.caption ?? '';
    const log = options.logger.child({ conversationId: String(stored.conversation), operator: operator.telegramUserId });
    try {
      await editAnswer(stored, operator, stored.direction === 'note' ? text.replace(/^!/, '').trim() : text, new Date((edited.edit_date ?? edited.date) * 1000));
      log.info('operator edit recorded');
    } catch (error) {
      await reply(explain(error, undefined, log));
    }
  });

  group.on('callback_query:data', async (ctx) => {
    const [prefix, commandName, ...rest] = ctx.callbackQuery.data.split(':');
    const command = prefix === 'c' ? byName.get(commandName ?? '') : undefined;
    const operator = await findOperator(ctx.from);
    if (!operator) return void (await ctx.answerCallbackQuery({ text: notAnOperator(), show_alert: true }));
    if (!command?.callback) return void (await ctx.answerCallbackQuery({ text: operatorText('refusals.buttonGone') }));
    if (!mayRun(operator, command)) return void (await ctx.answerCallbackQuery({ text: operatorText('refusals.onlyRoleMayDo', { roles: operatorText(`refusals.roles.${command.role}`) }), show_alert: true }));
    const message = ctx.callbackQuery.message as Message | undefined;
    const conversation = await conversationOf(message);
    const { reply, replyFile } = replier(conversation, message, command.name);
    const log = options.logger.child({ command: command.name, callback: true, operator: operator.telegramUserId });
    let answered = false;
    const toast = async (text: string) => {
      answered = true;
      await ctx.answerCallbackQuery({ text });
    };
    const edit = editor((text, other) => ctx.editMessageText(text, other), command.name);
    try {
      await command.callback({ operator, conversation, data: rest.join(':'), config: options.config, logger: log, services: options.services, reply, replyFile, edit, toast });
    } catch (error) {
      await toast(explain(error, command, log).split('\n')[0]!);
    } finally {
      if (!answered) await ctx.answerCallbackQuery().catch(() => undefined);
    }
  });

  return composer;
}
