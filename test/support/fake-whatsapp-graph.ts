import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac } from 'node:crypto';

/**
 * A local Graph API for the WhatsApp Business Cloud API, after Meta's documented contract:
 * - `POST /v21.0/<phone-number-id>/messages` (Bearer token, JSON with messaging_product "whatsapp") answering
 *   `{ messaging_product, contacts: [{ input, wa_id }], messages: [{ id: "wamid..." }] }`; a free-form message
 *   more than 24 h after the customer's last message is refused with 131047, an unknown template with 132001;
 * - `POST /v21.0/<phone-number-id>/media` (multipart: messaging_product, type, file) answering `{ id }`;
 * - `GET /v21.0/<media-id>` answering `{ url, mime_type, sha256, file_size, id }`, and that URL (Bearer token);
 * - errors as `{ error: { message, type, code, error_data: { messaging_product, details }, fbtrace_id } }`,
 *   scriptable per call (failNext) including HTTP 429 with a Retry-After header.
 * It also builds the signed webhooks Meta sends (X-Hub-Signature-256 over the raw body with the app secret), and
 * signs any body that way.
 */
export interface CloudSend {
  to: string;
  type: string;
  body: Record<string, unknown>;
  answer: string;
  at: number;
}

export interface CloudErrorSpec {
  status: number;
  code: number;
  message: string;
  details?: string;
  retryAfter?: number;
}

