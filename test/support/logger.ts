import { pino } from 'pino';

/** Silent unless TEST_LOG_LEVEL is set, e.g. TEST_LOG_LEVEL=debug npm test. */
export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
