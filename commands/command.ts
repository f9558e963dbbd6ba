import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { ConversationDoc, OperatorDoc } from '../src/db/models/index.js';
import type { OperatorRole } from '../src/domain.js';

/** An inline button under a reply: pressing it calls the command's `callback` with `data`. */
export interface Button {
  text: string;
  /** Passed to the same command's callback; keep it short (Telegram allows 64 bytes in all). */
  data: string;
}

export interface ReplyOptions {
  /** The text is HTML (escape anything customer- or operator-written with escapeHtml). */
  html?: boolean;
  buttons?: Button[][];
}

/** Long-lived parts of the gateway that commands use; each feature adds its own field. */
export interface CommandServices {
  /** The registry itself, for /help. */
  commands: readonly Command[];
  // @section services
  /** Timed jobs (src/jobs): /remind plans, lists and cancels a chat's jobs; absent when jobs are not running. */
  scheduler?: import('../src/jobs/scheduler.js').JobScheduler;
  /** What a configured channel can do (edit, delete...); undefined for a channel that is not running. */
  channelCapabilities?: (kind: string) => import('../src/domain.js').ChannelCapabilities | undefined;
}

export interface CommandContext {
  services: CommandServices;
  /** The registered operator who ran it. */
  operator: OperatorDoc;
  /** Text after the command name, trimmed. */
  args: string;
  /**
   * Names this use of the command (the operator's message): a command that sends something to the customer passes
   * it on, so handling the same message twice (Telegram sends unconfirmed updates again after a crash) sends once.
   */
  actionKey?: string;
  /** The conversation of the topic (or of the replied-to relayed message) the command was used in. */
  conversation?: ConversationDoc;
  /** The person whose message the command replied to (e.g. `/op add` as a reply), when it is not the bot. */
  repliedToUser?: { id: number; name: string; username?: string };
  /** The group message the command replied to (e.g. `/delete` as a reply to an answer). */
  repliedToMessageId?: number;
  config: Config;
  logger: Logger;
  /** Answers in the same topic (or the General topic), through the outbox and its rate limits. */
  reply(text: string, options?: ReplyOptions): Promise<void>;
  /** Sends a file (a chart, a CSV export) in the same place, through the outbox. */
  replyFile(file: { fileName: string; mimeType: string; content: Buffer }, caption?: string): Promise<void>;
}

export interface CallbackContext extends Omit<CommandContext, 'args'> {
  /** The `data` of the pressed button. */
  data: string;
  /** Replaces the text and buttons of the message that carried the button. */
  edit(text: string, options?: ReplyOptions): Promise<void>;
  /** A short toast over the chat (answerCallbackQuery). */
  toast(text: string): Promise<void>;
}

/** An operator answered one of the command's questions by replying to it with text (a comment, a name). */
export interface AnswerContext extends Omit<CallbackContext, 'toast'> {
  /** What they wrote. */
  text: string;
}

/** One slash command: its help line, who may run it, where, and what it does. */
export interface Command {
  name: string;
  description: string;
  /** Shown with every refusal for wrong arguments, e.g. "/close [reason] [comment]". */
  usage: string;
  /** The least role that may run it: operator < supervisor < admin. */
  role: OperatorRole;
  /** Must be used inside a conversation's topic (or as a reply to a relayed message). */
  needsConversation: boolean;
  run(ctx: CommandContext): Promise<void>;
  callback?(ctx: CallbackContext): Promise<void>;
  /**
   * A reply to a message of this command that carries its buttons; `data` is the first button's. Without it, such
   * a reply is an ordinary message (an answer to the customer).
   */
  answer?(ctx: AnswerContext): Promise<void>;
}

export { UsageError } from '../src/usage-error.js';

export const ROLE_RANK: Record<OperatorRole, number> = { operator: 0, supervisor: 1, admin: 2 };

export function mayRun(operator: Pick<OperatorDoc, 'role'>, command: Pick<Command, 'role'>): boolean {
  return ROLE_RANK[(operator.role ?? 'operator') as OperatorRole] >= ROLE_RANK[command.role];
}
