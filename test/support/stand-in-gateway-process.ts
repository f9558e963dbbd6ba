// A stand-in gateway for test/embedded-database.test.ts: serves the data directory given as its argument with the
// embedded database and writes one JSON line to stdout at start and each time the serving server changes,
// {"pid":…,"port":…,"owner":…}. Its log goes to stderr as JSON lines. SIGTERM stops it gracefully.
import { pino } from 'pino';
import { startEmbeddedDatabase } from '../../src/db/embedded.js';

const logger = pino({ level: 'info' }, pino.destination({ fd: 2, sync: true }));
const database = await startEmbeddedDatabase({ dataDir: process.argv[2]!, dbName: 'embedded', logger });
let reported = '';
const report = () => {
  const line = JSON.stringify({ pid: database.pid, port: database.port, owner: database.owner });
  if (line !== reported) process.stdout.write(`${line}\n`);
  reported = line;
};
report();
const reporting = setInterval(report, 50);
process.once('SIGTERM', () => {
  clearInterval(reporting);
  void database.stop().then(() => process.exit(0));
});
