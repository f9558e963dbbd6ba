import type { ChannelKind, DeliveryStatus } from '../domain.js';
import { MessageModel } from '../db/models/index.js';
import { setDelivery } from './delivery-events.js';

const RANK: Record<DeliveryStatus, number> = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

/** A channel reported delivered/read/failed for a message we sent; statuses only move forward. */
export async function recordDeliveryReceipt(channel: ChannelKind, externalId: string, status: 'delivered' | 'read' | 'failed', error?: string): Promise<void> {
  const message = await MessageModel.findOne({ channel, externalId, direction: 'out' });
  if (!message) return;
  const current = (message.delivery?.status ?? 'pending') as DeliveryStatus;
  if (RANK[status] <= RANK[current]) return;
  await setDelivery(message._id, status, error);
}
