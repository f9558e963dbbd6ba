import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';

/**
 * Sets `values` in the env file at `path`, keeping every other line as it is: a variable's line is replaced where
 * it is, a variable without one is added at the end. A file that does not exist yet starts as a copy of `template`
 * (.env.example), so it carries the documentation of every variable.
 */
export async function writeEnvValues(path: string, values: Record<string, string>, template?: string): Promise<void> {
  const source = existsSync(path) ? path : template && existsSync(template) ? template : undefined;
  const lines = source ? (await readFile(source, 'utf8')).replace(/\n$/, '').split('\n') : [];
  for (const [name, value] of Object.entries(values)) {
    const at = lines.findIndex((line) => new RegExp(`^\\s*(export\\s+)?${name}\\s*=`).test(line));
    if (at >= 0) lines[at] = `${name}=${value}`;
    else lines.push(`${name}=${value}`);
  }
  await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** The value of one variable in an env file, read as the gateway reads the file when it starts. */
export async function readEnvValue(path: string, name: string): Promise<string | undefined> {
  if (!existsSync(path)) return undefined;
  return parseEnv(await readFile(path, 'utf8'))[name];
}
