import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ensureScript = path.join(projectRoot, 'scripts/ensure-ferretdb.sh');
/** The script's messages for the user carry this prefix; its other stderr lines are the build's output. */
const messagePrefix = 'ensure-ferretdb: ';
/** The script's exit code when something the build needs (Go) is missing; its last line says what. */
const missingPrerequisiteExitCode = 3;
const progressIntervalMs = 5000;

/**
 * The path of the FerretDB binary, built once by scripts/ensure-ferretdb.sh and cached. While it builds (about a
 * minute on a fresh machine), `report` gets the script's messages and a line every 5 s, so a first start never
 * looks stuck. Rejects with one line when Go is missing.
 */
export async function ensureFerretdbBinary(report: (line: string) => void): Promise<string> {
  const started = Date.now();
  const child = spawn('bash', [ensureScript], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const stderrTail: string[] = [];
  let progress: NodeJS.Timeout | undefined;
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
    if (!line.startsWith(messagePrefix)) return;
    report(line.slice(messagePrefix.length));
    // Any message means a build (or a wait for another process's build): the only slow paths of the script.
    progress ??= setInterval(() => report(`still building the embedded database… ${Math.round((Date.now() - started) / 1000)} s`), progressIntervalMs);
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  }).finally(() => clearInterval(progress));
  if (exitCode === 0) return stdout.trim().split('\n').pop()!;
  if (exitCode === missingPrerequisiteExitCode) throw new Error(stderrTail.at(-1) ?? 'Go is missing');
  throw new Error(`building the embedded database (scripts/ensure-ferretdb.sh) failed with exit code ${exitCode}: ${stderrTail.slice(-8).join('\n')}`);
}
