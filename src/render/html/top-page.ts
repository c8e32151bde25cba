/**
 * The page of `fdscan top --html FILE`: a snapshot of the ranking (the last reading, with
 * --interval), as the terminal's table (the same columns: render/columns.ts TOP_FIELDS), and the
 * first processes as a bar chart of what they are ranked by (Chartist, inlined), each bar labelled
 * with its value so it reads without colour. Processes at 80% of their soft limit or more are
 * marked by a word, not by a colour alone.
 */
import type { TopResult, TopSort } from '../../audit/top.js';
import { TOP_FIELDS, columnsOf, type Cell } from '../columns.js';
import { escapeText } from '../text.js';
import { html, terminalText, type Html, type PageFile, type PageVerdict } from './page.js';
import { CHARTIST_POLICY_SHIM, SERIES_STYLE, chartistAssets } from './chartist-assets.js';

/** Processes drawn as bars: the first of the ranking (the table lists them all). */
const BARS = 20;

const RANKED_BY: Record<TopSort, string> = { usage: 'usage of the soft limit', count: 'open descriptors', inheritable: 'inheritable descriptors' };

/** Write the page of one reading of `top` into `file`; `interval`: the reading had one before it (GROWTH). */
export function writeTopPage(file: PageFile, result: TopResult, sort: TopSort, context: { at: Date; interval: boolean }): void {
  const assets = chartistAssets();
  const columns = columnsOf(TOP_FIELDS, context.interval ? [] : ['growth']);
  const bars = result.processes.slice(0, BARS).map((p) => ({
    label: `${p.pid} ${escapeText(p.command)}`,
    value: sort === 'usage' ? Math.round((p.usage ?? 0) * 1000) / 10 : sort === 'count' ? p.open : p.inheritable ?? 0,
  }));
  const facts = [
    `read at ${context.at.toISOString()}; ranked by ${RANKED_BY[sort]}`,
    `${result.processes.length} of ${result.counted} processes shown${result.unreadable > 0 ? `; ${result.unreadable} not readable by this user` : ''}`,
  ];
  const head = {
    title: 'fdscan top', verdict: verdictOf(result), facts,
    scripts: bars.length > 0 ? [assets.script, CHARTIST_POLICY_SHIM, TOP_SCRIPT] : [], styles: [assets.style, SERIES_STYLE, TOP_STYLE],
  };
  file.write(head, (page) => {
    if (bars.length > 0) {
      const unit = sort === 'usage' ? '% of the soft limit' : sort === 'count' ? 'open descriptors' : 'inheritable descriptors';
      page.section({ id: 'chart', title: `The first ${bars.length}`, note: `Each bar: ${unit}.` }, () => {
        page.write(html`<div class="chart"><div id="top-chart" class="ct-chart" role="img" aria-label="${unit} per process"></div></div>\n`);
        page.data('top-bars', { unit: sort === 'usage' ? '%' : '', bars });
      });
    }
    page.section({ id: 'ranking', title: 'Ranking', note: 'As fdscan top prints it; ≥ 80% of the soft limit is marked HIGH, ≥ 95% FULL.' }, () => {
      if (result.processes.length === 0) {
        page.write(html`<p class="note">No process.</p>`);
        return;
      }
      page.write(html`<table class="top"><thead><tr><th>#</th>${columns.map((c) => html`<th class="${c.align}">${c.head}</th>`)}<th></th></tr></thead><tbody>
${result.processes.map((p, i) => {
    const level = p.usage === undefined ? '' : p.usage >= 0.95 ? 'FULL' : p.usage >= 0.8 ? 'HIGH' : '';
    return html`<tr data-pid="${p.pid}"${level ? html` class="level-${level.toLowerCase()}"` : ''}><td>${i + 1}</td>${columns.map((c) => html`<td class="${c.align}">${cellMarkup(c.cell(p))}</td>`)}<td>${level ? html`<strong>${level}</strong>` : ''}</td></tr>\n`;
  })}</tbody></table>`);
    });
  });
}

/** A cell as the terminal table has it (already escaped for a terminal): only markup characters become entities. */
function cellMarkup(cell: Cell): Html {
  return terminalText(typeof cell === 'string' ? cell : cell.map((s) => s.text).join(''));
}

function verdictOf(result: TopResult): PageVerdict {
  const high = result.processes.filter((p) => p.usage !== undefined && p.usage >= 0.8).length;
  const first = result.processes[0];
  const text = first
    ? `first: pid ${first.pid} ${first.command}, ${first.open} open${first.usage !== undefined ? ` (${(first.usage * 100).toFixed(1)}% of its soft limit)` : ''}; ${high} shown at 80% of the soft limit or more`
    : 'no process counted';
  return { status: high > 0 ? 'fail' : 'info', label: high > 0 ? 'HIGH' : 'SNAPSHOT', text };
}

const TOP_STYLE = `
table.top td.right, table.top th.right { text-align: right; font-variant-numeric: tabular-nums; }
table.top tr.level-high td { background: var(--mark); }
table.top tr.level-full td { background: var(--hit); }
table.top tr.level-full td:first-child { border-left: 3px double var(--fail); }
.chart text.bar-value { fill: var(--fg); font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
`;

/** The bar chart: one horizontal bar per process, its value written at its end. */
const TOP_SCRIPT = `(() => {
  const block = document.getElementById('top-bars');
  const target = document.getElementById('top-chart');
  if (!block || !target || typeof Chartist === 'undefined') return;
  const data = JSON.parse(block.textContent);
  const bars = data.bars.slice().reverse();
  const chart = new Chartist.BarChart(target, { labels: bars.map((b) => b.label), series: [bars.map((b) => b.value)] }, {
    horizontalBars: true,
    height: Math.max(160, 26 * bars.length + 40) + 'px',
    chartPadding: { top: 8, right: 70, bottom: 8, left: 8 },
    axisY: { offset: 260 },
    axisX: { onlyInteger: data.unit !== '%', low: 0, scaleMinSpace: 50 },
  });
  chart.on('draw', (d) => {
    if (d.type !== 'bar') return;
    d.group.elem('text', { x: d.x2 + 6, y: d.y2 + 4 }, 'bar-value').text(String(d.value.x) + data.unit);
  });
})();
`;
