/**
 * The page of `fdscan watch PID --html FILE`, written when the watch ends: the descriptor count
 * over time as a line chart (the total, and each type), the counts by type as a table, the execs
 * seen, and the descriptors that appeared and stayed. The chart is Chartist's (chartist-assets.ts),
 * drawn by the page from its data block: one point per sample up to MAX_POINTS samples; a longer
 * watch is drawn as MAX_POINTS points, each the highest count of its run of samples (a leak's
 * peaks stay visible), and the page says so. Every series has its own line style and is labelled
 * at its end, so the chart reads without colour; the table says the same in numbers.
 */
import type { WatchSummary } from '../../watch/watch-process.js';
import type { WatchHistory } from '../../watch/watch-history.js';
import { descriptorTarget, plural, quoteArgv } from '../text.js';
import { originLines } from '../origin-text.js';
import { html, terminalText, type Html, type PageFile, type PageVerdict } from './page.js';
import { CHARTIST_POLICY_SHIM, SERIES_STYLE, chartistAssets } from './chartist-assets.js';

/** Samples drawn one point each; beyond, runs of samples share a point. */
export const MAX_POINTS = 1000;
/** Types drawn as their own line (besides the total); the others are summed as one. */
const TYPE_LINES = 6;
const SERIES_LETTERS = 'abcdefgh';

/** How the watch ran, for the page's head. */
export interface WatchPageContext {
  intervalMs: number;
  startedAt: Date;
}

/** One line of the chart: its name and its points, [seconds since the first sample, count]. */
interface Series {
  name: string;
  points: Array<[number, number]>;
}

/** Write the page of a finished watch into `file`. */
export function writeWatchPage(file: PageFile, summary: WatchSummary, history: WatchHistory, context: WatchPageContext): void {
  const assets = chartistAssets();
  const series = chartSeries(history);
  const n = history.total.length;
  const seconds = n > 0 ? history.elapsedMs[n - 1]! / 1000 : 0;
  const facts = [
    html`command: <code class="argv">${terminalText(quoteArgv(history.argv))}</code>`,
    `pid ${summary.pid}; ${plural(n, 'sample')} every ${context.intervalMs} ms over ${seconds.toFixed(1)} s from ${context.startedAt.toISOString()}; ended: ${ENDED[summary.ended]}`,
  ];
  const head = { title: `fdscan watch: pid ${summary.pid}`, verdict: verdictOf(summary), facts, scripts: [assets.script, CHARTIST_POLICY_SHIM, WATCH_SCRIPT], styles: [assets.style, SERIES_STYLE] };
  file.write(head, (page) => {
    const bucket = Math.ceil(n / MAX_POINTS);
    const drawn = bucket > 1
      ? `${plural(n, 'sample')} drawn as ${series[0]?.points.length ?? 0} points: each the highest count of its run of ${bucket} samples.`
      : 'One point per sample.';
    page.section({ id: 'chart', title: 'Open descriptors over time', note: `${drawn} Time in seconds since the first sample.` }, () => {
      page.write(html`<div class="chart"><div id="watch-chart" class="ct-chart" role="img" aria-label="descriptor count per sample: ${series.map((s) => s.name).join(', ')}"></div>
<ul class="legend">${series.map((s, i) => html`<li data-series="${s.name}">${legendLine(i)}<code>${s.name}</code> ${s.points.length > 0 ? `(last ${s.points[s.points.length - 1]![1]})` : ''}</li>`)}</ul></div>
`);
      page.data('watch-series', { series });
    });
    page.section({ id: 'by-type', title: 'Counts by type', note: 'At the first and the last sample, the lowest and the highest.' }, () => {
      const rows = [['total', history.total] as const, ...[...history.byType.entries()].sort(([a], [b]) => a.localeCompare(b))];
      page.write(html`<table class="counts"><thead><tr><th>type</th><th>first</th><th>last</th><th>min</th><th>max</th><th>change</th></tr></thead><tbody>${rows.map(([type, counts]) => countRow(type, counts))}</tbody></table>`);
    });
    if (summary.execs.length > 0) {
      page.section({ id: 'execs', title: `Execs (${summary.execs.length})`, note: 'The pid ran a new program: its argv changed between two samples.' }, () => {
        page.write(html`<ul>${summary.execs.map((e) => html`<li>at sample ${e.sample} (+${secondsAt(history, e.sample)} s): <code class="argv">${terminalText(quoteArgv(e.argv))}</code></li>`)}</ul>`);
      });
    }
    page.section({ id: 'stayed', title: `Appeared and stayed (${summary.stayed.length})`, note: 'Absent from the first sample, present in at least two samples and in the last one.' }, () => {
      if (summary.stayed.length === 0) {
        page.write(html`<p class="note">None.</p>`);
        return;
      }
      page.write(html`<table class="stayed"><thead><tr><th>fd</th><th>type</th><th>target</th><th>since</th></tr></thead><tbody>${summary.stayed.map((d) => html`<tr><td>${d.fd}</td><td>${d.type}</td><td><code class="path">${terminalText(descriptorTarget(d))}</code>${d.origin ? html`<div class="origin"><pre>${terminalText(originLines(d.origin, summary.pid).join('\n'))}</pre></div>` : ''}</td><td>sample ${d.firstSeen} (+${secondsAt(history, d.firstSeen)} s)</td></tr>`)}</tbody></table>`);
    });
  });
}

