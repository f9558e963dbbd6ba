import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export type Responder = (request: RecordedRequest) => { status: number; body?: unknown; delayMs?: number } | undefined;

/**
 * A real HTTP server on a loopback port that records every request and answers 200 unless a responder
 * says otherwise (429 with retry_after, 403, 500, slow answers). Used as "the remote" in outbox tests.
 */
export async function startScriptedServer() {
  const requests: RecordedRequest[] = [];
  let responder: Responder = () => undefined;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const request = { path: req.url ?? '/', body: raw ? JSON.parse(raw) : {}, at: Date.now() };
      requests.push(request);
      const answer = responder(request) ?? { status: 200, body: { ok: true } };
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body ?? {}));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(next: Responder) {
      responder = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
