import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The web chat visitor's identity: `v1.<payload>.<signature>`, payload = base64url JSON {v: visitor id,
 * exp: expiry in epoch seconds}, signature = base64url HMAC-SHA256 of `v1.<payload>` with WEBCHAT_SECRET.
 * The browser keeps it; whoever holds it is that visitor, so it is never put in logs.
 */
export interface VisitorSession {
  visitorId: string;
  expiresAt: Date;
}

const VERSION = 'v1';
const VISITOR_ID = /^wv_[\w-]{16}$/;

export function newVisitorId(): string {
  return `wv_${randomBytes(12).toString('base64url')}`;
}

export function signVisitorToken(secret: string, session: VisitorSession): string {
  const payload = Buffer.from(JSON.stringify({ v: session.visitorId, exp: Math.floor(session.expiresAt.getTime() / 1000) })).toString('base64url');
  return `${VERSION}.${payload}.${signature(secret, payload)}`;
}

/** The session a token names, or undefined when it is malformed, forged or expired. */
export function verifyVisitorToken(secret: string, token: unknown, now: Date = new Date()): VisitorSession | undefined {
  if (typeof token !== 'string' || token.length > 512) return undefined;
  const [version, payload, mac, ...rest] = token.split('.');
  if (version !== VERSION || !payload || !mac || rest.length > 0) return undefined;
  const expected = Buffer.from(signature(secret, payload));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: { v?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return undefined;
  }
  if (typeof claims.v !== 'string' || !VISITOR_ID.test(claims.v) || typeof claims.exp !== 'number') return undefined;
  const expiresAt = new Date(claims.exp * 1000);
  if (expiresAt.getTime() <= now.getTime()) return undefined;
  return { visitorId: claims.v, expiresAt };
}

function signature(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`${VERSION}.${payload}`).digest('base64url');
}
