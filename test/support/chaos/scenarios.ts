import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startFakeTelegram, type FakeTelegram } from '../fake-telegram.js';
import { startFakeGraphApi } from '../fake-graph-api.js';
import { GatewayProcess } from '../gateway-process.js';
import { waitFor } from '../wait.js';
import { findServersOn } from '../../../src/db/embedded-processes.js';
import { RetryingWebhookSender } from './webhook-sender.js';
import { freePort } from '../../../src/util/free-port.js';

/** One row of the chaos table. */
export interface ChaosResult {
  scenario: string;
  sent: number;
  stored: number;
  lost: number;
  /** Customer messages stored more than once (extra copies). */
  duplicatedInDatabase: number;
  /** Extra copies of a customer message in the operators' topics that carry no "may repeat" mark. */
  duplicatedInGroup: number;
  /** Extra copies in the topics marked "↻ may repeat". */
  marked: number;
  /** From the restart (gateway or database) until every message was stored and shown. */
  recoveryMs: number;
  /** The gateway process was running when the scenario ended (it never exited by itself). */
  gatewayAlive: boolean;
  healthyAtEnd: boolean;
  /** Database servers left running on the data directory after a `kill -9` of the gateway, and after its stop. */
  orphans: number;
  /** Log lines of the last error boundary (unhandled rejections, uncaught exceptions). */
  unhandled: number;
  /** /healthz answered 503 during the database outage (the database scenario only). */
  sawUnhealthy?: boolean;
  /** The first few messages not stored or not shown, to look for in the log. */
  missing: string[];
}

export interface ChaosSize {
  messages: number;
  customers: number;
  /** How long the database stays stopped in the database scenario. */
  outageMs: number;
}

const MAY_REPEAT = '↻';
const WAIT_FOR_ALL_MS = 180_000;

/** A text that names one message and is no part of another's (`[c1-000012]` is not inside `[c1-000123]`). */
const token = (scenario: string, i: number) => `[${scenario}-${String(i).padStart(6, '0')}]`;

/** Everything one scenario runs against: the fake Bot API and Graph API, and the real gateway on a fresh data directory. */
class ChaosStage {
  readonly telegram: FakeTelegram;
  readonly graph: Awaited<ReturnType<typeof startFakeGraphApi>>;
  readonly gateway: GatewayProcess;
  readonly dbDir: string;
  private connection?: mongoose.Connection;

  private constructor(
    readonly dir: string,
    telegram: FakeTelegram,
    graph: Awaited<ReturnType<typeof startFakeGraphApi>>,
    port: number,
  ) {
    this.telegram = telegram;
    this.graph = graph;
    this.dbDir = path.join(dir, 'db');
    this.gateway = new GatewayProcess({
      dir,
      port,
      env: {
        TELEGRAM_BOT_TOKEN: telegram.token,
        OPERATOR_CHAT_ID: String(telegram.groupId),
        TELEGRAM_API_ROOT: telegram.apiRoot,
        ADMIN_TELEGRAM_IDS: '1',
        MESSENGER_PAGE_TOKEN: graph.pageToken,
        MESSENGER_APP_SECRET: graph.appSecret,
        MESSENGER_VERIFY_TOKEN: 'chaos-verify-token',
        GRAPH_API_BASE_URL: graph.graphApiBaseUrl,
        // The group's real budget (20 a minute) would turn every scenario into an hour; what is measured here is loss.
        RATE_TELEGRAM_PER_GROUP_PER_MINUTE: '100000',
        RATE_TELEGRAM_PER_CHAT_PER_SECOND: '1000',
        RATE_TELEGRAM_GLOBAL_PER_SECOND: '100000',
        OUTBOX_POLL_INTERVAL: '100ms',
      },
    });
  }