export async function startFakeWhatsAppGraph(options: { token?: string; appSecret?: string; phoneNumberId?: string } = {}) {
  const token = options.token ?? 'EAAG-whatsapp-token';
  const appSecret = options.appSecret ?? 'wa-app-secret-456';
  const phoneNumberId = options.phoneNumberId ?? '106540352242922';
  const state = {
    sends: [] as CloudSend[],
    uploads: [] as Array<{ id: string; type: string; fileName: string; bytes: Buffer }>,
    media: new Map<string, { bytes: Buffer; mimeType: string }>(),
    /** When each customer last wrote (ms), as WhatsApp itself knows it. */
    lastInbound: new Map<string, number>(),
    approvedTemplates: new Set<string>(['order_update:en_US', 'order_update:ru']),
    failNext: [] as CloudErrorSpec[],
    nextId: 1,
  };

  type Answer = { status: number; body: unknown; retryAfter?: number; raw?: Buffer; contentType?: string };
  const graphError = (spec: CloudErrorSpec): Answer => ({
    status: spec.status,
    body: { error: { message: spec.message, type: 'OAuthException', code: spec.code, error_data: { messaging_product: 'whatsapp', details: spec.details ?? spec.message }, fbtrace_id: 'AbCdEfWa' } },
    retryAfter: spec.retryAfter,
  });

  function handleSend(body: Record<string, unknown>): Answer {
    const send: CloudSend = { to: String(body.to ?? ''), type: String(body.type ?? 'text'), body, answer: '', at: Date.now() };
    state.sends.push(send);
    const reject = (spec: CloudErrorSpec) => {
      send.answer = `error ${spec.code}`;
      return graphError(spec);
    };
    const injected = state.failNext.shift();
    if (injected) return reject(injected);
    if (body.messaging_product !== 'whatsapp' || !send.to) return reject({ status: 400, code: 100, message: '(#100) Invalid parameter', details: 'messaging_product and to are required' });
    if (send.type === 'template') {
      const template = body.template as { name?: string; language?: { code?: string } } | undefined;
      if (!state.approvedTemplates.has(`${template?.name}:${template?.language?.code}`)) {
        return reject({ status: 404, code: 132001, message: '(#132001) Template name does not exist in the translation', details: `template name (${template?.name}) does not exist in ${template?.language?.code}` });
      }
    } else {
      const age = Date.now() - (state.lastInbound.get(send.to) ?? 0);
      if (age > 24 * 3600_000) return reject({ status: 400, code: 131047, message: 'Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' });
      if (send.type === 'text' && !(body.text as { body?: string } | undefined)?.body) return reject({ status: 400, code: 100, message: '(#100) The parameter text[body] is required.' });
      if (['image', 'document', 'audio', 'video', 'sticker'].includes(send.type)) {
        const media = body[send.type] as { id?: string } | undefined;
        if (!media?.id || !state.media.has(media.id)) return reject({ status: 400, code: 131053, message: 'Media upload error', details: 'unknown media id' });
      }
    }
    send.answer = 'sent';
    return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: send.to, wa_id: send.to }], messages: [{ id: `wamid.OUT${state.nextId++}` }] } };
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const reply = (answer: Answer) => {
      const headers: Record<string, string> = { 'content-type': answer.contentType ?? 'application/json' };
      if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
      res.writeHead(answer.status, headers).end(answer.raw ?? JSON.stringify(answer.body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) {
      return reply({ status: 401, body: { error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, fbtrace_id: 'x' } } });
    }
    if (url.pathname === `/v21.0/${phoneNumberId}/messages` && req.method === 'POST') {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return reply(graphError({ status: 400, code: 100, message: '(#100) Expected JSON' }));
      return reply(handleSend(JSON.parse(raw.toString('utf8'))));
    }
    if (url.pathname === `/v21.0/${phoneNumberId}/media` && req.method === 'POST') {
      const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
      const file = form.get('file');
      if (form.get('messaging_product') !== 'whatsapp' || !file || typeof file === 'string') return reply(graphError({ status: 400, code: 100, message: '(#100) messaging_product and file are required' }));
      const id = `media${state.nextId++}`;
      const bytes = Buffer.from(await file.arrayBuffer());
      const type = String(form.get('type') ?? file.type);
      state.media.set(id, { bytes, mimeType: type });
      state.uploads.push({ id, type, fileName: file.name, bytes });
      return reply({ status: 200, body: { id } });
    }
    const download = url.pathname.match(/^\/media-files\/([\w.-]+)$/);
    if (download && req.method === 'GET') {
      const media = state.media.get(download[1]!);
      if (!media) return reply({ status: 404, body: {} });
      return reply({ status: 200, body: undefined, raw: media.bytes, contentType: media.mimeType });
    }
    const lookup = url.pathname.match(/^\/v21\.0\/([\w.-]+)$/);
    if (lookup && req.method === 'GET') {
      const media = state.media.get(lookup[1]!);
      if (!media) return reply(graphError({ status: 400, code: 100, message: 'Unsupported get request.' }));
      return reply({ status: 200, body: { messaging_product: 'whatsapp', url: `${base}/media-files/${lookup[1]}`, mime_type: media.mimeType, sha256: createHash('sha256').update(media.bytes).digest('hex'), file_size: media.bytes.length, id: lookup[1] } });
    }
    reply(graphError({ status: 404, code: 2500, message: 'Unknown path components' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Any body as a signed webhook request: its X-Hub-Signature-256 header made with the app secret (or `secret`). */
  function signed(body: string, secret = appSecret) {
    return { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` } };
  }

  /** A webhook POST body as Meta sends it, with its X-Hub-Signature-256 header. */
  function webhook(value: { messages?: unknown[]; statuses?: unknown[]; contacts?: unknown[] }, secret = appSecret) {
    return signed(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: 'WABA-1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId }, ...value } }] }],
      }),
      secret,
    );
  }

  let nextInbound = 1;
  return {
    graphApiBaseUrl: `${base}/v21.0`,
    token,
    appSecret,
    phoneNumberId,
    state,
    webhook,
    signed,
    /** A customer's message as it appears in `value.messages`; WhatsApp now counts its time as their last message. */
    customerMessage(from: string, message: Record<string, unknown>, at = Date.now()) {
      state.lastInbound.set(from, Math.max(state.lastInbound.get(from) ?? 0, at));
      return { from, id: `wamid.IN${nextInbound++}`, timestamp: String(Math.floor(at / 1000)), type: 'text', ...message };
    },
    contact(waId: string, name: string) {
      return { wa_id: waId, profile: { name } };
    },
    status(id: string, status: string, recipient: string, errors?: Array<{ code: number; title: string; message?: string }>) {
      return { id, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipient, ...(errors ? { errors } : {}) };
    },
    /** Media the customer sent: kept on the server, reachable by id as WhatsApp does. */
    addMedia(bytes: Buffer, mimeType: string) {
      const id = `inmedia${state.nextId++}`;
      state.media.set(id, { bytes, mimeType });
      return id;
    },
    reset() {
      Object.assign(state, { sends: [], uploads: [], failNext: [] });
      state.lastInbound.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
