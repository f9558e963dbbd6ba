import type { Config } from '../src/config.js';
import type { Channel } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import type { OperatorConsole } from '../src/console/console.js';

export interface ChannelDeps {
  config: Config;
  logger: Logger;
}

/** Every channel whose configuration is present, plus the operator console. A channel without config is off. */
export async function buildChannels(deps: ChannelDeps): Promise<{ channels: Channel[]; console?: OperatorConsole }> {
  const channels: Channel[] = [];
  void deps;
  return { channels };
}
