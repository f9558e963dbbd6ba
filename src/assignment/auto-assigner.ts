import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { InboxHooks } from '../inbox.js';
import { onTransition } from '../conversations/lifecycle.js';
import { businessHoursOf } from '../jobs/index.js';
import { assignWaiting } from './assign.js';
import { withAssignmentLock } from './round-lock.js';
import { onCapacityChanged } from './signals.js';

/** A round lasts milliseconds; a lock older than this belongs to a process that died mid-round. */
const LOCK_TTL_MS = 30_000;
/** How often a copy that found the lock taken tries again, and for how long, before the next trigger or sweep. */
const LOCK_RETRY_MS = 100;
const LOCK_RETRIES = 100;
/** Catches what no trigger announces: business hours opening, a trigger lost to a database outage. */
const SWEEP_MS = 15_000;

export interface AutoAssigner {
  /** Asks for a round soon; asks made while one runs are served by one more round after it. */
  request(): void;
  /** Resolves when no round is running or asked for (tests). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Gives waiting chats to on-duty operators (AUTO_ASSIGN) whenever that may change the answer: a chat opened or
 * waiting again, a chat closed, an operator on duty or handing chats back, and every SWEEP_MS.
 */
export function startAutoAssigner(options: { config: Pick<Config, 'assignment' | 'jobs' | 'instanceId'>; logger: Logger; inbox: { use(hooks: InboxHooks): () => void } }): AutoAssigner {
  const { config } = options;
  const mode = config.assignment.mode;
  if (mode === 'off') throw new Error('auto-assignment is off');
  const logger = options.logger.child({ component: 'assignment' });
  const settings = { mode, maxOpenPerOperator: config.assignment.maxOpenPerOperator, hours: businessHoursOf(config.jobs) };
  let running: Promise<void> | undefined;
  let asked = false;
  let stopped = false;

  async function round(): Promise<void> {
    for (let attempt = 0; attempt < LOCK_RETRIES && !stopped; attempt++) {
      const ran = await withAssignmentLock({ instance: config.instanceId, attempt: config.instanceId }, LOCK_TTL_MS, async () => {
        const result = await assignWaiting(settings);
        for (const { conversation, operator } of result.assigned) logger.info({ conversationId: String(conversation._id), conversationNumber: conversation.number, operator: operator.telegramUserId }, 'chat auto-assigned');
        if (result.why) logger.debug({ waiting: result.waiting, why: result.why }, 'chats left waiting');
      });
      if (ran) return;
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }

  function request(): void {
    asked = true;
    running ??= (async () => {
      while (asked && !stopped) {
        asked = false;
        await round().catch((error: unknown) => logger.error({ err: error }, 'auto-assignment round failed; the next trigger or sweep retries'));
      }
      running = undefined;
    })();
  }

  const stopListening = [
    onCapacityChanged(request),
    onTransition(async (conversation) => {
      if ((conversation.status === 'new' && !conversation.owner) || conversation.status === 'closed') request();
    }),
    options.inbox.use({ afterStored: async (result) => void (result.opened && request()) }),
  ];
  const sweep = setInterval(request, SWEEP_MS);
  sweep.unref();
  request();

  return {
    request,
    async settled() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(sweep);
      for (const stop of stopListening) stop();
      await running;
    },
  };
}
