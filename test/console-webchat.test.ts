import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import { startTelegramHarness, eventually, type TelegramHarness } from './support/gateway.js';
import { ConversationModel } from '../src/db/models/index.js';
import { openSession, visitorSocket } from './support/webchat-client.js';

/** A web chat visitor as operators see them: the whole gateway, its web chat reached over HTTP and WebSocket. */
let h: TelegramHarness;
beforeAll(async () => {
  h = await startTelegramHarness({ forum: true });
  await h.gateway.http.ready();
});
afterAll(() => h.stop());
beforeEach(() => h.reset());

const picture = Buffer.from(new Resvg('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="100%" height="100%" fill="#2a9d8f"/></svg>').render().asPng());

async function visitor() {
  const { token } = (await h.gateway.http.inject({ method: 'POST', url: '/webchat/session', payload: {} })).json() as { token: string };
  const ws = await h.gateway.http.injectWS(`/webchat/ws?token=${encodeURIComponent(token)}`);
  let sent = 0;
  return {
    token,
    send: (frame: Record<string, unknown>) => ws.send(JSON.stringify(frame)),
    say: (text: string, files: string[] = []) => ws.send(JSON.stringify({ type: 'message', clientId: `client-${++sent}-abcdef`, text, files })),
    close: () => ws.terminate(),
  };
}

describe('a web chat visitor in the operators’ group', () => {
  it('shows an uploaded picture in the chat’s topic as a photo with the visitor’s words', async () => {
    const dana = await visitor();
    const upload = await h.gateway.http.inject({ method: 'POST', url: '/webchat/upload', payload: picture, headers: { authorization: `Bearer ${dana.token}`, 'content-type': 'image/png', 'x-file-name': 'parcel.png' } });
    expect(upload.statusCode).toBe(200);
    dana.say('This is what arrived', [(upload.json() as { id: string }).id]);
    const conversation = await eventually(() => ConversationModel.findOne({ channel: 'webchat', 'console.topicId': { $exists: true } }));
    const shown = await eventually(() => h.telegram.groupMessages(conversation.console!.topicId!).find((m) => m.method === 'sendPhoto'));
    expect(shown.file).toEqual({ name: 'parcel.png', size: picture.length });
    expect(shown.caption).toContain('This is what arrived');
    dana.close();
  });

  it('shows in the chat’s topic that the visitor is typing, at most every few seconds', async () => {
    const dana = await visitor();
    dana.say('Hello?');
    const conversation = await eventually(() => ConversationModel.findOne({ channel: 'webchat', 'console.topicId': { $exists: true } }));
    dana.send({ type: 'typing' });
    dana.send({ type: 'typing' });
    const actions = () => h.telegram.state.calls.filter((c) => c.method === 'sendChatAction');
    await eventually(() => actions().length === 1);
    expect(actions()[0]!.params).toMatchObject({ chat_id: h.telegram.groupId, action: 'typing', message_thread_id: conversation.console!.topicId });
    await new Promise((r) => setTimeout(r, 300));
    expect(actions()).toHaveLength(1);
    dana.close();
  });

  it('tells a visitor whose browser is in Russian that the chat is closed in Russian', async () => {
    const session = await openSession(h.gateway.http);
    const ivan = await visitorSocket(h.gateway.http, session.token);
    ivan.send({ type: 'message', clientId: 'client-ru-0000001', text: 'Hello, where is my parcel?', profile: { language: 'ru-RU' } });
    const conversation = await eventually(() => ConversationModel.findOne({ channel: 'webchat', 'console.topicId': { $exists: true } }));
    h.telegram.operatorWrites({ id: 1, first_name: 'Ada' }, { text: '/close solved' }, { threadId: conversation.console!.topicId! });
    const farewell = await eventually(() => ivan.frames.find((f) => f.type === 'message' && JSON.stringify(f).includes('Этот диалог закрыт')));
    expect(JSON.stringify(farewell)).not.toContain('This conversation');
    ivan.ws.terminate();
  });
});
