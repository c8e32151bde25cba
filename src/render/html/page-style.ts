/**
 * The base style of every fdscan page (src/render/html/page.ts): system fonts, names in monospace,
 * the verdict as a word on a tinted band, collapsible trees (details/summary), highlighted paths
 * with a border and a word as well as a colour, so the page reads in greyscale and in print.
 * Pages add their own rules after it (PageHead.styles).
 */
export const BASE_STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --band: #f6f8fa;
  --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --mark: #fff8c5; --hit: #ffebe9; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --bg: #0d1117; --band: #151b23;
    --pass: #3fb950; --fail: #f85149; --error: #d29922; --mark: #5c4d00; --hit: #4b1113; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { padding: 0 1.25rem 2rem; }
h1 { font-size: 1.3rem; margin: 0 0 .4rem; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
.page-head { padding: 1rem 1.25rem .6rem; background: var(--band); border-bottom: 1px solid var(--line); }
.verdict { margin: .2rem 0; padding: .35rem .6rem; border-left: 6px solid var(--muted); font-size: 1.05rem; }
.verdict[data-status="pass"] { border-color: var(--pass); }
.verdict[data-status="fail"] { border-color: var(--fail); border-left-style: double; border-left-width: 9px; }
.verdict[data-status="error"] { border-color: var(--error); border-left-style: dashed; }
.verdict-label { letter-spacing: .05em; }
.verdict[data-status="pass"] .verdict-label { color: var(--pass); }
.verdict[data-status="fail"] .verdict-label { color: var(--fail); }
.verdict[data-status="error"] .verdict-label { color: var(--error); }
.facts { margin: .3rem 0 0; padding: 0; list-style: none; color: var(--muted); }
.facts li { margin: .1rem 0; }
.note { color: var(--muted); margin: .2rem 0 .6rem; }
code, .name, .argv, .path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .4rem 0; }
th, td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--band); }
details { margin: .1rem 0; }
details > summary { cursor: pointer; }
.tag { display: inline-block; padding: 0 .35rem; margin-left: .3rem; border: 1px solid var(--line); border-radius: 3px; font-size: 12px; color: var(--muted); }
mark { background: var(--mark); color: inherit; }
[hidden] { display: none !important; }
@media print { details:not([open]) > *:not(summary) { display: block; } }
`;
