import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { WebchatOptions } from '../../channels/webchat.js';
import { testLogger } from './logger.js';

export const WEBCHAT_SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** A web chat's options with small, test-friendly limits; override what a test is about. */
export function webchatOptions(overrides: Partial<WebchatOptions> = {}): WebchatOptions {
  return {
    secret: WEBCHAT_SECRET,
    secretGenerated: false,
    allowedOrigins: ['*'],
    askContact: false,
    maxFileSize: 64 * 1024,
    allowedFileTypes: ['image/png', 'text/plain'],
    ratePerMinute: 1000,
    ipRatePerMinute: 10_000,
    tokenTtlMs: 3600_000,
    tabsPerVisitor: 5,
    ipConnectsPerMinute: 1000,
    historyMessages: 50,
    unsentUploadTtlMs: 3600_000,
    uploadBytesPerHour: 50 * 1024 * 1024,
    ipUploadBytesPerHour: 200 * 1024 * 1024,
    instanceId: 'webchat-test',
    logger: testLogger,
    ...overrides,
  };
}

export async function until<T>(check: () => Promise<T> | T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let addressCounter = 0;
/** A new client address for each call, so per-address limits do not mix tests. */
export const freshAddress = () => `10.9.${Math.floor(++addressCounter / 250)}.${addressCounter % 250}`;

export async function openSession(app: FastifyInstance, address = freshAddress()): Promise<{ token: string; visitorId: string }> {
  const response = await app.inject({ method: 'POST', url: '/webchat/session', payload: {}, remoteAddress: address });
  if (response.statusCode !== 200) throw new Error(`session refused: ${response.statusCode}`);
  return response.json() as { token: string; visitorId: string };
}

export type Frame = Record<string, unknown> & { type: string };

/** A visitor's WebSocket through fastify's injectWS (from a page of `origin` when given); every frame the server sends is recorded. */
export async function visitorSocket(app: FastifyInstance, token: string, address = freshAddress(), origin?: string) {
  const frames: Frame[] = [];
  let closeCode: number | undefined;
  const ws = await app.injectWS(`/webchat/ws?token=${encodeURIComponent(token)}`, { ...(origin ? { headers: { origin } } : {}), socket: { remoteAddress: address } } as never, {
    onInit: (socket) => {
      socket.on('message', (data: Buffer) => frames.push(JSON.parse(String(data)) as Frame));
      socket.on('close', (code: number) => (closeCode = code));
    },
  });
  return {
    ws,
    frames,
    closeCode: () => closeCode,
    next: (type: string, from = 0) => until(() => frames.slice(from).find((f) => f.type === type)),
    send: (frame: Record<string, unknown>) => ws.send(JSON.stringify(frame)),
    say: (clientId: string, text: string, files?: string[]) => ws.send(JSON.stringify({ type: 'message', clientId, text, files })),
  };
}

/** A logger that keeps every line it writes (parsed), for tests about what gets logged. */
export function recordingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}
