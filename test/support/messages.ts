import { MessageModel, OutboxItemModel } from '../../src/db/models/index.js';

/**
 * Customer messages in the order the console was asked to show them, which is the order they arrived
 * (messages sent in one second share their timestamp, so `createdAt` does not order them).
 */
export async function customerMessagesAsRelayed() {
  const relays = await OutboxItemModel.find({ route: 'console', action: 'relay' }).sort({ seq: 1 }).lean();
  const messages = await MessageModel.find({ direction: 'in' }).lean();
  const byId = new Map(messages.map((m) => [String(m._id), m]));
  return relays.map((relay) => byId.get(String(relay.message))).filter((m) => m !== undefined);
}
