import { setupInTerminal } from './terminal.js';

process.exitCode = (await setupInTerminal()) ? 0 : 1;
