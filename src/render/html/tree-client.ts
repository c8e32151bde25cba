/**
 * What the process-tree page (tree-page.ts) adds to the base page: its style, and one small script
 * (inlined, allowed by its hash) for search, open all / close all, and opening the way to a process
 * when a finding links to it. Without the script the page still reads: nodes open and close
 * as details do, and the search box stays hidden.
 */

/** Tree nodes indented by a rule, marks as words on a border. */
export const TREE_STYLE = `
.tree-tools { position: sticky; top: 0; z-index: 1; background: var(--bg); padding: .4rem 0; border-bottom: 1px solid var(--line); }
.tree-tools input { width: 22rem; max-width: 60vw; font: inherit; padding: .15rem .3rem; }
.tree details.proc { margin-left: .45rem; padding-left: .45rem; border-left: 1px solid var(--line); }
.tree > details.proc { margin-left: 0; }
details.proc > summary { padding: .1rem 0; }
details.proc.on-path { border-left: 3px double var(--fail); }
details.proc.hit > summary { background: var(--mark); }
details.proc:target > summary { outline: 2px solid var(--fg); }
.pid { font-weight: 600; }
.exit { color: var(--muted); margin-left: .3rem; }
.tag-path { color: var(--fg); border-color: var(--fail); font-weight: 600; }
.proc-body { padding: .1rem 0 .3rem .1rem; }
.proc-body > .note { margin: 0; }
.exec p { margin: .15rem 0; }
.received { font-size: 13px; }
.received tr.mark-finding td { background: var(--hit); }
.received tr.mark-finding td:first-child { border-left: 3px double var(--fail); }
.received tr.mark-extra td { background: var(--hit); }
.finding { border: 1px solid var(--line); border-left: 6px double var(--fail); padding: .3rem .7rem; margin: .5rem 0; }
.finding > summary { font-weight: 600; }
.finding-label { letter-spacing: .04em; color: var(--fail); }
.leak-path { margin: .4rem 0; padding-left: 1.6rem; }
.leak-path > .step { margin: .15rem 0; }
.leak-path > .opener, .leak-path > .receiver { background: var(--hit); padding: .1rem .3rem; }
.origin pre { margin: .2rem 0 .4rem; padding: .3rem .5rem; background: var(--band); border: 1px solid var(--line); white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12.5px; }
.origin > strong { display: block; margin-top: .3rem; }
.fix { margin: .3rem 0; }
.error { color: var(--fail); }
`;

/**
 * The tree's script. Search: a process matches when its pid, argv, image, a target it received or a
 * mark holds the text (case-folded); matches and their ancestors stay, open, the rest is hidden.
 * 5,000 nodes: one pass over them per keystroke.
 */
export const TREE_SCRIPT = `(() => {
  const nodes = Array.from(document.querySelectorAll('details.proc'));
  const tools = document.querySelector('.tree-tools');
  const input = document.getElementById('tree-search');
  const count = document.getElementById('tree-count');
  if (!tools || !input || !count) return;
  tools.hidden = false;
  const up = (el) => el.parentElement && el.parentElement.closest('details.proc');
  const reveal = (el) => { for (let a = el; a; a = up(a)) a.open = true; };
  let timer;
  const search = () => {
    const q = input.value.trim().toLowerCase();
    let hits = 0;
    const keep = new Set();
    for (const el of nodes) {
      const hit = q !== '' && el.dataset.search.includes(q);
      el.classList.toggle('hit', hit);
      if (!hit) continue;
      hits++;
      for (let a = el; a && !keep.has(a); a = up(a)) { keep.add(a); a.open = true; }
    }
    for (const el of nodes) el.hidden = q !== '' && !keep.has(el);
    count.textContent = q === '' ? '' : hits + (hits === 1 ? ' process matches' : ' processes match');
    const first = nodes.find((el) => el.classList.contains('hit'));
    if (first) first.scrollIntoView({ block: 'nearest' });
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 120); });
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(timer); search(); } });
  document.getElementById('tree-open').addEventListener('click', () => { for (const el of nodes) el.open = true; });
  document.getElementById('tree-close').addEventListener('click', () => { for (const el of nodes) el.open = false; });
  const follow = () => {
    const el = location.hash.startsWith('#p-') && document.getElementById(location.hash.slice(1));
    if (el) { el.hidden = false; reveal(el); el.scrollIntoView(); }
  };
  window.addEventListener('hashchange', follow);
  follow();
})();
`;
