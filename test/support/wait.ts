/** Polls until `check` holds and returns how long that took; throws, naming `what`, after the timeout. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 20): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return Date.now() - started;
}
