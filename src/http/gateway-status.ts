import { setTimeout as sleep } from 'node:timers/promises';
import { channelLabel } from '../console/telegram/render.js';
import type { HealthSource } from './server.js';

/** What the status page adds to the health /healthz reports; read when the page is asked for. */
export interface StatusSource extends HealthSource {
  databaseKind: 'embedded' | 'external';
  /** This process in the jobs' leader lease (INSTANCE_ID). */
  instanceId: string;
  consoleMode(): 'forum' | 'reply' | undefined;
  outboxDepth(): Promise<number>;
  /** The instance id of the process that runs the timed jobs, undefined while none does. */
  jobsLeader(): Promise<string | undefined>;
}

export interface StatusLine {
  subject: string;
  text: string;
  healthy: boolean;
}

/** The page must answer even when the database does not: a read that takes longer is reported as unknown. */
const READ_TIMEOUT_MS = 2000;

async function withinTimeout<T>(read: () => Promise<T>): Promise<T | undefined> {
  const timeout = new AbortController();
  try {
    return await Promise.race([read(), sleep(READ_TIMEOUT_MS, undefined, { signal: timeout.signal })]);
  } catch {
    return undefined;
  } finally {
    timeout.abort();
  }
}

/** The gateway's state in plain words, one line per part. Nothing secret, nothing about customers. */
export async function describeStatus(source: StatusSource): Promise<StatusLine[]> {
  const database = source.database();
  const { console: consoleState, ...channels } = source.components();
  const [depth, leader] = database.up ? await Promise.all([withinTimeout(() => source.outboxDepth()), withinTimeout(async () => ({ holder: await source.jobsLeader() }))]) : [undefined, undefined];
  const unknown = 'unknown: the database did not answer';
  const mode = source.consoleMode();
  return [
    {
      subject: 'Database',
      text: database.up
        ? `up (${source.databaseKind === 'embedded' ? 'the embedded FerretDB in DATA_DIR' : 'MONGODB_URI'})`
        : `unreachable since ${database.lastOkAt?.toISOString() ?? 'the start'}; the gateway keeps trying and loses nothing`,
      healthy: database.up,
    },
    {
      subject: 'Operator console (Telegram group)',
      text: consoleState
        ? `${consoleState}, ${mode === 'forum' ? 'forum mode: one topic per conversation' : 'reply mode: operators answer by replying to each relayed message'}`
        : 'not configured: run `npm run setup` (TELEGRAM_BOT_TOKEN, OPERATOR_CHAT_ID); until then messages for operators wait in the outbox',
      healthy: consoleState === 'up',
    },
    ...Object.entries(channels).map(([kind, state]) => ({
      subject: `Channel: ${channelLabel(kind)}`,
      text: state === 'elsewhere' ? 'run by another copy of the gateway (only one copy may run it)' : state,
      healthy: state === 'up' || state === 'elsewhere',
    })),
    ...(Object.keys(channels).length === 0 ? [{ subject: 'Channels', text: 'none configured (see .env.example)', healthy: false }] : []),
    {
      subject: 'Outbox',
      text: depth === undefined ? unknown : depth === 0 ? 'nothing waiting to be sent' : `${depth} message${depth === 1 ? '' : 's'} waiting to be sent`,
      healthy: depth !== undefined,
    },
    {
      subject: 'Timed jobs (reminders, auto-close, SLA alerts, reports)',
      text: !leader ? unknown : !leader.holder ? 'no copy of the gateway runs them right now; one takes over within JOBS_LEADER_LEASE' : leader.holder === source.instanceId ? 'run by this copy of the gateway' : `run by another copy of the gateway (${leader.holder})`,
      healthy: leader?.holder !== undefined,
    },
  ];
}
