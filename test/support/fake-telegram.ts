import http from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';

/**
 * A local Bot API server that answers the methods the gateway uses, as Telegram documents them:
 * `POST /bot<token>/<method>` with JSON or multipart bodies, `{ ok, result }` or `{ ok: false, error_code,
 * description, parameters }`; 403 for users who blocked the bot; 429 with retry_after when a group gets more
 * than `groupLimit.max` messages in `groupLimit.windowMs`; 400 for over-long texts, captions and broken HTML.
 */
export interface SentMessage {
  method: string;
  chat_id: number;
  message_id: number;
  message_thread_id?: number;
  text?: string;
  caption?: string;
  parse_mode?: string;
  reply_markup?: { inline_keyboard?: Array<Array<{ text: string; callback_data?: string; url?: string }>> };
  reply_to_message_id?: number;
  file?: { name: string; size: number };
  params: Record<string, unknown>;
  /** The bot that sent it. */
  bot: number;
}

export interface FakeTelegramOptions {
  token?: string;
  groupId?: number;
  forum?: boolean;
  /** Telegram's limit of one bot's sends into one group: at most `max` in any `windowMs`, per bot. */
  groupLimit?: { max: number; windowMs: number };
  /** Further bots (helpers) with their membership in the operator group. */
  helpers?: FakeHelperBot[];
}

export interface FakeHelperBot {
  token: string;
  id: number;
  username: string;
  status?: 'administrator' | 'member' | 'left';
  canManageTopics?: boolean;
}

const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'blockquote', 'tg-spoiler', 'span']);

