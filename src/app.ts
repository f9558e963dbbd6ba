import { useOperatorLanguage } from './i18n/operator-texts.js';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Channel, ChannelSink, ChannelState } from './domain.js';
import { createLogger, type Logger } from './logger.js';
import { connectDatabase, type Database } from './db/connect.js';
import { releaseLocksLeftBy } from './db/exclusive-lock.js';
import { DatabaseMonitor } from './db/health-monitor.js';
import { OutboxItemModel } from './db/models/index.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createInbox, type Inbox } from './inbox.js';
import { createHttpServer } from './http/server.js';
import { hasHttpRoutes } from './http/webhook-channel.js';
import { OutboxWorker, type Deliverer } from './outbox/worker.js';
import { channelDeliverer } from './outbox/channel-deliverer.js';
import { deliveryEvents } from './outbox/delivery-events.js';
import { recordDeliveryReceipt } from './outbox/delivery-receipts.js';
import { recordCustomerChange } from './conversations/message-changes.js';
import { showStatusChangesInConsole } from './conversations/status-follow-up.js';
import { recordFactsOnTransitions } from './stats/facts-store.js';
import { forgetRequestHooks } from './privacy/forget-request.js';
import { CONSOLE_ROUTE, requestConsole } from './console/actions.js';
import type { OperatorConsole } from './console/console.js';
import { showCustomerTyping } from './console/customer-typing.js';
import { buildChannels } from '../channels/index.js';
import { resolveEmailConversation } from '../channels/email-threading.js';
import { createJobs, startJobs } from './jobs/index.js';
import { defineReportJobs } from './stats/report-job.js';
import { startAutoAssigner, type AutoAssigner } from './assignment/auto-assigner.js';
import { operatorText } from './i18n/operator-texts.js';
import { seedReplyTemplates } from './reply-templates.js';

export interface Gateway {
  config: Config;
  logger: Logger;
  db: Database;
  http: FastifyInstance;
  inbox: Inbox;
  worker: OutboxWorker;
  metrics: Metrics;
  channels: Channel[];
  console?: OperatorConsole;
  /** Gives waiting chats to on-duty operators; absent when AUTO_ASSIGN is off. */
  assigner?: AutoAssigner;
  /** Graceful: stop taking updates, finish in-flight sends, stop jobs, close the database. */
  stop(): Promise<void>;
}

export interface GatewayOverrides {
  logger?: Logger;
  /** Replace the configured channels/console (tests, benchmarks). */
  channels?: Channel[];
  console?: OperatorConsole;
  /** Listen on config.http.port; off for tests that use fastify.inject. */
  listen?: boolean;
}

