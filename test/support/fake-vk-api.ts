import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local VK API following its documented contract: `POST /method/<name>` with form-encoded parameters,
 * answering `{ response }` or `{ error: { error_code, error_msg, request_params } }`; Bots Long Poll
 * (groups.getLongPollServer, then `GET <server>?act=a_check&key&ts&wait` answering `{ ts, updates }` or
 * `{ failed }`); messages.send deduplicating by (peer_id, random_id) as VK does; users.get; and the
 * photo and document upload servers (get server, multipart upload, save).
 */
export interface VkSendCall {
  peer_id: number;
  random_id: number;
  message?: string;
  attachment?: string;
  lat?: string;
  long?: string;
  keyboard?: string;
  answer: 'sent' | 'duplicate' | `error ${number}`;
}

export interface FakeVkOptions {
  token?: string;
  groupId?: number;
}

const ERROR_TEXT: Record<number, string> = {
  5: 'User authorization failed: invalid access_token',
  6: 'Too many requests per second',
  9: 'Flood control',
  901: "Can't send messages for users without permission",
  902: "Can't send messages to this user due to their privacy settings",
  909: "Can't edit this message, because it's too old",
  924: "Can't delete this message for everybody",
};

export async function startFakeVkApi(options: FakeVkOptions = {}) {
  const token = options.token ?? 'vk-community-token';
  const groupId = options.groupId ?? 4242;
  const state = {
    calls: [] as Array<{ method: string; params: Record<string, string> }>,
    sends: [] as VkSendCall[],
    /** Messages the customer actually got (a repeated random_id is not delivered again). */
    delivered: [] as Array<{ id: number; peer_id: number; message?: string; attachment?: string }>,
    /** messages.edit and messages.delete calls VK carried out. */
    edited: [] as Array<{ peer_id: number; message_id: number; message: string }>,
    deleted: [] as Array<{ peer_id: number; message_id: number }>,
    users: new Map<number, { first_name: string; last_name: string }>(),
    blocked: new Set<number>(),
    /** Errors the next calls of a method answer with, in order. */
    failNext: new Map<string, number[]>(),
    events: [] as Array<Record<string, unknown>>,
    key: 'lp-key-1',
    /** The highest ts a client asked for: it has handled every event before it. */
    polledTs: 0,
    /** Every long-poll answer that carried events: the ts it was asked for and how many events it gave. */
    batches: [] as Array<{ ts: number; events: number }>,
    /** While set, the long-poll endpoint answers 502 (a VK outage). */
    longPollDown: false,
    uploads: [] as Array<{ kind: 'photo' | 'doc'; field: string; fileName: string; size: number }>,
    files: new Map<string, { data: Buffer; type: string }>(),
    nextMessageId: 500,
    nextPhotoId: 9000,
  };
  const waiters = new Set<() => void>();
  let base = '';

  const error = (code: number, params: Record<string, string>) => ({
    error: { error_code: code, error_msg: ERROR_TEXT[code] ?? `Error ${code}`, request_params: Object.entries(params).filter(([k]) => k !== 'access_token').map(([key, value]) => ({ key, value })) },
  });

  function method(name: string, params: Record<string, string>): unknown {
    state.calls.push({ method: name, params });
    if (params.access_token !== token) return error(5, params);
    const injected = state.failNext.get(name)?.shift();
    if (name === 'messages.send') {
      const call: VkSendCall = { peer_id: Number(params.peer_id), random_id: Number(params.random_id), message: params.message, attachment: params.attachment, lat: params.lat, long: params.long, keyboard: params.keyboard, answer: 'sent' };
      state.sends.push(call);
      if (injected) {
        call.answer = `error ${injected}`;
        return error(injected, params);
      }
      if (state.blocked.has(call.peer_id)) {
        call.answer = 'error 901';
        return error(901, params);
      }
      // VK drops a message whose random_id this peer already got and answers with the first one's id.
      const earlier = idOfRandom.get(`${call.peer_id}:${call.random_id}`);
      if (earlier !== undefined) {
        call.answer = 'duplicate';
        return { response: earlier };
      }
      const id = state.nextMessageId++;
      idOfRandom.set(`${call.peer_id}:${call.random_id}`, id);
      state.delivered.push({ id, peer_id: call.peer_id, message: call.message, attachment: call.attachment });
      return { response: id };
    }
    if (injected) return error(injected, params);
    switch (name) {
      case 'groups.getLongPollServer':
        if (Number(params.group_id) !== groupId) return error(100, params);
        return { response: { key: state.key, server: `${base}/lp/wh${groupId}`, ts: String(state.events.length + 1) } };
      case 'messages.edit': {
        const sent = state.delivered.find((m) => m.id === Number(params.message_id) && m.peer_id === Number(params.peer_id));
        if (!sent) return error(100, params);
        sent.message = params.message;
        state.edited.push({ peer_id: sent.peer_id, message_id: sent.id, message: params.message ?? '' });
        return { response: 1 };
      }
      case 'messages.delete': {
        // delete_for_all answers per message id: 1 deleted.
        const ids = String(params.message_ids).split(',').map(Number);
        if (params.delete_for_all !== '1') return error(100, params);
        for (const id of ids) state.deleted.push({ peer_id: Number(params.peer_id), message_id: id });
        state.delivered = state.delivered.filter((m) => !ids.includes(m.id));
        return { response: Object.fromEntries(ids.map((id) => [id, 1])) };
      }
      case 'users.get': {
        const users = String(params.user_ids).split(',').map(Number);
        return { response: users.map((id) => ({ id, first_name: state.users.get(id)?.first_name ?? 'DELETED', last_name: state.users.get(id)?.last_name ?? '', can_access_closed: true, is_closed: false })) };
      }
      case 'photos.getMessagesUploadServer':
        return { response: { upload_url: `${base}/upload/photo?peer=${params.peer_id}`, album_id: -64, group_id: groupId } };
      case 'photos.saveMessagesPhoto': {
        const uploaded = JSON.parse(params.photo ?? '[]') as Array<{ file: string }>;
        if (!params.hash || uploaded.length === 0) return error(100, params);
        const id = state.nextPhotoId++;
        return { response: [{ id, owner_id: -groupId, access_key: `ak${id}`, album_id: -64, sizes: [{ type: 'x', url: `${base}/files/${uploaded[0]!.file}`, width: 604, height: 604 }] }] };
      }
      case 'docs.getMessagesUploadServer':
        return { response: { upload_url: `${base}/upload/doc?peer=${params.peer_id}&type=${params.type ?? 'doc'}` } };
      case 'docs.save': {
        if (!params.file) return error(100, params);
        const id = state.nextPhotoId++;
        return { response: { type: 'doc', doc: { id, owner_id: -groupId, title: params.title ?? 'file', size: state.files.get(params.file)?.data.length ?? 0, ext: 'bin', url: `${base}/files/${params.file}`, type: 8 } } };
      }
      default:
        return error(3, params);
    }
  }
  const idOfRandom = new Map<string, number>();

  async function longPoll(url: URL, res: http.ServerResponse) {
    if (state.longPollDown) {
      res.writeHead(502).end('Bad Gateway');
      return;
    }
    if (url.searchParams.get('key') !== state.key) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ failed: 2 }));
      return;
    }
    const ts = Number(url.searchParams.get('ts'));
    state.polledTs = Math.max(state.polledTs, ts);
    if (ts > state.events.length + 1) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ failed: 1, ts: String(state.events.length + 1) }));
      return;
    }
    if (state.events.length < ts) {
      // Nothing new: hang until an event arrives or the wait is over (capped so tests never hang long).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(Number(url.searchParams.get('wait') ?? 25), 2) * 1000);
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    const updates = state.events.slice(ts - 1);
    if (updates.length && !res.destroyed) state.batches.push({ ts, events: updates.length });
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ts: String(state.events.length + 1), updates }));
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

    if (url.pathname.startsWith('/lp/')) return longPoll(url, res);
    const methodMatch = url.pathname.match(/^\/method\/([\w.]+)$/);
    if (methodMatch && req.method === 'POST') {
      const params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
      return json(method(methodMatch[1]!, params));
    }
    const uploadMatch = url.pathname.match(/^\/upload\/(photo|doc)$/);
    if (uploadMatch && req.method === 'POST') {
      const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
      const [field, file] = [...form.entries()].find(([, value]) => typeof value !== 'string') ?? [];
      if (!file || typeof file === 'string') return json({ error: 'no file' });
      const kind = uploadMatch[1] as 'photo' | 'doc';
      const stored = `f${state.files.size + 1}`;
      state.files.set(stored, { data: Buffer.from(await file.arrayBuffer()), type: file.type });
      state.uploads.push({ kind, field: field!, fileName: file.name, size: file.size });
      return json(kind === 'photo' ? { server: 777, photo: JSON.stringify([{ file: stored }]), hash: `h${stored}` } : { file: stored });
    }
    const fileMatch = url.pathname.match(/^\/files\/(\w+)$/);
    const stored = fileMatch && state.files.get(fileMatch[1]!);
    if (stored) return res.writeHead(200, { 'content-type': stored.type || 'application/octet-stream' }).end(stored.data);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let nextIncomingId = 1;
  return {
    apiBaseUrl: `${base}/method`,
    baseUrl: base,
    token,
    groupId,
    state,
    /** Queues a Bots Long Poll / Callback API event and wakes a waiting long poll. */
    pushEvent(event: Record<string, unknown>) {
      state.events.push(event);
      for (const wake of [...waiters]) wake();
    },
    /** A message_new event from a person writing to the community (API 5.199 shape). */
    messageNew(fromId: number, message: Record<string, unknown> = {}) {
      const id = nextIncomingId++;
      return {
        group_id: groupId,
        type: 'message_new',
        event_id: `ev${id}-${Math.random().toString(36).slice(2, 8)}`,
        v: '5.199',
        object: {
          message: { date: Math.floor(Date.now() / 1000), from_id: fromId, id, out: 0, version: 1, attachments: [], conversation_message_id: id, fwd_messages: [], important: false, is_hidden: false, peer_id: fromId, random_id: 0, text: '', ...message },
          client_info: { button_actions: ['text'], keyboard: true, inline_keyboard: true, carousel: true, lang_id: 0 },
        },
      };
    },
    /** A message_edit event: the person changed the text of a message they sent (the same message object, new text). */
    messageEdit(newEvent: { object: { message: Record<string, unknown> } }, text: string) {
      const message = { ...newEvent.object.message, text, update_time: Math.floor(Date.now() / 1000) };
      return { group_id: groupId, type: 'message_edit', event_id: `ev-edit-${Math.random().toString(36).slice(2, 8)}`, v: '5.199', object: message };
    },
    /** Makes the next calls of `method` answer with these VK error codes. */
    failNext(methodName: string, ...codes: number[]) {
      state.failNext.set(methodName, [...(state.failNext.get(methodName) ?? []), ...codes]);
    },
    addFile(name: string, data: Buffer, type: string) {
      state.files.set(name, { data, type });
      return `${base}/files/${name}`;
    },
    reset() {
      Object.assign(state, { calls: [], sends: [], delivered: [], edited: [], deleted: [], uploads: [], batches: [], longPollDown: false });
      state.blocked.clear();
      state.failNext.clear();
      idOfRandom.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const wake of [...waiters]) wake();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