/** Telegram's "can't parse entities": unknown or unbalanced tags, or a bare `<` / `&`. */
function htmlProblem(text: string): string | undefined {
  const stack: string[] = [];
  const tag = /<(\/?)([a-z-]+)(?:\s[^>]*)?>|<|&(?!(?:amp|lt|gt|quot|#\d+);)/g;
  for (const match of text.matchAll(tag)) {
    if (!match[2]) return `Unsupported start tag or unescaped character at byte offset ${match.index}`;
    if (!ALLOWED_TAGS.has(match[2])) return `Unsupported start tag "${match[2]}" at byte offset ${match.index}`;
    if (match[1]) {
      if (stack.pop() !== match[2]) return `Can't find end tag corresponding to start tag "${match[2]}"`;
    } else stack.push(match[2]);
  }
  return stack.length ? `Can't find end tag corresponding to start tag "${stack.at(-1)}"` : undefined;
}

export async function startFakeTelegram(options: FakeTelegramOptions = {}) {
  const token = options.token ?? '123456:TEST-token';
  const groupId = options.groupId ?? -1001234567890;
  const state = {
    forum: options.forum ?? true,
    updates: [] as Array<Record<string, unknown>>,
    nextUpdateId: 1,
    nextMessageId: 1000,
    nextThreadId: 100,
    sent: [] as SentMessage[],
    calls: [] as Array<{ method: string; params: Record<string, unknown>; at: number; bot: number }>,
    topics: new Map<number, { name: string; closed: boolean }>(),
    reactions: new Map<string, string>(),
    pinned: new Map<number, number>(),
    edits: [] as Array<{ chat_id: number; message_id: number; text: string; reply_markup?: unknown }>,
    /** Messages deleted with deleteMessage / deleteMessages, and topics with deleteForumTopic. */
    deleted: [] as Array<{ chat_id: number; message_id: number }>,
    deletedTopics: [] as number[],
    callbackAnswers: [] as Array<Record<string, unknown>>,
    commands: [] as Array<{ commands: Array<{ command: string; description: string }>; scope?: unknown; language_code?: string }>,
    blocked: new Set<number>(),
    files: new Map<string, { path: string; data: Buffer }>(),
    /** When each bot sent into the group, per bot id. */
    groupSends: new Map<number, number[]>(),
    rejected429: 0,
    failNext: new Map<string, { status: number; description: string; retry_after?: number }>(),
    /** The console bot's membership in the operator group. */
    botMember: { status: 'administrator' as 'administrator' | 'member' | 'left', canManageTopics: true },
  };
  let waiter: (() => void) | undefined;

  const bot = { id: 777000, is_bot: true, first_name: 'Support Gateway', username: 'support_gateway_bot' };
  const helpers = new Map((options.helpers ?? []).map((h) => [h.token, h]));
  const botOfToken = (given: string) => (given === token ? bot : helpers.has(given) ? { id: helpers.get(given)!.id, is_bot: true, first_name: helpers.get(given)!.username, username: helpers.get(given)!.username } : undefined);

  function error(status: number, description: string, retryAfter?: number) {
    return { status, body: { ok: false, error_code: status, description, ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}) } };
  }

  function checkSendAllowed(botId: number, chatId: number, text: string | undefined, caption: string | undefined, parseMode: unknown) {
    if (state.blocked.has(chatId)) return error(403, 'Forbidden: bot was blocked by the user');
    if (text !== undefined && text.length === 0) return error(400, 'Bad Request: message text is empty');
    if (text && text.length > 4096) return error(400, 'Bad Request: message is too long');
    if (caption && caption.length > 1024) return error(400, 'Bad Request: message caption is too long');
    if (parseMode === 'HTML') {
      const problem = htmlProblem(text ?? caption ?? '');
      if (problem) return error(400, `Bad Request: can't parse entities: ${problem}`);
    }
    return checkGroupLimit(botId, chatId);
  }

  /** Every call that changes what a group shows (a message, a topic, a reaction, an edit, a pin) counts. */
  function checkGroupLimit(botId: number, chatId: number) {
    if (chatId < 0 && options.groupLimit) {
      const now = Date.now();
      const sends = (state.groupSends.get(botId) ?? []).filter((t) => now - t < options.groupLimit!.windowMs);
      state.groupSends.set(botId, sends);
      if (sends.length >= options.groupLimit.max) {
        state.rejected429 += 1;
        const retry = Math.max(1, Math.ceil((options.groupLimit.windowMs - (now - sends[0]!)) / 1000));
        return error(429, `Too Many Requests: retry after ${retry}`, retry);
      }
      sends.push(now);
    }
    return undefined;
  }

  function recordMessage(botId: number, method: string, params: Record<string, unknown>, file?: SentMessage['file']) {
    const chatId = Number(params.chat_id);
    const message: SentMessage = {
      method,
      chat_id: chatId,
      message_id: state.nextMessageId++,
      message_thread_id: params.message_thread_id === undefined ? undefined : Number(params.message_thread_id),
      text: params.text as string | undefined,
      caption: params.caption as string | undefined,
      parse_mode: params.parse_mode as string | undefined,
      reply_markup: typeof params.reply_markup === 'string' ? JSON.parse(params.reply_markup) : (params.reply_markup as SentMessage['reply_markup']),
      reply_to_message_id: (params.reply_parameters as { message_id?: number } | undefined)?.message_id ?? (params.reply_to_message_id as number | undefined),
      file,
      params,
      bot: botId,
    };
    state.sent.push(message);
    return {
      message_id: message.message_id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: chatId < 0 ? 'supergroup' : 'private' },
      ...(message.message_thread_id ? { message_thread_id: message.message_thread_id, is_topic_message: true } : {}),
      ...(message.text ? { text: message.text } : {}),
      ...(message.caption ? { caption: message.caption } : {}),
    };
  }

  const SEND_METHODS = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'sendAudio', 'sendVoice', 'sendVideo', 'sendVideoNote', 'sendSticker', 'sendLocation', 'sendContact', 'copyMessage', 'sendAnimation']);

  async function handle(caller: typeof bot, method: string, params: Record<string, unknown>, file?: SentMessage['file']): Promise<{ status: number; body: unknown }> {
    state.calls.push({ method, params, at: Date.now(), bot: caller.id });
    const injected = state.failNext.get(method);
    if (injected) {
      state.failNext.delete(method);
      return error(injected.status, injected.description, injected.retry_after);
    }
    const ok = (result: unknown) => ({ status: 200, body: { ok: true, result } });
    if (SEND_METHODS.has(method)) {
      const problem = checkSendAllowed(caller.id, Number(params.chat_id), params.text as string | undefined, params.caption as string | undefined, params.parse_mode);
      if (problem) return problem;
      if (params.message_thread_id !== undefined && Number(params.chat_id) === groupId) {
        const topic = state.topics.get(Number(params.message_thread_id));
        // The bot is an admin with can_manage_topics, and admins may still post in closed topics.
        if (!topic) return error(400, 'Bad Request: message thread not found');
      }
      const message = recordMessage(caller.id, method, params, file);
      return ok(method === 'copyMessage' ? { message_id: message.message_id } : message);
    }
    switch (method) {
      case 'getMe':
        return ok(caller);
      case 'getChat':
        return Number(params.chat_id) === groupId ? ok({ id: groupId, type: 'supergroup', title: 'Support operators', is_forum: state.forum }) : error(400, 'Bad Request: chat not found');
      case 'getChatMember': {
        const helper = [...helpers.values()].find((h) => h.id === Number(params.user_id));
        if (helper) return ok({ status: helper.status ?? 'member', user: botOfToken(helper.token), can_manage_topics: helper.canManageTopics ?? false, can_post_messages: true });
        const member = state.botMember;
        return ok({ status: member.status, user: bot, ...(member.status === 'administrator' ? { can_manage_topics: member.canManageTopics, can_pin_messages: true, can_post_messages: true } : {}) });
      }
      case 'getUpdates': {
        const offset = Number(params.offset ?? 0);
        state.updates = state.updates.filter((u) => (u.update_id as number) >= offset);
        if (state.updates.length === 0 && Number(params.timeout ?? 0) > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(Number(params.timeout) * 1000, 1000));
            waiter = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        return ok(state.updates.slice(0, Number(params.limit ?? 100)));
      }
      case 'deleteWebhook':
      case 'setWebhook':
        return ok(true);
      case 'setMyCommands':
        state.commands.push({ commands: params.commands as never, scope: params.scope, language_code: params.language_code as string | undefined });
        return ok(true);
      case 'createForumTopic': {
        if (!state.forum) return error(400, 'Bad Request: the chat is not a forum');
        const problem = checkSendAllowed(caller.id, Number(params.chat_id), undefined, undefined, undefined);
        if (problem) return problem;
        const threadId = state.nextThreadId++;
        state.topics.set(threadId, { name: String(params.name), closed: false });
        return ok({ message_thread_id: threadId, name: params.name, icon_color: 7322096 });
      }
      case 'editForumTopic':
      case 'closeForumTopic':
      case 'reopenForumTopic': {
        const limited = checkGroupLimit(caller.id, Number(params.chat_id));
        if (limited) return limited;
        const topic = state.topics.get(Number(params.message_thread_id));
        if (!topic) return error(400, 'Bad Request: TOPIC_ID_INVALID');
        if (method === 'editForumTopic') {
          if (params.name === topic.name) return error(400, 'Bad Request: TOPIC_NOT_MODIFIED');
          topic.name = String(params.name);
        }
        if (method === 'closeForumTopic') topic.closed = true;
        if (method === 'reopenForumTopic') topic.closed = false;
        return ok(true);
      }
      case 'setMessageReaction': {
        const limited = checkGroupLimit(caller.id, Number(params.chat_id));
        if (limited) return limited;
        const reaction = (params.reaction as Array<{ emoji: string }> | undefined)?.[0]?.emoji ?? '';
        state.reactions.set(`${params.chat_id}:${params.message_id}`, reaction);
        return ok(true);
      }
      case 'pinChatMessage': {
        const limited = checkGroupLimit(caller.id, Number(params.chat_id));
        if (limited) return limited;
        state.pinned.set(Number(params.chat_id), Number(params.message_id));
        return ok(true);
      }
      case 'editMessageText': {
        const limited = checkGroupLimit(caller.id, Number(params.chat_id));
        if (limited) return limited;
        const problem = params.parse_mode === 'HTML' ? htmlProblem(String(params.text)) : undefined;
        if (problem) return error(400, `Bad Request: can't parse entities: ${problem}`);
        const original = state.sent.find((m) => m.chat_id === Number(params.chat_id) && m.message_id === Number(params.message_id));
        if (!original) return error(400, 'Bad Request: message to edit not found');
        if (original.method !== 'sendMessage') return error(400, 'Bad Request: there is no text in the message to edit');
        if (original.text === params.text && JSON.stringify(original.reply_markup ?? null) === JSON.stringify(params.reply_markup ?? null)) {
          return error(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
        }
        original.text = String(params.text);
        original.reply_markup = params.reply_markup as SentMessage['reply_markup'];
        state.edits.push({ chat_id: Number(params.chat_id), message_id: Number(params.message_id), text: String(params.text), reply_markup: params.reply_markup });
        return ok({ message_id: original.message_id, chat: { id: original.chat_id, type: 'supergroup' }, date: 0, text: original.text });
      }
      case 'editMessageCaption': {
        const original = state.sent.find((m) => m.chat_id === Number(params.chat_id) && m.message_id === Number(params.message_id));
        if (!original) return error(400, 'Bad Request: message to edit not found');
        if (original.method === 'sendMessage') return error(400, 'Bad Request: there is no caption in the message to edit');
        if (original.caption === params.caption) return error(400, 'Bad Request: message is not modified');
        original.caption = String(params.caption ?? '');
        state.edits.push({ chat_id: original.chat_id, message_id: original.message_id, text: original.caption });
        return ok({ message_id: original.message_id, chat: { id: original.chat_id, type: 'private' }, date: 0, caption: original.caption });
      }
      case 'deleteMessage':
      case 'deleteMessages': {
        const chatId = Number(params.chat_id);
        const ids = method === 'deleteMessage' ? [Number(params.message_id)] : (params.message_ids as number[]).map(Number);
        const limited = checkGroupLimit(caller.id, chatId);
        if (limited) return limited;
        const found = ids.map((id) => state.sent.findIndex((m) => m.chat_id === chatId && m.message_id === id));
        if (method === 'deleteMessage' && found[0] === -1 && chatId > 0) return error(400, 'Bad Request: message to delete not found');
        for (const id of ids) state.deleted.push({ chat_id: chatId, message_id: id });
        state.sent = state.sent.filter((m) => !(m.chat_id === chatId && ids.includes(m.message_id)));
        return ok(true);
      }
      case 'deleteForumTopic': {
        const limited = checkGroupLimit(caller.id, Number(params.chat_id));
        if (limited) return limited;
        const threadId = Number(params.message_thread_id);
        if (!state.topics.delete(threadId)) return error(400, 'Bad Request: TOPIC_ID_INVALID');
        state.deletedTopics.push(threadId);
        state.sent = state.sent.filter((m) => !(m.chat_id === groupId && m.message_thread_id === threadId));
        return ok(true);
      }
      case 'answerCallbackQuery':
        state.callbackAnswers.push(params);
        return ok(true);
      case 'sendChatAction':
        return ok(true);
      case 'getFile': {
        const stored = state.files.get(String(params.file_id));
        if (!stored) return error(400, 'Bad Request: invalid file_id');
        return ok({ file_id: params.file_id, file_unique_id: `u${params.file_id}`, file_size: stored.data.length, file_path: stored.path });
      }
      default:
        return error(404, `Not Found: method ${method} is not implemented by the fake server`);
    }
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const fileMatch = url.pathname.match(/^\/file\/bot([^/]+)\/(.+)$/);
    if (fileMatch) {
      const stored = [...state.files.values()].find((f) => f.path === fileMatch[2]);
      if (fileMatch[1] !== token || !stored) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(stored.data);
      return;
    }
    const match = url.pathname.match(/^\/bot([^/]+)\/(\w+)$/);
    const caller = match ? botOfToken(match[1]!) : undefined;
    if (!match || !caller) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error_code: 401, description: 'Unauthorized' }));
      return;
    }
    let params: Record<string, unknown> = {};
    let file: SentMessage['file'];
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const form = await parseMultipart(raw, type);
      for (const [key, value] of Object.entries(form.fields)) params[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
      file = form.file;
      for (const [key, value] of Object.entries(params)) if (typeof value === 'string' && value.startsWith('attach://')) params[key] = `(file ${file?.name})`;
    } else if (raw.length > 0) {
      params = JSON.parse(raw.toString('utf8'));
    }
    for (const [key, value] of url.searchParams) params[key] = value;
    const answer = await handle(caller, match[2]!, params, file);
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  function pushUpdate(update: Record<string, unknown>) {
    state.updates.push({ update_id: state.nextUpdateId++, ...update });
    waiter?.();
  }

  /** A replied-to message as Telegram includes it: one of the bots' carries its sender, text and buttons. */
  function repliedTo(messageId: number) {
    const sent = state.sent.find((m) => m.chat_id === groupId && m.message_id === messageId);
    const sender = sent && (sent.bot === bot.id ? bot : [...helpers.values()].find((helper) => helper.id === sent.bot));
    const from = sender && { id: sender.id, is_bot: true, first_name: 'first_name' in sender ? sender.first_name : sender.username, username: sender.username };
    return { message_id: messageId, date: now(), chat: { id: groupId, type: 'supergroup' }, ...(sent ? { from, text: sent.text, ...(sent.reply_markup ? { reply_markup: sent.reply_markup } : {}) } : {}) };
  }

  let nextUserMessageId = 1;
  const now = () => Math.floor(Date.now() / 1000);

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    groupId,
    bot,
    state,
    pushUpdate,
    /** A customer writes to the bot in a private chat. */
    customerWrites(user: { id: number; first_name: string; last_name?: string; username?: string; language_code?: string }, content: Record<string, unknown>) {
      const message = { message_id: nextUserMessageId++, date: now(), chat: { id: user.id, type: 'private', first_name: user.first_name }, from: { is_bot: false, ...user }, ...content };
      pushUpdate({ message });
      return message;
    },
    /** An operator writes in the group: in a topic (threadId) and/or as a reply to a message. */
    operatorWrites(user: { id: number; first_name: string; username?: string }, content: Record<string, unknown>, where: { threadId?: number; replyTo?: number } = {}) {
      const message = {
        message_id: state.nextMessageId++,
        date: now(),
        chat: { id: groupId, type: 'supergroup', title: 'Support operators', is_forum: state.forum },
        from: { is_bot: false, ...user },
        ...(where.threadId ? { message_thread_id: where.threadId, is_topic_message: true } : {}),
        ...(where.replyTo ? { reply_to_message: repliedTo(where.replyTo) } : {}),
        ...content,
      };
      if (typeof content.text === 'string' && content.text.startsWith('/')) {
        (message as Record<string, unknown>).entities = [{ type: 'bot_command', offset: 0, length: content.text.split(/\s/)[0]!.length }];
      }
      pushUpdate({ message });
      return message;
    },
    /** Someone adds the bot to the operator group (Telegram's my_chat_member update). */
    botAddedToGroup(by: { id: number; first_name: string; username?: string }, status: 'administrator' | 'member' = state.botMember.status === 'left' ? 'member' : state.botMember.status) {
      pushUpdate({
        my_chat_member: {
          chat: { id: groupId, type: 'supergroup', title: 'Support operators', is_forum: state.forum },
          from: { is_bot: false, ...by },
          date: now(),
          old_chat_member: { status: 'left', user: bot },
          new_chat_member: { status, user: bot },
        },
      });
    },
    /** Someone edits a message they sent: a customer in their private chat, an operator in the group. */
    editsMessage(original: Record<string, unknown>, content: Record<string, unknown>) {
      const { text: _text, caption: _caption, ...kept } = original;
      const edited = { ...kept, ...content, edit_date: now() };
      pushUpdate({ edited_message: edited });
      return edited;
    },
    /** An operator presses an inline button under one of the bot's messages. */
    operatorPresses(user: { id: number; first_name: string; username?: string }, sent: SentMessage, data: string) {
      pushUpdate({
        callback_query: {
          id: `cb${state.nextUpdateId}`,
          from: { is_bot: false, ...user },
          chat_instance: 'ci',
          data,
          message: { message_id: sent.message_id, date: now(), chat: { id: sent.chat_id, type: 'supergroup', is_forum: state.forum }, ...(sent.message_thread_id ? { message_thread_id: sent.message_thread_id, is_topic_message: true } : {}), text: sent.text },
        },
      });
    },
    addFile(fileId: string, data: Buffer, path = `documents/${fileId}.bin`) {
      state.files.set(fileId, { path, data });
    },
    groupMessages(threadId?: number) {
      return state.sent.filter((m) => m.chat_id === groupId && (threadId === undefined || m.message_thread_id === threadId));
    },
    privateMessages(chatId: number) {
      return state.sent.filter((m) => m.chat_id === chatId);
    },
    reset() {
      Object.assign(state, { updates: [], sent: [], calls: [], edits: [], deleted: [], deletedTopics: [], callbackAnswers: [], groupSends: new Map(), rejected429: 0, botMember: { status: 'administrator', canManageTopics: true } });
      state.topics.clear();
      state.reactions.clear();
      state.pinned.clear();
      state.blocked.clear();
      state.failNext.clear();
    },
    close: () => new Promise<void>((resolve) => {
      waiter?.();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export type FakeTelegram = Awaited<ReturnType<typeof startFakeTelegram>>;

/**
 * The fields and the file of a multipart body. busboy, not the fetch API's FormData: grammY writes
 * `content-disposition:form-data;name="x"` without spaces, which Telegram takes and undici's parser refuses.
 */
function parseMultipart(raw: Buffer, contentType: string): Promise<{ fields: Record<string, string>; file?: { name: string; size: number } }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let file: { name: string; size: number } | undefined;
    const parser = busboy({ headers: { 'content-type': contentType } });
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (_name, stream, info) => {
      let size = 0;
      stream.on('data', (chunk: Buffer) => (size += chunk.length));
      stream.on('end', () => (file = { name: info.filename ?? '', size }));
    });
    parser.on('close', () => resolve({ fields, file }));
    parser.on('error', reject);
    parser.end(raw);
  });
}


/**
 * Telegram's 20 calls a minute per bot and group with time running `scale` times faster: the server's limit, and
 * what the gateway is told (RATE_TELEGRAM_PER_GROUP_PER_MINUTE) so that its slots are those of real speed, scaled
 * (a minute / 19; telling it 20 x scale would cut its one-slot margin short).
 */
export function scaledGroupLimit(scale: number): { groupLimit: { max: number; windowMs: number }; gatewayPerMinute: string } {
  return { groupLimit: { max: 20, windowMs: 60_000 / scale }, gatewayPerMinute: String(19 * scale + 1) };
}
