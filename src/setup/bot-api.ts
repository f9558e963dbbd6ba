/** A refusal from the Bot API: its error code and description. */
export class BotApiError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly description: string,
  ) {
    super(`${method}: ${code} ${description}`);
    this.name = 'BotApiError';
  }
}

export type BotApi = <T>(method: string, params?: Record<string, unknown>) => Promise<T>;

/**
 * The few Bot API calls setup makes, as plain HTTP: the core never imports a messenger library (grammY lives in the
 * console). Throws BotApiError on a refusal, and the fetch error when Telegram is unreachable.
 */
export function botApi(apiRoot: string, token: string): BotApi {
  return async <T>(method: string, params: Record<string, unknown> = {}) => {
    const response = await fetch(`${apiRoot.replace(/\/+$/, '')}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json().catch(() => ({ ok: false, error_code: response.status, description: response.statusText }))) as { ok: boolean; result?: T; error_code?: number; description?: string };
    if (!body.ok) throw new BotApiError(method, body.error_code ?? response.status, body.description ?? 'no description');
    return body.result as T;
  };
}
