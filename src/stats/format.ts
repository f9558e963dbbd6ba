import { escapeHtml } from '../util/html.js';
import { operatorText } from '../i18n/operator-texts.js';
import type { GroupFigures, StatsReport } from './compute.js';


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
  const csat = g.csatAverage === undefined ? '' : operatorText('stats.groupCsat', { average: formatNumber(g.csatAverage), rated: g.rated });
  return operatorText('stats.groupLine', { name, opened: g.opened, closed: g.closed, firstResponse: formatDuration(g.firstResponse.median), csat });
}

/** The report as Telegram HTML; complete on its own, the chart only repeats the per-day figures. */
export function formatReport(report: StatsReport, title = operatorText('stats.title')): string {
  const scope = [report.channel, report.operator?.name].filter(Boolean).join(', ');
  const lines: string[] = [];
  lines.push(`📊 <b>${escapeHtml(title)}: ${escapeHtml(report.period.label)}</b>${scope ? ` — ${escapeHtml(scope)}` : ''}`);

  if (report.opened === 0 && report.closed === 0) {
    lines.push('', operatorText('stats.empty'));
    return lines.join('\n');
  }

  const reasons = Object.entries(report.closedByReason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${operatorText(`stats.reason.${reason}`, { defaultValue: reason })} ${n}`)
    .join(', ');
  const open = Object.entries(report.openByStatus)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${operatorText(`status.${status}`)} ${n}`)
    .join(', ');
  lines.push('');
  lines.push(operatorText('stats.chats', { opened: report.opened, closed: report.closed, reasons: reasons ? ` (${reasons})` : '' }));
  lines.push(operatorText('stats.stillOpen', { count: report.stillOpen, statuses: open ? ` (${open})` : '' }));

  const fr = report.firstResponse;
  lines.push('');
  const unanswered = fr.unanswered > 0 ? operatorText('stats.unanswered', { count: fr.unanswered }) : '';
  lines.push(operatorText('stats.firstResponse', { median: formatDuration(fr.median), p90: formatDuration(fr.p90), sla: formatDuration(fr.slaSeconds), share: formatShare(fr.shareWithinSla), unanswered }));
  lines.push(operatorText('stats.resolution', { median: formatDuration(report.resolution.median), p90: formatDuration(report.resolution.p90) }));

  const csat = report.csat;
  const distribution = Object.entries(csat.distribution)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([score, n]) => `${score}★ ${n}`)
    .join(', ');
  lines.push(
    csat.rated > 0
      ? operatorText('stats.satisfaction', { average: formatNumber(csat.average, 2), count: csat.rated, share: formatShare(csat.shareRated), distribution })
      : operatorText('stats.noRatings'),
  );
  lines.push(operatorText('stats.messagesPerChat', { customers: formatNumber(report.messages.customerPerChat), operators: formatNumber(report.messages.operatorPerChat) }));

  if (report.perOperator.length > 0 && !report.operator) {
    lines.push('', `<b>${operatorText('stats.operators')}</b>`);
    const shown = report.perOperator.slice(0, 15);
    for (const o of shown) lines.push(groupLine(escapeHtml(o.name), o));
    if (report.perOperator.length > shown.length) lines.push(operatorText('stats.andMore', { count: report.perOperator.length - shown.length }));
  }
  if (report.perChannel.length > 0 && !report.channel) {
    lines.push('', `<b>${operatorText('stats.channels')}</b>`);
    for (const c of report.perChannel) lines.push(groupLine(c.channel, c));
  }
  if (report.busiestHours.length > 0) {
    const hours = report.busiestHours.map((h) => `${String(h.hour).padStart(2, '0')}:00 (${h.opened})`).join(', ');
    lines.push('', operatorText('stats.busiestHours', { timezone: escapeHtml(report.timezone), hours }));
  }
  return lines.join('\n');
}