  static async create(size: ChaosSize): Promise<ChaosStage> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-chaos-'));
    const graph = await startFakeGraphApi();
    for (let i = 0; i < size.customers; i++) graph.state.profiles.set(String(customerOf(i, size)), { first_name: 'Customer', last_name: String(i) });
    return new ChaosStage(dir, await startFakeTelegram({ forum: true }), graph, await freePort());
  }

  /** The gateway's embedded database, found from the gateway's log line that announces it. */
  async database() {
    if (!this.connection) {
      const lines = await this.gateway.logLines();
      const announced = lines.reverse().find((line) => typeof line.port === 'number' && /embedded/i.test(String(line.msg)));
      if (!announced) throw new Error(`the gateway did not log its embedded database's port; see ${this.gateway.logPath}`);
      this.connection = await mongoose.createConnection(`mongodb://127.0.0.1:${announced.port}/support`, { serverSelectionTimeoutMS: 2000 }).asPromise();
    }
    return this.connection.db!;
  }

  /** How many times each customer message text was stored. */
  async storedCounts(scenario: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const messages = await (await this.database()).collection('messages').find({ direction: 'in' }, { projection: { text: 1 } }).toArray();
    for (const message of messages) {
      const match = new RegExp(`\\[${scenario}-\\d{6}\\]`).exec(String(message.text));
      if (match) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
    }
    return counts;
  }

  /** Relays in the operators' topics: each token's copies, and how many of them carry the "may repeat" mark. */
  shownCopies(scenario: string): Map<string, { copies: number; marked: number }> {
    const copies = new Map<string, { copies: number; marked: number }>();
    for (const sent of this.telegram.groupMessages()) {
      if (sent.message_thread_id === undefined) continue;
      const text = sent.text ?? sent.caption ?? '';
      for (const match of text.matchAll(new RegExp(`\\[${scenario}-\\d{6}\\]`, 'g'))) {
        const entry = copies.get(match[0]) ?? { copies: 0, marked: 0 };
        entry.copies += 1;
        if (text.includes(MAY_REPEAT)) entry.marked += 1;
        copies.set(match[0], entry);
      }
    }
    return copies;
  }

  async allStoredAndShown(scenario: string, sent: number): Promise<boolean> {
    const stored = await this.storedCounts(scenario).catch(() => new Map());
    return stored.size >= sent && this.shownCopies(scenario).size >= sent;
  }

  async account(scenario: string, sent: number, extra: Pick<ChaosResult, 'recoveryMs' | 'orphans'> & { sawUnhealthy?: boolean }): Promise<ChaosResult> {
    const stored = await this.storedCounts(scenario);
    const shown = this.shownCopies(scenario);
    let duplicatedInGroup = 0;
    let marked = 0;
    for (const { copies, marked: markedCopies } of shown.values()) {
      const extraCopies = copies - 1;
      marked += Math.min(markedCopies, extraCopies);
      duplicatedInGroup += Math.max(0, extraCopies - markedCopies);
    }
    const unhandled = (await this.gateway.logLines()).filter((line) => line.unhandled !== undefined).length;
    const missing = Array.from({ length: sent }, (_, i) => token(scenario, i)).filter((t) => !stored.has(t) || !shown.has(t));
    return {
      scenario,
      sent,
      stored: stored.size,
      lost: sent - Math.min(stored.size, shown.size),
      duplicatedInDatabase: [...stored.values()].reduce((sum, n) => sum + n - 1, 0),
      duplicatedInGroup,
      marked,
      gatewayAlive: this.gateway.alive(),
      healthyAtEnd: await this.gateway.healthy(),
      unhandled,
      missing: missing.slice(0, 10).map((t) => `${t}${stored.has(t) ? ' (stored, not shown)' : ''}`),
      ...extra,
    };
  }

  /** Waits (bounded) until every message is stored and shown, and returns how long that took. */
  async recovery(scenario: string, sent: number, since: number): Promise<number> {
    await waitFor('every message stored and shown', () => this.allStoredAndShown(scenario, sent), WAIT_FOR_ALL_MS, 250).catch(() => undefined);
    return Date.now() - since;
  }

  /** Stops the gateway gracefully and counts database servers left on its data directory. */
  async finish(): Promise<number> {
    await this.connection?.close();
    await this.gateway.stop();
    return orphansAfter(this.dbDir);
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    if (this.gateway.alive()) await this.gateway.kill9();
    await this.telegram.close();
    await this.graph.close();
    if (process.env.CHAOS_KEEP) console.error(`kept ${this.dir}`);
    else await rm(this.dir, { recursive: true, force: true });
  }
}

/** Database servers still running on the directory a few seconds after their gateway went away. */
async function orphansAfter(dbDir: string): Promise<number> {
  await waitFor('the database server to exit with its gateway', async () => (await findServersOn(dbDir)).length === 0, 10_000).catch(() => undefined);
  return (await findServersOn(dbDir)).length;
}

async function withStage(size: ChaosSize, run: (stage: ChaosStage) => Promise<ChaosResult>): Promise<ChaosResult> {
  const stage = await ChaosStage.create(size);
  try {
    return await run(stage);
  } finally {
    await stage.close();
  }
}

