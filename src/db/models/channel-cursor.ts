import { Schema, model } from 'mongoose';

/**
 * Where a channel that reads a stream by position has got to (VK's long-poll `ts`, the WhatsApp time up to which
 * messages are stored), `_id` = `<channel>:<stream>`. Saved only once what came before it is stored, so a restart
 * goes on from there and loses nothing.
 */
const channelCursorSchema = new Schema({
  _id: { type: String, required: true },
  value: { type: Schema.Types.Mixed, required: true },
  updatedAt: { type: Date, required: true },
});
export const ChannelCursorModel = model('ChannelCursor', channelCursorSchema);

export async function loadChannelCursor<T extends string | number>(id: string): Promise<T | undefined> {
  return (await ChannelCursorModel.findById(id).lean())?.value as T | undefined;
}

export async function saveChannelCursor(id: string, value: string): Promise<void> {
  await ChannelCursorModel.updateOne({ _id: id }, { $set: { value, updatedAt: new Date() } }, { upsert: true });
}

/** Moves a numeric cursor forward only: a late write of an older position changes nothing. */
export async function advanceChannelCursor(id: string, value: number): Promise<void> {
  await ChannelCursorModel.updateOne({ _id: id }, { $max: { value }, $set: { updatedAt: new Date() } }, { upsert: true });
}
