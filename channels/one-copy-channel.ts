import type { Channel, ChannelCapabilities, ChannelSink, ChannelState, OutboundMessage, SendContext, SendResult } from '../src/domain.js';
import { LeaderLease } from '../src/db/leader-lease.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { registerAttachmentSource } from '../src/attachments.js';
import type { Logger } from '../src/logger.js';

export interface OneCopyOptions {
  /** config.instanceId: the name the outbox workers know this copy by. */
  instanceId: string;
  /** How long the running copy's lease lasts without renewal: how soon another copy takes over after a crash. */
  leaseMs: number;
  /** The prefix of attachment references only the running copy can read (media still in WhatsApp Web's browser). */
  attachmentPrefix?: string;
  logger: Logger;
}

/**
 * A channel that only one gateway copy may run at a time: WhatsApp Web is one browser linked to one phone, and two
 * browsers on the same session log each other out. The copy holding the lease (a unique insert, like the jobs
 * leader's) runs the channel; the others hand their sends to it (DeliveryError.elsewhere) and take over when its
 * lease lapses.
 */
export class OneCopyChannel implements Channel {
  readonly kind: Channel['kind'];
  readonly capabilities: ChannelCapabilities;
  private readonly lease: LeaderLease;
  private sink?: ChannelSink;
  private running = false;
  private stopped = true;
  private unregisterFiles?: () => void;

  constructor(
    private readonly inner: Channel,
    private readonly options: OneCopyOptions,
  ) {
    this.kind = inner.kind;
    this.capabilities = inner.capabilities;
    this.lease = new LeaderLease({
      name: `channel:${inner.kind}`,
      holder: options.instanceId,
      ttlMs: options.leaseMs,
      logger: options.logger,
      onAcquire: () => this.run(),
      onLose: () => this.standBy(),
    });
  }

  state(): ChannelState {
    if (this.running) return this.inner.state();
    return this.stopped ? 'stopped' : 'elsewhere';
  }

  async start(sink: ChannelSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    this.handFilesOver();
    this.lease.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Stepping down stops the channel here and lets another copy take over at once.
    await this.lease.stop();
    this.unregisterFiles?.();
  }

  async send(externalChatId: string, message: OutboundMessage, context: SendContext): Promise<SendResult> {
    await this.mustRunHere();
    return this.inner.send(externalChatId, message, context);
  }

  async edit(externalChatId: string, externalMessageId: string, text: string, context: SendContext): Promise<boolean> {
    await this.mustRunHere();
    return this.inner.edit ? this.inner.edit(externalChatId, externalMessageId, text, context) : false;
  }

  async delete(externalChatId: string, externalMessageId: string, context: SendContext): Promise<void> {
    await this.mustRunHere();
    if (!this.inner.delete) throw DeliveryError.permanent(`${this.kind} cannot delete a message`);
    await this.inner.delete(externalChatId, externalMessageId, context);
  }

  private async run(): Promise<void> {
    this.running = true;
    this.unregisterFiles?.();
    await this.inner.start(this.sink!);
  }

  private async standBy(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.inner.stop();
    this.handFilesOver();
  }

  /** A relay of a customer's photo that only the running copy can read goes to that copy. */
  private handFilesOver(): void {
    const prefix = this.options.attachmentPrefix;
    if (!prefix) return;
    this.unregisterFiles = registerAttachmentSource(prefix, async () => {
      await this.mustRunHere();
      throw DeliveryError.transient(`${this.kind} is starting in this copy`);
    });
  }

  /** Sends go through the copy that runs the channel; while none does, they wait and are retried. */
  private async mustRunHere(): Promise<void> {
    if (this.running) return;
    const holder = await this.lease.currentHolder();
    if (holder && holder !== this.options.instanceId) throw DeliveryError.elsewhere(holder);
    throw DeliveryError.transient(`no gateway copy runs ${this.kind} at the moment`);
  }
}
