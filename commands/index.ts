import type { Command } from './command.js';
import { stats } from './stats.js';
import { help } from './help.js';
import { take } from './take.js';
import { close } from './close.js';
import { forward } from './forward.js';
import { escalate } from './escalate.js';
import { reopen } from './reopen.js';
import { note } from './note.js';
import { deleteCommand } from './delete.js';
import { t } from './t.js';
import { templates } from './templates.js';
import { template } from './template.js';
import { shortcut } from './shortcut.js';
import { chats } from './chats.js';
import { search } from './search.js';
import { history } from './history.js';
import { info } from './info.js';
import { priority } from './priority.js';
import { lang } from './lang.js';
import { ban } from './ban.js';
import { unban } from './unban.js';
import { forget } from './forget.js';
import { duty } from './duty.js';
import { operators } from './operators.js';
import { op } from './op.js';
import { remind } from './remind.js';
import { waTemplate } from './wa-template.js';

/**
 * Every operator command, in the order /help lists them. Registering here is the only way a command
 * exists: the same list feeds grammY, /help and setMyCommands.
 */
export const commands: Command[] = [
  take,
  close,
  forward,
  escalate,
  reopen,
  note,
  deleteCommand,
  t,
  templates,
  template,
  shortcut,
  chats,
  search,
  history,
  info,
  priority,
  lang,
  duty,
  operators,
  ban,
  unban,
  forget,
  op,
  help,
  stats,
  remind,
  waTemplate,
  // @section commands
];
