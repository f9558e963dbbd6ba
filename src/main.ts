import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';
import { startGateway } from './app.js';
import { createLogger } from './logger.js';
import { guardProcess } from './process-guard.js';
import { setupInTerminal } from './setup/terminal.js';

// A first start on a terminal, with nothing configured yet: set up the operator console before anything else.
if (!existsSync('.env') && process.stdin.isTTY && !process.env.TELEGRAM_BOT_TOKEN && process.env.NODE_ENV !== 'production') await setupInTerminal();
// A .env file in the working directory fills in what the real environment does not set.
if (existsSync('.env')) process.loadEnvFile('.env');

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config);
guardProcess(logger);
const gateway = await startGateway(config, { logger }).catch((error: unknown) => {
  console.error(`The gateway could not start: ${(error as Error).message}`);
  process.exit(1);
});
let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) {
      gateway.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    gateway.logger.info({ signal }, 'signal received: stopping gracefully (send it again to exit at once)');
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        gateway.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
