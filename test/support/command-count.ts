import mongoose from 'mongoose';

/** Counts the commands mongoose sends to `collection` with one of `methods` while `work` runs. */
export async function countCommands(collection: string, methods: string[], work: () => Promise<unknown>): Promise<number> {
  let commands = 0;
  mongoose.set('debug', (name: string, method: string) => {
    if (name === collection && methods.includes(method)) commands++;
  });
  try {
    await work();
  } finally {
    mongoose.set('debug', false);
  }
  return commands;
}
