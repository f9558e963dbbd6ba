// One hostile (or simply busy) web chat visitor against the real gateway (`src/main.ts` as a child process with its
// embedded database): floods of frames, sockets, uploads, over-size frames and half-sent requests, then a SIGTERM
// while it goes on. Prints the gateway's RSS before/peak/after each flood, /healthz latency during it, and what
// was stored. `npx tsx bench/webchat-abuse.ts`; BENCH_WEBCHAT_FRAMES, BENCH_WEBCHAT_SOCKETS, BENCH_WEBCHAT_UPLOADS,
// BENCH_WEBCHAT_SLOWLORIS to vary.
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import mongoose from 'mongoose';
import WebSocket from 'ws';
import { GatewayProcess } from '../test/support/gateway-process.js';
import { freePort } from '../src/util/free-port.js';

const FRAMES = Number(process.env.BENCH_WEBCHAT_FRAMES ?? 100_000);
const SOCKETS = Number(process.env.BENCH_WEBCHAT_SOCKETS ?? 2000);
const UPLOADS = Number(process.env.BENCH_WEBCHAT_UPLOADS ?? 60);
const UPLOAD_BYTES = 5 * 1024 * 1024;
const SLOWLORIS = Number(process.env.BENCH_WEBCHAT_SLOWLORIS ?? 1000);
const UNSENT_TTL_S = 20;

const dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-webchat-abuse-'));
const port = await freePort();
const gateway = new GatewayProcess({
  dir,
  port,
  env: {
    WEBCHAT_ENABLED: 'true',
    WEBCHAT_SECRET: 'bench-secret-0123456789-abcdefghijklmnopqrstuv',
    WEBCHAT_UNSENT_UPLOAD_TTL: `${UNSENT_TTL_S}s`,
    // Agenda's poller busy, as it is with jobs planned: the stop under load must still be clean.
    JOBS_POLL_INTERVAL: '250ms',
  },
});
const base = `http://127.0.0.1:${port}`;
console.error(`starting the gateway (log: ${gateway.logPath})…`);
await gateway.start();

