import { escapeHtml } from '../util/html.js';
import type { StatusLine } from './gateway-status.js';

export interface StatusPageView {
  /** The gateway's state, for the team only; undefined for everyone else. */
  status?: StatusLine[];
  webchatOn: boolean;
  /** Whether an ADMIN_TOKEN exists to sign in with from elsewhere. */
  loginPossible: boolean;
  loginFailed?: boolean;
  /** Too many sign-in attempts from this address: when it may try again ("15 minutes"). */
  loginBlockedFor?: string;
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:44rem;padding:2rem 1rem;color:#1d2330}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
ul.status{list-style:none;padding:0;margin:0}ul.status li{padding:.45rem .6rem;border-radius:.4rem;margin:.3rem 0;background:#eef7ee}
ul.status li.problem{background:#fdf0e6}ul.status b{display:inline-block;min-width:14rem}
form{display:flex;gap:.5rem;margin:.5rem 0}input{flex:1;padding:.4rem;font:inherit}button{padding:.4rem 1rem;font:inherit}
.error{color:#b3261e}.muted{color:#5b6472}code{background:#f1f2f4;padding:0 .25rem;border-radius:.2rem}`;

function statusSection(status: StatusLine[]): string {
  const items = status.map((line) => `<li class="${line.healthy ? 'ok' : 'problem'}"><b>${escapeHtml(line.subject)}</b> ${escapeHtml(line.text)}</li>`);
  return `<h2>State of this gateway</h2>
<ul class="status">${items.join('\n')}</ul>
<p class="muted">Shown to requests from this machine or with ADMIN_TOKEN. Figures as of the moment the page loaded; reload for fresh ones. Health for monitors: <a href="/healthz">/healthz</a>, metrics: <a href="/metrics">/metrics</a>.</p>`;
}

function loginSection(view: StatusPageView): string {
  const why = '<p>The gateway\'s state is for the support team: open this page on the gateway\'s own machine';
  if (!view.loginPossible) return `${why}, or set <code>ADMIN_TOKEN</code> to sign in from elsewhere.</p>`;
  return `${why}, or sign in with <code>ADMIN_TOKEN</code>.</p>
<form method="post" action="/login"><input type="password" name="token" autocomplete="current-password" aria-label="Admin token" placeholder="ADMIN_TOKEN" required><button type="submit">Sign in</button></form>
${view.loginFailed ? '<p class="error" role="alert">That is not the admin token.</p>' : ''}
${view.loginBlockedFor ? `<p class="error" role="alert">Too many sign-in attempts from this address; try again in ${escapeHtml(view.loginBlockedFor)}.</p>` : ''}`;
}

function webchatSection(webchatOn: boolean): string {
  if (!webchatOn) return '<h2>Web chat</h2><p>The web chat is off (<code>WEBCHAT_ENABLED=false</code>), so there is no widget to try on this page.</p>';
  return `<h2>Try the web chat</h2>
<p>The round button at the bottom right is the web chat widget, live. Write a message: it appears in the operators' Telegram group, and their answer comes back here. To put it on your own site, see <code>docs/webchat.md</code>.</p>
<script src="/widget.js" data-title="Chat with us" async></script>`;
}

/** The page at GET /: the state for the team, the widget for everyone. */
export function renderStatusPage(view: StatusPageView): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Support gateway</title><style>${STYLE}</style></head>
<body><h1>Support gateway</h1>
<p class="muted">Relays customer messages from the web chat, Telegram, WhatsApp, VK, e-mail and Messenger into one Telegram group of operators.</p>
${view.status ? statusSection(view.status) : loginSection(view)}
${webchatSection(view.webchatOn)}
</body></html>`;
}
