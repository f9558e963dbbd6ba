import type { Attachment } from '../src/domain.js';
import { ChatKeyModel, ConversationModel, MessageModel, WebchatFileModel, WebchatVisitorModel } from '../src/db/models/index.js';
import { chatKeyOf } from '../src/conversations/open.js';
import { KeyedMutex } from '../src/util/keyed-mutex.js';
import { REF_PREFIX, describeInline, fileUrl, type ChatLine, type FileView } from './webchat-views.js';

/** The list may run this far past the limit before it is cut back (one write per this many messages, not per message). */
const TRIM_SLACK = 10;

/**
 * What a widget shows on (re)connect: the visitor's latest messages. Their ids are kept on the visitor's document
 * (`WebchatVisitor.recent`, appended as messages are stored or sent), so a connect costs reads by _id only, never a
 * query of the messages collection (which scans it on FerretDB) however long the visitor has been writing.
 */
export class WebchatHistory {
  private readonly perVisitor = new KeyedMutex();

  constructor(private readonly limit: number) {}

  /** Adds messages (ids of stored Messages) to the visitor's latest; the oldest beyond the limit are dropped. */
  append(visitorId: string, messageIds: string[]): Promise<void> {
    return this.perVisitor.run(visitorId, async () => {
      const visitor = await WebchatVisitorModel.findOneAndUpdate({ _id: visitorId }, { $addToSet: { recent: { $each: messageIds } } }, { upsert: true, returnDocument: 'after' }).lean();
      const recent = visitor?.recent ?? [];
      // $push's $slice is ignored by FerretDB: the list is cut with $pullAll, in steps.
      if (recent.length > this.limit + TRIM_SLACK) await WebchatVisitorModel.updateOne({ _id: visitorId }, { $pullAll: { recent: recent.slice(0, recent.length - this.limit) } });
    });
  }

  /** The visitor's latest messages, oldest first, as the widget shows them. */
  async read(visitorId: string): Promise<ChatLine[]> {
    const visitor = await WebchatVisitorModel.findById(visitorId).lean();
    const ids = visitor?.listed ? (visitor.recent ?? []) : await this.listOnce(visitorId);
    if (ids.length === 0) return [];
    // Deleted messages (by the visitor, or by an operator) are gone from the chat.
    const messages = (await MessageModel.find({ _id: { $in: ids.slice(-this.limit) }, direction: { $in: ['in', 'out', 'system'] } }).lean()).filter((m) => !m.deletedAt);
    messages.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    // Operator files kept by send() are named after their message; find which ones exist.
    const candidates = messages.filter((m) => m.direction !== 'in').flatMap((m) => m.attachments.map((_, i) => `${m._id}-${i}`));
    const kept = new Set(candidates.length ? (await WebchatFileModel.find({ _id: { $in: candidates }, visitorId }, { _id: 1 }).lean()).map((f) => f._id) : []);
    const prefix = `${visitorId}:`;
    return messages.map((m) => {
      const lines = [m.text ?? ''];
      const files: FileView[] = [];
      m.attachments.forEach((a, index) => {
        const inline = describeInline(a as Attachment);
        if (inline) return lines.push(inline);
        const fileId = a.ref?.startsWith(`${REF_PREFIX}:`) ? a.ref.slice(REF_PREFIX.length + 1) : kept.has(`${m._id}-${index}`) ? `${m._id}-${index}` : undefined;
        files.push({ kind: a.kind, fileName: a.fileName ?? a.kind, mimeType: a.mimeType ?? undefined, size: a.size ?? undefined, url: fileId ? fileUrl(fileId) : undefined });
      });
      const status = m.delivery?.status ?? 'pending';
      return {
        id: m.direction === 'in' ? (m.externalId ?? String(m._id)) : String(m._id),
        clientId: m.direction === 'in' && m.externalId?.startsWith(prefix) ? m.externalId.slice(prefix.length) : undefined,
        from: m.direction === 'in' ? 'visitor' : m.author?.kind === 'operator' ? 'operator' : 'system',
        text: lines.filter(Boolean).join('\n'),
        files,
        at: (m.createdAt ?? new Date()).toISOString(),
        quickReplies: m.quickReplies?.length ? m.quickReplies : undefined,
        ...(m.editedAt ? { edited: true as const } : {}),
        // Replies sent while the visitor was away: shown now, so the widget confirms them.
        ...(m.direction === 'out' && (status === 'pending' || status === 'sent') ? { confirm: true as const } : {}),
      } satisfies ChatLine;
    });
  }

  /**
   * A visitor who wrote before the list was kept: their latest messages are found once the old way (a query of the
   * messages collection) and listed. A visitor without a chat yet only gets the list marked complete.
   */
  private listOnce(visitorId: string): Promise<string[]> {
    return this.perVisitor.run(visitorId, async () => {
      const chat = await ChatKeyModel.findById(chatKeyOf('webchat', visitorId)).lean();
      let ids: string[] = [];
      if (chat) {
        const conversations = await ConversationModel.find({ customer: chat.customer }, { _id: 1 }).lean();
        const latest = await MessageModel.find({ conversation: { $in: conversations.map((c) => c._id) }, direction: { $in: ['in', 'out', 'system'] } }, { _id: 1 })
          .sort({ createdAt: -1 })
          .limit(this.limit)
          .lean();
        ids = latest.map((m) => String(m._id)).reverse();
      }
      // Whatever was appended meanwhile (a reply sent before the first connect) stays, after the old ones.
      const visitor = await WebchatVisitorModel.findById(visitorId).lean();
      const appended = (visitor?.recent ?? []).filter((id) => !ids.includes(id));
      const recent = [...ids, ...appended];
      await WebchatVisitorModel.updateOne({ _id: visitorId }, { $set: { recent, listed: true } }, { upsert: true });
      return recent;
    });
  }
}
