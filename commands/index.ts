import type { Command } from './command.js';

/**
 * Every operator command, in the order /help lists them. Registering here is the only way a command
 * exists: the same list feeds grammY, /help and setMyCommands.
 */
export const commands: Command[] = [
  // @section commands
];
