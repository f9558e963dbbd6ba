import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';

/**
 * A local Graph API for Messenger: `POST /v21.0/me/messages?access_token=` (JSON or multipart with
 * `filedata`) answering `{ recipient_id, message_id }` or `{ error: { message, type, code, error_subcode,
 * fbtrace_id } }`, enforcing the messaging window as Messenger does (RESPONSE within 24 h of the person's
 * last message, MESSAGE_TAG HUMAN_AGENT within 7 days: error 10 / 2018278 otherwise) and 551 for people who
 * blocked the page; `GET /v21.0/<psid>?fields=` for profiles (which can be made slow and failing). Also builds
 * the signed webhooks Facebook sends, and signs any body the way Facebook would.
 */
export interface GraphSend {
  recipient: { id: string };
  messaging_type?: string;
  tag?: string;
  message: { text?: string; attachment?: { type: string; payload?: unknown } };
  file?: { name: string; size: number; type: string };
  answer: string;
}

export interface GraphErrorSpec {
  status: number;
  code: number;
  subcode?: number;
  message: string;
  retryAfter?: number;
}

export async function startFakeGraphApi(options: { pageToken?: string; appSecret?: string; pageId?: string } = {}) {
  const pageToken = options.pageToken ?? 'EAAG-page-token';
  const appSecret = options.appSecret ?? 'app-secret-123';
  const pageId = options.pageId ?? '1122334455';
  const state = {
    sends: [] as GraphSend[],
    profileRequests: [] as string[],
    profiles: new Map<string, { first_name: string; last_name: string; locale?: string }>(),
    /** While set, the User Profile API answers 500 (a Graph outage); each answer waits profileDelayMs. */
    profileDown: false,
    profileDelayMs: 0,
    /** When each person last wrote to the page (ms), as Messenger itself knows it. */
    lastInbound: new Map<string, number>(),
    unavailable: new Set<string>(),
    failNext: [] as GraphErrorSpec[],
    nextMid: 1,
  };

  function graphError(spec: GraphErrorSpec) {
    return { status: spec.status, body: { error: { message: spec.message, type: 'OAuthException', code: spec.code, error_subcode: spec.subcode, fbtrace_id: 'AbCdEf' } }, retryAfter: spec.retryAfter };
  }

  function handleSend(send: GraphSend): { status: number; body: unknown; retryAfter?: number } {
    state.sends.push(send);
    const injected = state.failNext.shift();
    const reject = (spec: GraphErrorSpec) => {
      send.answer = `error ${spec.code}`;
      return graphError(spec);
    };
    if (injected) return reject(injected);
    const psid = send.recipient?.id;
    if (!psid || !send.messaging_type) return reject({ status: 400, code: 100, message: '(#100) The parameter recipient or messaging_type is required' });
    if (state.unavailable.has(psid)) return reject({ status: 400, code: 551, subcode: 1545041, message: "(#551) This person isn't available right now." });
    const age = Date.now() - (state.lastInbound.get(psid) ?? 0);
    const allowed = send.messaging_type === 'RESPONSE' ? age <= 24 * 3600_000 : send.messaging_type === 'MESSAGE_TAG' && send.tag === 'HUMAN_AGENT' ? age <= 7 * 24 * 3600_000 : false;
    if (!allowed) return reject({ status: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' });
    send.answer = 'sent';
    return { status: 200, body: { recipient_id: psid, message_id: `m_page${state.nextMid++}` } };
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const reply = (answer: { status: number; body: unknown; retryAfter?: number }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
      res.writeHead(answer.status, headers).end(JSON.stringify(answer.body));
    };
    if (url.searchParams.get('access_token') !== pageToken) {
      return reply({ status: 400, body: { error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, fbtrace_id: 'x' } } });
    }
    if (url.pathname === '/v21.0/me/messages' && req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('multipart/form-data')) {
        const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
        const field = (name: string) => {
          const value = form.get(name);
          return typeof value === 'string' ? value : undefined;
        };
        const file = form.get('filedata');
        return reply(
          handleSend({
            recipient: JSON.parse(field('recipient') ?? '{}'),
            messaging_type: field('messaging_type'),
            tag: field('tag'),
            message: JSON.parse(field('message') ?? '{}'),
            file: file && typeof file !== 'string' ? { name: file.name, size: file.size, type: file.type } : undefined,
            answer: '',
          }),
        );
      }
      return reply(handleSend({ ...(JSON.parse(raw.toString('utf8')) as GraphSend), answer: '' }));
    }
    const profile = url.pathname.match(/^\/v21\.0\/(\d+)$/);
    if (profile && req.method === 'GET') {
      state.profileRequests.push(profile[1]!);
      await new Promise((resolve) => setTimeout(resolve, state.profileDelayMs));
      if (state.profileDown) return reply({ status: 500, body: { error: { message: 'An unexpected error has occurred. Please retry your request later.', type: 'OAuthException', code: 2, is_transient: true } } });
      const found = state.profiles.get(profile[1]!);
      if (!found) return reply({ status: 400, body: { error: { message: 'Unsupported get request.', type: 'GraphMethodException', code: 100, error_subcode: 33 } } });
      return reply({ status: 200, body: { ...found, id: profile[1] } });
    }
    reply({ status: 404, body: { error: { message: 'Unknown path components', type: 'OAuthException', code: 2500 } } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let nextInboundMid = 1;
  /** Any body as a signed webhook request: its X-Hub-Signature-256 header made with the app secret (or `secret`). */
  function signed(body: string, secret = appSecret) {
    return { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` } };
  }
  /** A webhook POST body as Facebook sends it, with its X-Hub-Signature-256 header. */
  function webhook(messaging: Array<Record<string, unknown> | null>, secret = appSecret) {
    return signed(JSON.stringify({ object: 'page', entry: [{ id: pageId, time: Date.now(), messaging }] }), secret);
  }

  return {
    graphApiBaseUrl: `${base}/v21.0`,
    pageToken,
    appSecret,
    pageId,
    state,
    webhook,
    signed,
    /** A person's message event; Messenger now counts its time as their last message. */
    customerMessage(psid: string, message: Record<string, unknown>, at = Date.now()) {
      state.lastInbound.set(psid, Math.max(state.lastInbound.get(psid) ?? 0, at));
      return { sender: { id: psid }, recipient: { id: pageId }, timestamp: at, message: { mid: `m_in${nextInboundMid++}`, ...message } };
    },
    customerPressed(psid: string, postback: { title: string; payload: string }, at = Date.now()) {
      state.lastInbound.set(psid, Math.max(state.lastInbound.get(psid) ?? 0, at));
      return { sender: { id: psid }, recipient: { id: pageId }, timestamp: at, postback: { mid: `m_pb${nextInboundMid++}`, ...postback } };
    },
    reset() {
      Object.assign(state, { sends: [], profileRequests: [], failNext: [], profileDown: false, profileDelayMs: 0 });
      state.unavailable.clear();
      state.lastInbound.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
