/** Where in the operator group something is shown: the group, and a forum topic or none (General / reply mode). */
export interface ConsoleTarget {
  chatId: number;
  threadId?: number;
}

export function threadOptions(target: ConsoleTarget): { message_thread_id?: number } {
  return target.threadId ? { message_thread_id: target.threadId } : {};
}
