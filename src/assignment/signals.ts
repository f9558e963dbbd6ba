const listeners = new Set<() => void>();

/** Someone may take more chats now (went on duty, handed chats back): auto-assignment looks again. */
export function capacityChanged(): void {
  for (const listener of listeners) listener();
}

export function onCapacityChanged(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