const ENDED: Record<WatchSummary['ended'], string> = { count: 'sample count reached', interrupted: 'interrupted', exited: 'the process exited' };

function verdictOf(summary: WatchSummary): PageVerdict {
  const counts = summary.counts;
  const label = summary.growth > 0 ? 'GREW' : summary.growth < 0 ? 'SHRANK' : 'STEADY';
  const text = counts.length === 0 ? 'no sample'
    : `${counts[0]} open at the first sample, ${counts[counts.length - 1]} at the last (${summary.growth >= 0 ? '+' : ''}${summary.growth}); ${plural(summary.stayed.length, 'descriptor')} appeared and stayed`;
  return { status: 'info', label, text };
}

/** The total and the types with the most descriptors at their peak, the rest summed; thinned to MAX_POINTS. */
function chartSeries(history: WatchHistory): Series[] {
  // A column may hold a day of samples: its peak by a loop, not by spreading it into arguments.
  const peak = (counts: number[]): number => counts.reduce((m, c) => (c > m ? c : m), 0);
  const types = [...history.byType.entries()].sort(([a, x], [b, y]) => peak(y) - peak(x) || a.localeCompare(b));
  const shown = types.length > TYPE_LINES + 1 ? types.slice(0, TYPE_LINES) : types;
  const rest = types.slice(shown.length);
  const columns: Array<[string, number[]]> = [['total', history.total], ...shown];
  if (rest.length > 0) columns.push([`${rest.length} other types`, history.total.map((_, i) => rest.reduce((sum, [, c]) => sum + c[i]!, 0))]);
  const bucket = Math.ceil(history.total.length / MAX_POINTS);
  return columns.map(([name, counts]) => ({ name, points: thin(history.elapsedMs, counts, bucket) }));
}

/** Every sample as a point, or (bucket > 1) the highest of each run of `bucket` samples, at its time. */
function thin(elapsedMs: number[], counts: number[], bucket: number): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  for (let start = 0; start < counts.length; start += Math.max(bucket, 1)) {
    let at = start;
    for (let i = start + 1; i < Math.min(start + bucket, counts.length); i++) if (counts[i]! > counts[at]!) at = i;
    points.push([Math.round(elapsedMs[at]!) / 1000, counts[at]!]);
  }
  return points;
}

function countRow(type: string, counts: readonly number[]): Html {
  const first = counts[0] ?? 0;
  const last = counts[counts.length - 1] ?? 0;
  let min = first;
  let max = first;
  for (const c of counts) {
    if (c < min) min = c;
    if (c > max) max = c;
  }
  return html`<tr><td><code>${type}</code></td><td>${first}</td><td>${last}</td><td>${min}</td><td>${max}</td><td>${last - first >= 0 ? '+' : ''}${last - first}</td></tr>`;
}

function secondsAt(history: WatchHistory, sample: number): string {
  return ((history.elapsedMs[sample] ?? 0) / 1000).toFixed(1);
}

/** A short line in series `index`'s style, for the legend. */
function legendLine(index: number): Html {
  return html`<svg width="44" height="12" aria-hidden="true"><g class="ct-series ct-series-${SERIES_LETTERS[index] ?? 'a'}"><path class="ct-line" d="M2 6 H42"></path><line class="ct-point" x1="22" y1="6" x2="22.01" y2="6"></line></g></svg>`;
}

/**
 * The page's chart: a Chartist line chart of the data block, every series labelled at its last
 * point (labels that would overlap are moved apart).
 */
const WATCH_SCRIPT = `(() => {
  const block = document.getElementById('watch-series');
  const target = document.getElementById('watch-chart');
  if (!block || !target || typeof Chartist === 'undefined') return;
  const data = JSON.parse(block.textContent);
  const letters = ${JSON.stringify(SERIES_LETTERS)};
  const series = data.series.map((s, i) => ({ name: s.name, className: 'ct-series-' + letters[i], data: s.points.map((p) => ({ x: p[0], y: p[1] })) }));
  const chart = new Chartist.LineChart(target, { series }, {
    height: '360px',
    lineSmooth: false,
    chartPadding: { top: 16, right: 120, bottom: 8, left: 8 },
    axisX: { type: Chartist.AutoScaleAxis, scaleMinSpace: 70, labelInterpolationFnc: (v) => (Math.round(v * 100) / 100) + ' s' },
    axisY: { low: 0, onlyInteger: true },
  });
  const labels = [];
  chart.on('draw', (d) => {
    if (d.type !== 'line') return;
    const last = d.path.pathElements[d.path.pathElements.length - 1];
    if (!last) return;
    const text = d.group.elem('text', { x: last.x + 8, y: last.y + 4 }, 'series-label');
    text.text(d.series.name);
    labels.push(text._node);
  });
  chart.on('created', () => {
    labels.sort((a, b) => Number(a.getAttribute('y')) - Number(b.getAttribute('y')));
    let floor = -Infinity;
    for (const el of labels) {
      const y = Math.max(Number(el.getAttribute('y')), floor + 14);
      el.setAttribute('y', String(y));
      floor = y;
    }
    labels.length = 0;
  });
})();
`;
