import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { describeStatus, type StatusSource } from './gateway-status.js';
import { renderStatusPage } from './status-page-html.js';
import { ADMIN_COOKIE, type TeamAccess } from './team-access.js';

const LOGIN_DAYS = 30;
/** Sign-in attempts one address may make: enough for typos, not for guessing. */
const LOGIN_ATTEMPTS = { max: 10, timeWindow: '15 minutes' };
/** The page's own scripts, styles and the widget's connection; nothing from elsewhere. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

function sendPage(reply: FastifyReply, html: string, statusCode = 200) {
  return reply.code(statusCode).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', CONTENT_SECURITY_POLICY).send(html);
}

/**
 * GET /: the gateway's state in plain words for the team (see TeamAccess) and the live web chat widget for everyone;
 * POST /login: the form that sets the team's cookie when ADMIN_TOKEN is set.
 */
export async function registerStatusPage(app: FastifyInstance, options: { source: StatusSource; access: TeamAccess }): Promise<void> {
  const { source, access } = options;
  const webchatOn = () => 'webchat' in source.components();
  const loginPossible = access.cookieValue !== undefined;

  app.get('/', async (request, reply) => {
    const status = access.allows(request) ? await describeStatus(source) : undefined;
    return sendPage(reply, renderStatusPage({ status, webchatOn: webchatOn(), loginPossible }));
  });

  if (!loginPossible) return;
  await app.register(async (scope) => {
    await scope.register(formbody);
    await scope.register(rateLimit, {
      ...LOGIN_ATTEMPTS,
      errorResponseBuilder: (_request, context) => Object.assign(new Error('too many sign-in attempts'), { statusCode: 429, after: context.after }),
    });
    scope.setErrorHandler((error: Error & { statusCode?: number; after?: string }, _request, reply) => {
      if (error.statusCode !== 429) throw error;
      return sendPage(reply, renderStatusPage({ webchatOn: webchatOn(), loginPossible, loginBlockedFor: error.after }), 429);
    });
    scope.post<{ Body: { token?: unknown } }>('/login', async (request, reply) => {
      const token = typeof request.body?.token === 'string' ? request.body.token : '';
      if (!access.tokenMatches(token)) return sendPage(reply, renderStatusPage({ webchatOn: webchatOn(), loginPossible, loginFailed: true }), 401);
      reply.setCookie(ADMIN_COOKIE, access.cookieValue!, { path: '/', httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https', maxAge: LOGIN_DAYS * 86_400 });
      return reply.redirect('/', 303);
    });
  });
}
