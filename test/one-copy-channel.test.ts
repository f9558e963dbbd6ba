import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { testLogger } from './support/logger.js';
import { FakeWhatsAppAccount, FakeWhatsAppClient } from './support/fake-whatsapp-client.js';
import { WHATSAPP_WEB_REF_PREFIX, WhatsAppWebChannel } from '../channels/whatsapp-web.js';
import { withInlineBytes } from '../src/attachments.js';
import { OneCopyChannel } from '../channels/one-copy-channel.js';
import { JobLeaseModel } from '../src/db/models/index.js';
import { DeliveryError } from '../src/outbox/errors.js';
import type { ChannelSink } from '../src/domain.js';

useTestDatabase();

const LEASE_MS = 600;
const sink: ChannelSink = { inbound: async () => undefined };
const message = { text: 'Your parcel left the warehouse', attachments: [] };
const started: OneCopyChannel[] = [];

/** A gateway copy's WhatsApp Web, on the business phone's one account; `clients` are the browsers it opened. */
function copy(instanceId: string, account: FakeWhatsAppAccount) {
  const clients: FakeWhatsAppClient[] = [];
  const inner = new WhatsAppWebChannel({
    chromiumPath: '/usr/bin/chromium',
    dataDir: path.join(tmpdir(), `one-copy-${instanceId}`),
    logger: testLogger,
    reconnect: { baseMs: 40, capMs: 200 },
    catchUp: { chats: 0 },
    createClient: () => {
      const client = new FakeWhatsAppClient(account);
      clients.push(client);
      return client;
    },
  });
  const channel = new OneCopyChannel(inner, { instanceId, leaseMs: LEASE_MS, attachmentPrefix: WHATSAPP_WEB_REF_PREFIX, logger: testLogger });
  started.push(channel);
  return { channel, clients };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function sendError(channel: OneCopyChannel): Promise<DeliveryError> {
  const error = await channel.send('491701234567@c.us', message, { idempotencyKey: 'item-1' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((channel) => channel.stop()));
});

describe('WhatsApp Web with several gateway copies', () => {
  it('runs in one copy only; the other hands its sends to that copy, and takes over when it stops', async () => {
    const account = new FakeWhatsAppAccount();
    const a = copy('gw-a', account);
    const b = copy('gw-b', account);
    await a.channel.start(sink);
    await b.channel.start(sink);
    await until(() => a.clients.length + b.clients.length === 1);
    const [running, standing] = a.clients.length === 1 ? [a, b] : [b, a];
    const runningId = running === a ? 'gw-a' : 'gw-b';
    await new Promise((r) => setTimeout(r, LEASE_MS));
    expect(standing.clients).toHaveLength(0);
    expect(standing.channel.state()).toBe('elsewhere');

    running.clients[0]!.emit('ready');
    await until(() => running.channel.state() === 'up');
    expect(await running.channel.send('491701234567@c.us', message, { idempotencyKey: 'item-0' })).toMatchObject({ externalMessageId: expect.any(String) });
    const handed = await sendError(standing.channel);
    expect(handed).toMatchObject({ kind: 'elsewhere', instance: runningId });

    await running.channel.stop();
    expect(running.clients[0]!.destroyed).toBe(true);
    await until(() => standing.clients.length === 1);
    standing.clients[0]!.emit('ready');
    await until(() => standing.channel.state() === 'up');
    expect(await standing.channel.send('491701234567@c.us', message, { idempotencyKey: 'item-1' })).toMatchObject({ externalMessageId: expect.any(String) });
  });

  it('takes over from a copy that died, once its lease ran out', async () => {
    // A copy killed while running WhatsApp Web: its lease is still valid for a moment, and never renewed.
    await JobLeaseModel.create({ _id: 'channel:whatsapp:1', name: 'channel:whatsapp', epoch: 1, holder: 'gw-dead', acquiredAt: new Date(), expiresAt: new Date(Date.now() + LEASE_MS) });
    const b = copy('gw-b', new FakeWhatsAppAccount());
    await b.channel.start(sink);
    expect(await sendError(b.channel)).toMatchObject({ kind: 'elsewhere', instance: 'gw-dead' });
    // A customer's photo still in the running copy's browser: its relay is handed to that copy too.
    const photo = { kind: 'photo' as const, ref: `${WHATSAPP_WEB_REF_PREFIX}:false_491701234567@c.us_3EB0PHOTO` };
    await expect(withInlineBytes(photo)).rejects.toMatchObject({ kind: 'elsewhere', instance: 'gw-dead' });
    expect(b.clients).toHaveLength(0);
    await until(() => b.clients.length === 1, LEASE_MS * 4);
  });

  it('holds sends while no copy runs it, to be retried', async () => {
    const b = copy('gw-b', new FakeWhatsAppAccount());
    expect(await sendError(b.channel)).toMatchObject({ kind: 'transient' });
  });
});
