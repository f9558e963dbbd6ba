import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface Prompter {
  say(line: string): void;
  /** Asks and waits for one line (trimmed); undefined when the input has ended. */
  ask(question: string): Promise<string | undefined>;
  close(): void;
}

/**
 * Questions on `output`, answers one line each from `input`: a terminal, or answers piped in (tests, scripts).
 * Lines that arrive before their question is asked wait for it.
 */
export function streamPrompter(input: Readable, output: Writable): Prompter {
  const reader = createInterface({ input, crlfDelay: Infinity, terminal: false });
  const lines = reader[Symbol.asyncIterator]();
  return {
    say: (line) => void output.write(`${line}\n`),
    async ask(question) {
      output.write(question);
      const next = await lines.next();
      return next.done ? undefined : next.value.trim();
    },
    close: () => reader.close(),
  };
}
