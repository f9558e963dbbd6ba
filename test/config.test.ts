import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('starts with defaults when nothing is set: port 3000, embedded database, no console', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.database.uri).toBeUndefined();
    expect(config.telegram).toBeUndefined();
    expect(config.conversations.reopenWindowMs).toBe(24 * 3600_000);
  });

  it('names every invalid variable in one message, with what it expects', () => {
    const problems = problemsOf({ PORT: 'eighty', MONGODB_URI: 'postgres://x', REOPEN_WINDOW: 'soon', ADMIN_TELEGRAM_IDS: '12,abc' });
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/port number/);
    expect(problems.find((p) => p.startsWith('MONGODB_URI:'))).toMatch(/mongodb:\/\//);
    expect(problems.find((p) => p.startsWith('REOPEN_WINDOW:'))).toMatch(/duration like/);
    expect(problems.find((p) => p.startsWith('ADMIN_TELEGRAM_IDS:'))).toMatch(/"abc"/);
  });

  it('refuses an unknown auto-assignment mode, a cap below 1 and a contact e-mail that is not one, naming each', () => {
    const problems = problemsOf({ AUTO_ASSIGN: 'random', MAX_OPEN_PER_OPERATOR: '0', SUPPORT_EMAIL: 'nope', SUPPORT_EMAIL_RU: 'nope either' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AUTO_ASSIGN: expected off, round_robin or least_loaded/),
        expect.stringMatching(/^MAX_OPEN_PER_OPERATOR: expected 1 or more/),
        expect.stringMatching(/^SUPPORT_EMAIL: expected an e-mail address/),
        expect.stringMatching(/^SUPPORT_EMAIL_RU: expected an e-mail address/),
      ]),
    );
  });

  it('requires the operator group when a bot token is given', () => {
    expect(problemsOf({ TELEGRAM_BOT_TOKEN: '123:abc' })).toEqual([expect.stringMatching(/^OPERATOR_CHAT_ID: required when TELEGRAM_BOT_TOKEN is set/)]);
  });

  it('requires a webhook secret with a webhook URL', () => {
    const problems = problemsOf({ TELEGRAM_BOT_TOKEN: '123:abc', OPERATOR_CHAT_ID: '-100123', TELEGRAM_WEBHOOK_URL: 'https://example.com/tg' });
    expect(problems).toEqual([expect.stringMatching(/^TELEGRAM_WEBHOOK_SECRET: required/)]);
  });

  it('does not echo secret values in its message', () => {
    try {
      loadConfig({ TELEGRAM_BOT_TOKEN: 'not a token with secret-value-123' });
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-value-123');
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('keeps data for ever and takes no erasure keyword unless told; RETENTION_AFTER takes a duration or off', () => {
    expect(loadConfig({})).toMatchObject({ forgetKeyword: null, jobs: { retentionAfterMs: null } });
    expect(loadConfig({ RETENTION_AFTER: '365d', FORGET_KEYWORD: '/forget_me' })).toMatchObject({ forgetKeyword: '/forget_me', jobs: { retentionAfterMs: 365 * 86_400_000 } });
    expect(problemsOf({ RETENTION_AFTER: 'a year' })).toEqual([expect.stringMatching(/^RETENTION_AFTER: expected a duration like .* or off, got "a year"/)]);
  });

  it('parses a complete Telegram setup', () => {
    const config = loadConfig({ TELEGRAM_BOT_TOKEN: '123:abc-DEF', OPERATOR_CHAT_ID: '-1001234', ADMIN_TELEGRAM_IDS: '1, 2', REOPEN_WINDOW: '2h' });
    expect(config.telegram).toMatchObject({ token: '123:abc-DEF', operatorChatId: -1001234, adminIds: [1, 2] });
    expect(config.conversations.reopenWindowMs).toBe(7_200_000);
  });

  it('accepts .env.example as it ships, and it lists every variable the gateway reads', () => {
    const example = parseEnv(readFileSync('.env.example', 'utf8')) as Record<string, string>;
    expect(() => loadConfig(example)).not.toThrow();
    const source = readFileSync('src/config.ts', 'utf8');
    const declared = [...source.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    const commented = readFileSync('.env.example', 'utf8');
    expect(declared.filter((name) => !commented.includes(`${name}=`))).toEqual([]);
  });
});
