import type { Types } from 'mongoose';
import { CustomerModel, OperatorModel } from '../db/models/index.js';
import { conversationFacts, type ConversationFacts, type FactsFilter } from './fetch.js';

const CUSTOMER_BATCH = 50_000;

export const CSV_COLUMNS = ['number', 'channel', 'customer', 'owner', 'status', 'created', 'first response s', 'resolution s', 'closed', 'reason', 'rating'] as const;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF, quotes doubled. Free text that a
 * spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe (OWASP CSV injection).
 */
export function csvField(value: string | number | undefined | null, options: { text?: boolean } = {}): string {
  if (value === undefined || value === null) return '';
  let s = String(value);
  if (options.text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: string[]): string {
  return `${fields.join(',')}\r\n`;
}

/** The period's conversations (opened or closed in it) as CSV, oldest first, with a UTF-8 BOM for spreadsheets. */
export async function exportConversationsCsv(filter: FactsFilter): Promise<{ csv: Buffer; rows: number }> {
  const conversations: ConversationFacts[] = [];
  for await (const c of conversationFacts(filter)) conversations.push(c);
  conversations.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.number ?? 0) - (b.number ?? 0));

  const customerIds = unique(conversations.map((c) => c.customer));
  const ownerIds = unique(conversations.map((c) => c.owner));
  const customers = new Map<string, string>();
  // Large batches: FerretDB answers each $in with a collection scan, so fewer queries are faster there.
  for (let i = 0; i < customerIds.length; i += CUSTOMER_BATCH) {
    const batch = await CustomerModel.find({ _id: { $in: customerIds.slice(i, i + CUSTOMER_BATCH) } }, { name: 1, username: 1, email: 1, phone: 1, externalChatId: 1 }).lean();
    for (const c of batch) customers.set(String(c._id), c.name ?? c.username ?? c.email ?? c.phone ?? c.externalChatId);
  }
  const operators = new Map((await OperatorModel.find({ _id: { $in: ownerIds } }, { name: 1 }).lean()).map((o) => [String(o._id), o.name]));

  const parts = ['\uFEFF', csvRow(CSV_COLUMNS.map((c) => csvField(c)))];
  for (const c of conversations) {
    parts.push(
      csvRow([
        csvField(c.number),
        csvField(c.channel),
        csvField(c.erased ? '(erased)' : c.customer ? customers.get(String(c.customer)) : undefined, { text: true }),
        csvField(c.owner ? operators.get(String(c.owner)) : undefined, { text: true }),
        csvField(c.status),
        csvField(c.createdAt.toISOString()),
        csvField(c.firstResponseSeconds),
        csvField(c.resolutionSeconds),
        csvField(c.closedAt?.toISOString()),
        csvField(c.closeReason),
        csvField(c.rating?.score),
      ]),
    );
  }
  return { csv: Buffer.from(parts.join(''), 'utf8'), rows: conversations.length };
}

function unique(ids: Array<Types.ObjectId | undefined>): Types.ObjectId[] {
  const seen = new Map<string, Types.ObjectId>();
  for (const id of ids) if (id) seen.set(String(id), id);
  return [...seen.values()];
}
