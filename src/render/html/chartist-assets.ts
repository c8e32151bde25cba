/**
 * Chartist (chartist.dev, MIT), the chart library of the watch and top pages: its UMD build
 * (~38 KB, defines `Chartist`) and its style (~9 KB), read from the installed package when a page
 * is written and inlined into it, so the page needs no network. It draws SVG: a line chart's
 * every value is a `.ct-point` element, a bar chart's a `.ct-bar`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The script and the style to inline. */
export interface ChartAssets {
  script: string;
  style: string;
}

let loaded: ChartAssets | undefined;

/** Chartist's script and style, read once. */
export function chartistAssets(): ChartAssets {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  // The source map comments would name files the page does not carry (and its policy would refuse to load).
  const read = (file: string): string => readFileSync(require.resolve(`chartist/dist/${file}`), 'utf8').replace(/\n?\/[/*]# sourceMappingURL=\S+( \*\/)?\s*$/, '\n');
  loaded = { script: read('index.umd.js'), style: read('index.css') };
  return loaded;
}

/**
 * Run before the page's chart script: Chartist sizes its svg with a `style` attribute, which the
 * page's policy refuses (only its own style element, by hash, may style it); the same sizes set
 * through the element's style object (CSSOM) are allowed.
 */
export const CHARTIST_POLICY_SHIM = `(() => {
  if (typeof Chartist === 'undefined') return;
  const attr = Chartist.Svg.prototype.attr;
  Chartist.Svg.prototype.attr = function (attributes, ns) {
    if (attributes && typeof attributes === 'object' && typeof attributes.style === 'string') {
      const rest = Object.assign({}, attributes);
      this._node.style.cssText = rest.style;
      delete rest.style;
      return attr.call(this, rest, ns);
    }
    return attr.apply(this, arguments);
  };
})();
`;

/**
 * Line styles per series (Chartist names them ct-series-a, -b, ...): each its own dash pattern
 * and point size besides its colour, so the chart reads in greyscale and print; a label at the
 * end of each line names it.
 */
export const SERIES_STYLE = `
.chart .ct-line { stroke-width: 2px; }
.chart .ct-point { stroke-width: 7px; }
.chart .ct-series-a .ct-line { stroke-width: 3.5px; }
.chart .ct-series-b .ct-line { stroke-dasharray: 10 5; }
.chart .ct-series-c .ct-line { stroke-dasharray: 2 4; }
.chart .ct-series-d .ct-line { stroke-dasharray: 12 4 2 4; }
.chart .ct-series-e .ct-line { stroke-dasharray: 6 3 6 3 1 3; }
.chart .ct-series-f .ct-line { stroke-dasharray: 1 7; }
.chart .ct-series-g .ct-line { stroke-dasharray: 16 6; }
.chart .ct-series-h .ct-line { stroke-dasharray: 4 2; }
.chart .ct-series-b .ct-point, .chart .ct-series-d .ct-point, .chart .ct-series-f .ct-point, .chart .ct-series-h .ct-point { stroke-width: 5px; stroke-linecap: square; }
.chart .ct-label { color: var(--muted); fill: var(--muted); font-size: 12px; }
.chart .ct-grid { stroke: var(--line); }
.chart text.series-label { fill: var(--fg); font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.chart .ct-bar { stroke-width: 14px; }
.legend { list-style: none; padding: 0; margin: .3rem 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; }
.legend svg { vertical-align: middle; margin-right: .3rem; }
`;
