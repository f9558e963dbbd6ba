import { escapeHtml } from '../util/html.js';
import type { GroupFigures, StatsReport } from './compute.js';

const REASON_LABELS: Record<string, string> = {
  solved: 'solved',
  no_response: 'customer not responding',
  transferred_to_specialist: 'transferred to specialist',
  other: 'other',
};

/** 42s, 4m 12s, 1h 05m, 2d 3h: short enough for a table row. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

export function formatShare(share: number | undefined): string {
  return share === undefined ? '—' : `${Math.round(share * 100)}%`;
}

function formatNumber(value: number | undefined, digits = 1): string {
  return value === undefined ? '—' : value.toFixed(digits);
}

function groupLine(name: string, g: GroupFigures): string {
  const csat = g.csatAverage === undefined ? '' : `, CSAT ${formatNumber(g.csatAverage)} (${g.rated})`;
  return `• ${name}: ${g.opened} opened, ${g.closed} closed, first response ${formatDuration(g.firstResponse.median)}${csat}`;
}

/** The report as Telegram HTML; complete on its own, the chart only repeats the per-day figures. */
export function formatReport(report: StatsReport, title = 'Support statistics'): string {
  const scope = [report.channel, report.operator?.name].filter(Boolean).join(', ');
  const lines: string[] = [];
  lines.push(`📊 <b>${escapeHtml(title)}: ${escapeHtml(report.period.label)}</b>${scope ? ` — ${escapeHtml(scope)}` : ''}`);

  if (report.opened === 0 && report.closed === 0) {
    lines.push('', 'No chats were opened or closed in this period.');
    return lines.join('\n');
  }

  const reasons = Object.entries(report.closedByReason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${REASON_LABELS[reason] ?? reason} ${n}`)
    .join(', ');
  const open = Object.entries(report.openByStatus)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  lines.push('');
  lines.push(`<b>Chats</b>: ${report.opened} opened, ${report.closed} closed${reasons ? ` (${reasons})` : ''}`);
  lines.push(`Still open: ${report.stillOpen}${open ? ` (${open})` : ''}`);

  const fr = report.firstResponse;
  lines.push('');
  lines.push(
    `<b>First response</b>: median ${formatDuration(fr.median)}, p90 ${formatDuration(fr.p90)}, ` +
      `within ${formatDuration(fr.slaSeconds)}: ${formatShare(fr.shareWithinSla)}` +
      (fr.unanswered > 0 ? `; ${fr.unanswered} without an answer` : ''),
  );
  lines.push(`<b>Resolution</b>: median ${formatDuration(report.resolution.median)}, p90 ${formatDuration(report.resolution.p90)}`);

  const csat = report.csat;
  const distribution = Object.entries(csat.distribution)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([score, n]) => `${score}★ ${n}`)
    .join(', ');
  lines.push(
    csat.rated > 0
      ? `<b>Satisfaction</b>: ${formatNumber(csat.average, 2)} average from ${csat.rated} ratings (${formatShare(csat.shareRated)} of closed chats rated): ${distribution}`
      : '<b>Satisfaction</b>: no ratings',
  );
  lines.push(`<b>Messages per chat</b>: ${formatNumber(report.messages.customerPerChat)} from customers, ${formatNumber(report.messages.operatorPerChat)} from operators`);

  if (report.perOperator.length > 0 && !report.operator) {
    lines.push('', '<b>Operators</b>');
    const shown = report.perOperator.slice(0, 15);
    for (const o of shown) lines.push(groupLine(escapeHtml(o.name), o));
    if (report.perOperator.length > shown.length) lines.push(`… and ${report.perOperator.length - shown.length} more`);
  }
  if (report.perChannel.length > 0 && !report.channel) {
    lines.push('', '<b>Channels</b>');
    for (const c of report.perChannel) lines.push(groupLine(c.channel, c));
  }
  if (report.busiestHours.length > 0) {
    const hours = report.busiestHours.map((h) => `${String(h.hour).padStart(2, '0')}:00 (${h.opened})`).join(', ');
    lines.push('', `<b>Busiest hours</b> (${escapeHtml(report.timezone)}): ${hours}`);
  }
  return lines.join('\n');
}