// ---- samplers: the gateway's RSS and /healthz, all the time --------------------------------------------------
const rssNow = () => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
};
let peak = 0;
let latencies: number[] = [];
const rssSampler = setInterval(() => {
  try {
    peak = Math.max(peak, rssNow());
  } catch {
    // the process is gone
  }
}, 50);
// /healthz is asked from a thread of its own: the floods keep this one busy, which must not count as the gateway's delay.
const healthSampler = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
  let on = true;
  parentPort.on('message', () => (on = false));
  (async () => {
    while (on) {
      const started = performance.now();
      await fetch(workerData + '/healthz', { signal: AbortSignal.timeout(10000) }).then((r) => r.arrayBuffer()).catch(() => undefined);
      parentPort.postMessage(performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
    process.exit(0);
  })();`,
  { eval: true, workerData: base },
);
healthSampler.on('message', (ms: number) => latencies.push(ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
};

interface Row {
  flood: string;
  before: number;
  peak: number;
  after: number;
  p99: number;
  max: number;
  samples: number;
  outcome: string;
}
const rows: Row[] = [];

async function flood(name: string, run: () => Promise<string>): Promise<void> {
  console.error(`flood: ${name}…`);
  await new Promise((r) => setTimeout(r, 1000));
  const before = rssNow();
  peak = before;
  latencies = [];
  const outcome = await run();
  const during = latencies;
  await new Promise((r) => setTimeout(r, 3000));
  rows.push({ flood: name, before, peak, after: rssNow(), p99: percentile(during, 99), max: Math.max(...during), samples: during.length, outcome });
}

async function session(): Promise<{ token: string; visitorId: string }> {
  const response = await fetch(`${base}/webchat/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return (await response.json()) as { token: string; visitorId: string };
}

/** A WebSocket from a client address of its own (127.0.0.x): each flood is another address, like another visitor. */
function socketOf(token: string, localAddress: string): Promise<{ ws?: WebSocket; status?: number; closed: Promise<number> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/webchat/ws?token=${encodeURIComponent(token)}`, { localAddress });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode, closed });
      ws.terminate();
    });
    ws.once('error', () => resolve({ status: 0, closed }));
  });
}

async function logLinesSince(count: number) {
  return (await gateway.logLines()).slice(count);
}

// ---- the floods ------------------------------------------------------------------------------------------------
await flood(`${FRAMES.toLocaleString('en')} typing and ping frames on one socket in 3 s`, async () => {
  const { token } = await session();
  const { ws, closed } = await socketOf(token, '127.0.0.2');
  if (!ws) return 'socket refused';
  let pongs = 0;
  ws.on('message', (data) => (JSON.parse(String(data)).type === 'pong' ? pongs++ : 0));
  await Promise.race([new Promise((r) => ws.once('message', r)), closed]);
  let sent = 0;
  const deadline = Date.now() + 3000;
  while (sent < FRAMES && Date.now() < deadline && ws.readyState === WebSocket.OPEN) {
    for (let i = 0; i < 500 && sent < FRAMES; i++, sent++) ws.send(sent % 2 ? '{"type":"typing"}' : '{"type":"ping"}');
    await new Promise((r) => setImmediate(r));
  }
  const code = await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open'), 5000))]);
  ws.terminate();
  return `${sent.toLocaleString('en')} sent before the socket closed; close code ${code}; ${pongs} pongs`;
});

await flood('the same visitor flooding frames for 10 s, reconnecting whenever closed', async () => {
  const { token } = await session();
  let connects = 0;
  let refused = 0;
  let sent = 0;
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const { ws } = await socketOf(token, '127.0.0.7');
    if (!ws) {
      refused += 1;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    connects += 1;
    while (ws.readyState === WebSocket.OPEN && Date.now() < end) {
      for (let i = 0; i < 500; i++, sent++) ws.send(sent % 2 ? '{"type":"typing"}' : '{"type":"ping"}');
      await new Promise((r) => setImmediate(r));
    }
    ws.terminate();
  }
  return `${connects} sockets accepted, ${refused} connects refused (429), ${sent.toLocaleString('en')} frames sent`;
});

await flood('50 sockets each sending a 20 KB frame (over the size limit)', async () => {
  const lines = (await gateway.logLines()).length;
  const codes = new Map<number | string, number>();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      const { token } = await session();
      const { ws, closed, status } = await socketOf(token, '127.0.0.3');
      if (!ws) return codes.set(`HTTP ${status}`, (codes.get(`HTTP ${status}`) ?? 0) + 1);
      await Promise.race([new Promise((r) => ws.once('message', r)), closed]);
      ws.send(JSON.stringify({ type: 'message', clientId: 'oversize-0001', text: 'x'.repeat(20 * 1024) }));
      const code = await closed;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }),
  );
  const logged = await logLinesSince(lines);
  const errors = logged.filter((l) => (l.level as number) >= 50).length;
  const withStack = logged.filter((l) => JSON.stringify(l).includes('"stack"')).length;
  return `closed: ${[...codes].map(([c, n]) => `${n}× ${c}`).join(', ')}; log lines ${logged.length} (error level ${errors}, with a stack ${withStack})`;
});

await flood(`${SOCKETS.toLocaleString('en')} WebSockets with one token from one address`, async () => {
  const { token } = await session();
  const outcomes = { opened: 0, refused: 0, tabsClosed: 0, other: 0 };
  const open = new Set<WebSocket>();
  for (let i = 0; i < SOCKETS; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, SOCKETS - i) }, async () => {
        const { ws, status, closed } = await socketOf(token, '127.0.0.4');
        if (!ws) return void (status === 429 ? outcomes.refused++ : outcomes.other++);
        outcomes.opened += 1;
        open.add(ws);
        void closed.then((code) => {
          open.delete(ws);
          if (code === 4409) outcomes.tabsClosed += 1;
        });
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 2000));
  const stillOpen = open.size;
  for (const ws of open) ws.terminate();
  return `upgraded ${outcomes.opened}, refused with 429: ${outcomes.refused}, other failures ${outcomes.other}, closed as the oldest tab: ${outcomes.tabsClosed}; open at the end: ${stillOpen}`;
});

let database: mongoose.Connection | undefined;
async function stored() {
  if (!database) {
    const announced = (await gateway.logLines()).reverse().find((line) => typeof line.port === 'number' && /embedded/i.test(String(line.msg)));
    database = await mongoose.createConnection(`mongodb://127.0.0.1:${announced!.port}/support`, { serverSelectionTimeoutMS: 5000 }).asPromise();
  }
  const files = await database.db!.collection('webchatfiles').find({}, { projection: { size: 1 } }).toArray();
  return {
    messages: await database.db!.collection('messages').countDocuments(),
    files: files.length,
    megabytes: files.reduce((sum, f) => sum + Number(f.size), 0) / 1024 / 1024,
    unsent: await database.db!.collection('webchatunsentuploads').countDocuments(),
  };
}

await flood(`${UPLOADS} parallel uploads of 5 MB (${Math.round((UPLOADS * UPLOAD_BYTES) / 1024 / 1024)} MB), one visitor, never sent`, async () => {
  const { token } = await session();
  const body = Buffer.alloc(UPLOAD_BYTES, 'z');
  const statuses = new Map<string, number>();
  const upload = async () => {
    const response = await fetch(`${base}/webchat/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` } }).catch(() => undefined);
    const answer = response ? `${response.status}${response.status === 200 ? '' : ` ${((await response.json().catch(() => ({}))) as { code?: string }).code}`}` : 'failed';
    statuses.set(answer, (statuses.get(answer) ?? 0) + 1);
    return answer;
  };
  await Promise.all(Array.from({ length: UPLOADS }, upload));
  // The same visitor then sends one after the other, as fast as allowed: the hour's volume runs out.
  let sequential = 0;
  while (sequential < 30 && (await upload()).startsWith('200')) sequential += 1;
  const now = await stored();
  return `answers: ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}; stored ${now.files} files, ${now.megabytes.toFixed(0)} MB`;
});

