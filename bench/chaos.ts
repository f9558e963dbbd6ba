// Real failures against the real gateway (a child process with its embedded database): `kill -9` of the gateway
// in the middle of a burst of Telegram messages and of retried Messenger webhooks, and the database stopped
// during traffic. Prints what arrived. `npm run chaos`; CHAOS_MESSAGES, CHAOS_OUTAGE_MS, CHAOS_ONLY to vary.
import { databaseOutage, telegramKill, webhookKill, type ChaosResult, type ChaosSize } from '../test/support/chaos/scenarios.js';

const size: ChaosSize = {
  messages: Number(process.env.CHAOS_MESSAGES ?? 1000),
  customers: 50,
  outageMs: Number(process.env.CHAOS_OUTAGE_MS ?? 20_000),
};
const scenarios: Record<string, (size: ChaosSize) => Promise<ChaosResult>> = {
  'Telegram, kill -9 mid-burst': telegramKill,
  'Messenger webhooks, kill -9 mid-burst': webhookKill,
  [`database stopped ${size.outageMs / 1000} s during traffic`]: databaseOutage,
};

const rows: ChaosResult[] = [];
for (const [name, run] of Object.entries(scenarios)) {
  if (process.env.CHAOS_ONLY && !name.toLowerCase().includes(process.env.CHAOS_ONLY.toLowerCase())) continue;
  console.error(`running: ${name} (${size.messages} messages)…`);
  const row = { ...(await run(size)), scenario: name };
  if (row.missing.length > 0) console.error(`missing: ${row.missing.join(', ')}`);
  rows.push(row);
}

console.log('| scenario | sent | stored | lost | duplicated in the database | duplicated in the group (unmarked) | marked "may repeat" | recovery | gateway alive, healthy | orphan servers | unhandled errors |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.scenario} | ${r.sent} | ${r.stored} | ${r.lost} | ${r.duplicatedInDatabase} | ${r.duplicatedInGroup} | ${r.marked} | ${(r.recoveryMs / 1000).toFixed(1)} s | ${r.gatewayAlive ? 'yes' : 'NO'}, ${r.healthyAtEnd ? 'yes' : 'NO'}${r.sawUnhealthy === undefined ? '' : `; 503 during the outage: ${r.sawUnhealthy ? 'yes' : 'no'}`} | ${r.orphans} | ${r.unhandled} |`);
}