const customerOf = (i: number, size: ChaosSize) => 10_000 + (i % size.customers);

/** 1: customers write on Telegram (long polling); the gateway is killed with SIGKILL in the middle, then started again. */
export function telegramKill(size: ChaosSize): Promise<ChaosResult> {
  const scenario = 'tg';
  return withStage(size, async (stage) => {
    for (let i = 0; i < size.messages; i++) {
      const id = customerOf(i, size);
      stage.telegram.customerWrites({ id, first_name: `Customer ${id}` }, { text: `hello ${token(scenario, i)}` });
    }
    await stage.gateway.start();
    await waitFor('some messages stored', async () => (await stage.storedCounts(scenario)).size >= size.messages * 0.4, 60_000, 20);
    await stage.gateway.kill9();
    const orphansAfterKill = await orphansAfter(stage.dbDir);
    const restartedAt = Date.now();
    await stage.gateway.start();
    const recoveryMs = await stage.recovery(scenario, size.messages, restartedAt);
    const result = await stage.account(scenario, size.messages, { recoveryMs, orphans: orphansAfterKill });
    result.orphans += await stage.finish();
    return result;
  });
}

/** 2: Messenger webhooks, each retried by the sender until answered 2xx; the gateway is killed with SIGKILL in the middle. */
export function webhookKill(size: ChaosSize): Promise<ChaosResult> {
  const scenario = 'fb';
  return withStage(size, async (stage) => {
    await stage.gateway.start();
    const sender = new RetryingWebhookSender(`${stage.gateway.url}/webhooks/messenger`);
    for (let i = 0; i < size.messages; i++) sender.send(stage.graph.webhook([stage.graph.customerMessage(String(customerOf(i, size)), { text: `hello ${token(scenario, i)}` })]));
    await waitFor('some webhooks acknowledged', () => sender.acknowledged >= size.messages * 0.4, 60_000, 10);
    await stage.gateway.kill9();
    const orphansAfterKill = await orphansAfter(stage.dbDir);
    const restartedAt = Date.now();
    await stage.gateway.start();
    await sender.drained();
    const recoveryMs = await stage.recovery(scenario, size.messages, restartedAt);
    const result = await stage.account(scenario, size.messages, { recoveryMs, orphans: orphansAfterKill });
    result.orphans += await stage.finish();
    return result;
  });
}

/**
 * 3: customers write on Telegram and Messenger at a steady pace while the embedded database is stopped
 * (SIGSTOP: it hangs, as a database under a stalled disk does) and then killed (SIGKILL: the gateway's
 * supervisor starts it again).
 */
export function databaseOutage(size: ChaosSize): Promise<ChaosResult> {
  const scenario = 'db';
  return withStage(size, async (stage) => {
    await stage.gateway.start();
    const [server] = await findServersOn(stage.dbDir);
    if (!server) throw new Error('no embedded database server found for the gateway');
    const sender = new RetryingWebhookSender(`${stage.gateway.url}/webhooks/messenger`);
    let sawUnhealthy = false;
    const watchHealth = setInterval(() => void stage.gateway.healthy().then((ok) => (sawUnhealthy ||= !ok)), 500);
    const paceMs = Math.max(5, Math.floor((size.outageMs * 2) / size.messages));
    let outageEndedAt = 0;
    const outage = (async () => {
      await new Promise((r) => setTimeout(r, size.outageMs / 4));
      process.kill(server, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, size.outageMs));
      process.kill(server, 'SIGKILL');
      outageEndedAt = Date.now();
    })();
    for (let i = 0; i < size.messages; i++) {
      const customer = customerOf(i, size);
      const text = `hello ${token(scenario, i)}`;
      if (i % 2 === 0) stage.telegram.customerWrites({ id: customer, first_name: `Customer ${customer}` }, { text });
      else sender.send(stage.graph.webhook([stage.graph.customerMessage(String(customer), { text })]));
      await new Promise((r) => setTimeout(r, paceMs));
    }
    await outage;
    await sender.drained();
    const recoveryMs = await stage.recovery(scenario, size.messages, outageEndedAt);
    clearInterval(watchHealth);
    const result = await stage.account(scenario, size.messages, { recoveryMs, orphans: 0, sawUnhealthy });
    result.orphans += await stage.finish();
    return result;
  });
}