export async function startGateway(config: Config, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const logger = overrides.logger ?? createLogger(config);
  useOperatorLanguage(config.operatorLanguage);
  const db = await connectDatabase(config, logger);
  const locksLeft = await releaseLocksLeftBy(config.instanceId);
  if (locksLeft > 0) logger.warn({ locks: locksLeft }, 'freed the locks a previous run of this gateway left (it stopped without releasing them)');
  const countPendingOutboxItems = () => OutboxItemModel.countDocuments({ status: 'pending' });
  const metrics = createMetrics(countPendingOutboxItems);
  const inbox = createInbox({ reopenWindowMs: config.conversations.reopenWindowMs, logger, metrics, resolveConversation: resolveEmailConversation });

  // Jobs are defined before the console so its commands (/remind) can plan them; they run after start-up.
  const timedWork = createJobs({ config, db: db.connection.db!, logger });
  await defineReportJobs(timedWork.scheduler.agenda, { config, logger });
  const built = overrides.channels || overrides.console ? { channels: overrides.channels ?? [], console: overrides.console } : await buildChannels({ config, logger, metrics, services: { scheduler: timedWork.scheduler } });
  const { channels } = built;
  const operatorConsole = built.console;
  if (!operatorConsole) logger.warn('no operator console configured (TELEGRAM_BOT_TOKEN, OPERATOR_CHAT_ID): customer messages are stored and queued until one is');

  const channelStates = new Map<string, ChannelState | string>();
  const databaseMonitor = new DatabaseMonitor(db.connection, { logger: logger.child({ component: 'database' }) });
  const health = {
    database: () => databaseMonitor.state(),
    components: () => ({
      ...(operatorConsole ? { console: operatorConsole.state() } : {}),
      ...Object.fromEntries(channels.map((c) => [c.kind, c.state()])),
    }),
  };
  const http = await createHttpServer({
    logger,
    metrics,
    timeouts: config.http,
    adminToken: config.http.adminToken,
    health,
    status: {
      ...health,
      databaseKind: db.kind,
      instanceId: config.instanceId,
      consoleMode: () => operatorConsole?.mode(),
      outboxDepth: countPendingOutboxItems,
      jobsLeader: () => timedWork.scheduler.leader(),
    },
  });
  for (const part of [...channels, operatorConsole]) if (hasHttpRoutes(part)) await part.registerRoutes(http);

  const deliverers = new Map<string, Deliverer<unknown>>(channels.map((c) => [c.kind, channelDeliverer(c)]));
  if (operatorConsole) deliverers.set(CONSOLE_ROUTE, operatorConsole.deliverer);
  const worker = new OutboxWorker({
    workerId: config.instanceId,
    deliverers,
    logger: logger.child({ component: 'outbox' }),
    leaseMs: config.outbox.leaseMs,
    pollIntervalMs: config.outbox.pollIntervalMs,
    maxAttempts: config.outbox.maxAttempts,
    sendTimeoutMs: config.outbox.sendTimeoutMs,
    events: deliveryEvents(),
    metrics,
  });
  const stopShowingStatus = showStatusChangesInConsole();
  const stopRecordingFacts = recordFactsOnTransitions({ logger, inbox });
  const stopForgetRequests = config.forgetKeyword ? inbox.use(forgetRequestHooks({ keyword: config.forgetKeyword, companyName: config.companyName, logger })) : undefined;

  const sink: ChannelSink = {
    inbound: async (message) => {
      await inbox.receive(message);
    },
    changed: async (change) => {
      await recordCustomerChange(change);
    },
    deliveryStatus: (channel, externalId, status, error) => recordDeliveryReceipt(channel, externalId, status, error),
    typing: showCustomerTyping(operatorConsole, logger),
    stateChanged: (channel, state, detail) => {
      const previous = channelStates.get(channel);
      channelStates.set(channel, state);
      logger.info({ channel, state, detail }, 'channel state changed');
      // Operators hear of an outage once when it starts and once when it ends, not once per message.
      const notice =
        state === 'down' && previous !== 'down'
          ? operatorText('channels.down', { channel, detail: detail ? operatorText('channels.detail', { detail }) : '' })
          : state === 'up' && previous === 'down'
            ? operatorText('channels.up', { channel })
            : undefined;
      if (notice) requestConsole({ action: 'notice', text: notice, alert: true }).catch((error: unknown) => logger.error({ err: error, channel }, 'could not queue the channel state notice'));
    },
  };

  let jobs: Awaited<ReturnType<typeof startJobs>> | undefined;
  let assigner: AutoAssigner | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      await http.close();
      await Promise.allSettled(channels.map((c) => c.stop()));
      await operatorConsole?.stop();
      await assigner?.stop();
      await jobs?.stop(config.shutdownTimeoutMs);
      await worker.stop(config.shutdownTimeoutMs);
      stopShowingStatus();
      stopRecordingFacts();
      stopForgetRequests?.();
      databaseMonitor.stop();
      await db.close();
      logger.info('stopped');
    })());

  try {
    await startParts();
  } catch (error) {
    // A start that fails half-way (group unreachable, port taken) leaves nothing running or connected.
    await stop().catch(() => undefined);
    throw error;
  }
  logger.info({ port: config.http.port, channels: channels.map((c) => c.kind), console: Boolean(operatorConsole), database: db.kind }, 'gateway started');
  return { config, logger, db, http, inbox, worker, metrics, channels, console: operatorConsole, assigner, stop };

  async function startParts(): Promise<void> {
    databaseMonitor.start();
    await seedReplyTemplates();
    await operatorConsole?.start();
    for (const channel of channels) {
      try {
        await channel.start(sink);
      } catch (error) {
        // A channel that can't start is reported and retried by the channel itself; it never stops the gateway.
        logger.error({ err: error, channel: channel.kind }, 'channel failed to start');
      }
    }
    worker.start();
    jobs = await startJobs({ config, db: db.connection.db!, logger, inbox, created: timedWork });
    if (config.assignment.mode !== 'off') assigner = startAutoAssigner({ config, logger, inbox });
    if (overrides.listen ?? true) await http.listen({ host: config.http.host, port: config.http.port });
  }
}
