import type { User } from 'grammy/types';
import { OperatorModel, type OperatorDoc } from '../../db/models/index.js';
import { isDuplicateKeyError } from '../../db/errors.js';

/** The active operator behind a Telegram user, with their name kept current; undefined for anyone else. */
export async function findOperator(user: User | undefined): Promise<OperatorDoc | undefined> {
  if (!user) return undefined;
  const operator = await OperatorModel.findOne({ telegramUserId: user.id, active: true });
  if (!operator) return undefined;
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ');
  if (operator.name !== name || (operator.username ?? undefined) !== user.username) {
    operator.name = name;
    operator.username = user.username;
    await operator.save();
  }
  return operator;
}

/**
 * Makes the ADMIN_TELEGRAM_IDS admins (their names fill in when they first write). Gateway copies that start
 * together both upsert: the unique index lets one insert, and the other then finds the document and updates it.
 */
export async function bootstrapAdmins(ids: number[]): Promise<void> {
  for (const id of ids) {
    const makeAdmin = () => OperatorModel.updateOne({ telegramUserId: id }, { $set: { role: 'admin', active: true }, $setOnInsert: { telegramUserId: id, name: `Admin ${id}` } }, { upsert: true });
    await makeAdmin().catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
      return makeAdmin();
    });
  }
}
