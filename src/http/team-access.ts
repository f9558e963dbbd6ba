import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export const ADMIN_COOKIE = 'gateway_admin';
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
/** A proxy on this machine connects from loopback on behalf of someone else: such a request is not local. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

export interface TeamAccess {
  /** Whether the request may see what is for the team (the status page, /metrics). */
  allows(request: FastifyRequest): boolean;
  /** Whether `token` is ADMIN_TOKEN (in constant time); false when none is set. */
  tokenMatches(token: string): boolean;
  /** The login cookie's value: derived from ADMIN_TOKEN, so the token itself never sits in a browser. */
  readonly cookieValue: string | undefined;
}

function sameSecret(a: string, b: string): boolean {
  // Digests have one length whatever the inputs, so the comparison leaks neither content nor length.
  const digest = (s: string) => createHmac('sha256', 'team-access').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Who is the team: requests from this machine (the loopback address, not forwarded by a proxy), and requests that
 * carry ADMIN_TOKEN as `Authorization: Bearer` or the cookie the status page's login form sets.
 */
export function teamAccess(adminToken: string | undefined): TeamAccess {
  const cookieValue = adminToken ? createHmac('sha256', adminToken).update('status-page-login').digest('hex') : undefined;
  const tokenMatches = (token: string) => adminToken !== undefined && sameSecret(token, adminToken);
  return {
    cookieValue,
    tokenMatches,
    allows(request) {
      const local = LOOPBACK.has(request.socket.remoteAddress ?? '') && !FORWARDING_HEADERS.some((h) => h in request.headers);
      if (local) return true;
      const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (bearer !== undefined && tokenMatches(bearer)) return true;
      const cookie = request.cookies?.[ADMIN_COOKIE];
      return cookie !== undefined && cookieValue !== undefined && sameSecret(cookie, cookieValue);
    },
  };
}
