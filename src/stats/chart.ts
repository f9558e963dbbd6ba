import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { StatsReport } from './compute.js';
import { operatorText } from '../i18n/operator-texts.js';

/** Debian's fonts-dejavu-core; resvg draws no text without a font it can load. */
const FONT_DIRS = ['/usr/share/fonts'];
const FONT = 'DejaVu Sans';

/** Vega-Lite spec: chats opened per day stacked by channel, and the day's first-response median below. */
export function chartSpec(report: StatsReport): TopLevelSpec {
  const opened = report.daily.flatMap((d) => Object.entries(d.byChannel).map(([channel, count]) => ({ day: d.day, channel, count })));
  const response = report.daily.filter((d) => d.firstResponseMedian !== undefined).map((d) => ({ day: d.day, minutes: d.firstResponseMedian! / 60 }));
  // Days are calendar dates already in the report's zone: draw them as UTC so the process zone cannot shift them.
  const dayAxis = { field: 'day', type: 'temporal' as const, title: null, axis: { format: '%b %d', labelAngle: 0 } };
  const width = 720;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    config: { font: FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 15 } },
    title: operatorText('stats.chart.title', { period: report.period.label }),
    // One shared day scale so each point of the trend sits above its bar.
    resolve: { scale: { x: 'shared' } },
    vconcat: [
      {
        width,
        height: 220,
        data: { values: opened },
        mark: { type: 'bar' },
        encoding: {
          x: { ...dayAxis, timeUnit: 'utcyearmonthdate' },
          y: { aggregate: 'sum', field: 'count', type: 'quantitative', title: operatorText('stats.chart.chatsOpened') },
          color: { field: 'channel', type: 'nominal', title: operatorText('stats.chart.channel'), legend: { orient: 'top' } },
        },
      },
      {
        width,
        height: 140,
        data: { values: response },
        mark: { type: 'line', color: '#d62728', point: { color: '#d62728' } },
        encoding: {
          x: { ...dayAxis, timeUnit: 'utcyearmonthdate', bandPosition: 0.5 },
          y: { field: 'minutes', type: 'quantitative', title: operatorText('stats.chart.firstResponseMedian') },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Renders the spec to SVG with vega's headless view (no canvas, no browser). */
export async function chartSvg(report: StatsReport): Promise<string> {
  const { spec } = compile(chartSpec(report));
  const view = new View(parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The report chart as PNG bytes, drawn by resvg at 2x for phone screens. */
export async function renderChart(report: StatsReport): Promise<Buffer> {
  const svg = await chartSvg(report);
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: false, fontDirs: FONT_DIRS, defaultFontFamily: FONT, sansSerifFamily: FONT },
  });
  return resvg.render().asPng();
}
