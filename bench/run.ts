// npm run bench: every benchmark in turn, each printing its own figures.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const benches = ['bench/inbox.ts', 'bench/stats.ts', 'bench/console-capacity.ts', 'bench/webchat-abuse.ts'].filter((file) => existsSync(file));
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const result = spawnSync('npx', ['tsx', file], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
