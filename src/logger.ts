import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * JSON in production, pretty in development. Secrets and message bodies are redacted:
 * message text appears only in `debug` lines, which log it under `body`.
 */
export function createLogger(config: Pick<Config, 'log'>): Logger {
  return pino({
    level: config.log.level,
    redact: {
      paths: ['token', '*.token', 'password', '*.password', 'secret', '*.secret', 'authorization', '*.authorization', 'uri', '*.uri', 'text', '*.text'],
      censor: '[redacted]',
    },
    transport: config.log.pretty ? { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } : undefined,
  });
}

/** Child logger carrying the conversation's id and number, as every conversation log line must. */
export function conversationLogger(logger: Logger, conversation: { _id: unknown; number: number }): Logger {
  return logger.child({ conversationId: String(conversation._id), conversationNumber: conversation.number });
}