await flood(`${SLOWLORIS.toLocaleString('en')} half-sent HTTP requests (slowloris)`, async () => {
  const started = Date.now();
  const sockets = await Promise.all(
    Array.from(
      { length: SLOWLORIS },
      () =>
        new Promise<{ socket: net.Socket; closedAt: Promise<number> }>((resolve) => {
          const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.5' });
          socket.on('error', () => undefined);
          let sentAt = started;
          // How long the gateway kept it, from its first bytes.
          const closedAt = new Promise<number>((r) => socket.once('close', () => r(Date.now() - sentAt)));
          socket.once('connect', () => {
            sentAt = Date.now();
            socket.write('POST /webchat/session HTTP/1.1\r\nHost: localhost\r\n');
            resolve({ socket, closedAt });
          });
          socket.once('error', () => resolve({ socket, closedAt }));
        }),
    ),
  );
  const trickle = setInterval(() => {
    for (const { socket } of sockets) if (!socket.destroyed) socket.write('X-Slow: 1\r\n');
  }, 2000);
  await new Promise((r) => setTimeout(r, 15_000));
  clearInterval(trickle);
  const open = sockets.filter(({ socket }) => !socket.destroyed).length;
  const closedTimes = await Promise.all(sockets.filter(({ socket }) => socket.destroyed).map(({ closedAt }) => closedAt));
  for (const { socket } of sockets) socket.destroy();
  return `still open after 15 s: ${open}; the others were dropped ${(Math.min(...closedTimes) / 1000).toFixed(1)}–${(Math.max(...closedTimes) / 1000).toFixed(1)} s after their first bytes`;
});

console.error(`waiting for the unsent-upload sweep (WEBCHAT_UNSENT_UPLOAD_TTL=${UNSENT_TTL_S}s)…`);
const beforeSweep = await stored();
await new Promise((r) => setTimeout(r, (UNSENT_TTL_S + 8) * 1000));
const afterSweep = await stored();

// ---- SIGTERM in the middle of it ------------------------------------------------------------------------------
console.error('flood again, then SIGTERM…');
const linesBeforeStop = (await gateway.logLines()).length;
const { token } = await session();
const { ws } = await socketOf(token, '127.0.0.6');
const stopFlood = { on: true };
void (async () => {
  while (stopFlood.on && ws?.readyState === WebSocket.OPEN) {
    for (let i = 0; i < 200; i++) ws.send('{"type":"typing"}');
    await new Promise((r) => setImmediate(r));
  }
})();
const uploadsUnderway = Array.from({ length: 20 }, async () => {
  const { token: t } = await session();
  return fetch(`${base}/webchat/upload`, { method: 'POST', body: Buffer.alloc(UPLOAD_BYTES, 'y'), headers: { 'content-type': 'text/plain', authorization: `Bearer ${t}` } }).catch(() => undefined);
});
const sessionsUnderway = Array.from({ length: 200 }, () => session().catch(() => undefined));
await new Promise((r) => setTimeout(r, 700));
const stopAt = Date.now();
await database?.close();
const exitCode = await gateway.stop();
const stopMs = Date.now() - stopAt;
stopFlood.on = false;
await Promise.allSettled([...uploadsUnderway, ...sessionsUnderway]);
healthSampler.postMessage('stop');
clearInterval(rssSampler);
const stopLines = (await gateway.logLines()).slice(linesBeforeStop);
const unhandled = stopLines.filter((l) => l.unhandled !== undefined);

// ---- report --------------------------------------------------------------------------------------------------
const mb = (n: number) => `${n.toFixed(0)} MB`;
console.log(`\nweb chat abuse, one visitor, default limits (gateway RSS; the embedded database is a process of its own)\n`);
console.log('| flood | RSS before / peak / after | /healthz p99 (max; samples) during | what happened |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.flood} | ${mb(r.before)} / ${mb(r.peak)} / ${mb(r.after)} (+${mb(r.peak - r.before)}) | ${r.p99.toFixed(0)} ms (${r.max.toFixed(0)} ms; ${r.samples}) | ${r.outcome} |`);
console.log(`\nstored after the floods: ${beforeSweep.messages} messages, ${beforeSweep.files} web chat files (${beforeSweep.megabytes.toFixed(0)} MB, ${beforeSweep.unsent} never sent); ${UNSENT_TTL_S + 8} s later (WEBCHAT_UNSENT_UPLOAD_TTL=${UNSENT_TTL_S}s): ${afterSweep.files} files (${afterSweep.megabytes.toFixed(0)} MB)`);
console.log(`SIGTERM during a flood: exit code ${exitCode} after ${(stopMs / 1000).toFixed(1)} s; unhandled errors logged: ${unhandled.length}${unhandled.length ? ` (${unhandled.map((l) => String((l.err as { type?: string } | undefined)?.type ?? l.msg)).join(', ')})` : ''}; error-level lines during the stop: ${stopLines.filter((l) => (l.level as number) >= 50).length}`);
console.log(`gateway log: ${gateway.logPath}`);
process.exit(0);
