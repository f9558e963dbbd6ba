import { setBanned } from './ban.js';
import type { Command } from './command.js';

export const unban: Command = {
  name: 'unban',
  description: "Lift the ban on this chat's customer",
  usage: '/unban',
  role: 'supervisor',
  needsConversation: true,
  run: (ctx) => setBanned(ctx, false),
};
