/** The watch page of a long watch: thinned to MAX_POINTS points that keep each run's peak, every type kept as a column. */
import test from 'ava';
import { writePage, type PageFile } from '../../../src/render/html/page.js';
import { MAX_POINTS, writeWatchPage } from '../../../src/render/html/watch-page.js';
import { WatchHistory } from '../../../src/watch/watch-history.js';
import type { WatchSummary } from '../../../src/watch/watch-process.js';

/** A page written into a string instead of a file. */
function pageText(write: (file: PageFile) => void): string {
  let text = '';
  write({ write: (head, body) => writePage((chunk) => { text += chunk; }, head, body) });
  return text;
}

test('a watch of 2,500 samples is drawn as runs of 3, each point the highest of its run; a type counts 0 where it had none', (t) => {
  const history = new WatchHistory();
  const counts: number[] = [];
  for (let i = 0; i < 2500; i++) {
    // A steady 10, one spike of 500 at sample 1234, sockets from sample 2000 on, a pipe in samples 100-199 only.
    const reg = i === 1234 ? 500 : 10;
    const sock = i >= 2000 ? 2 : 0;
    const fifo = i >= 100 && i < 200 ? 1 : 0;
    counts.push(reg + sock + fifo);
    const byType = { REG: reg, ...(sock ? { SOCK: sock } : {}), ...(fifo ? { FIFO: fifo } : {}) };
    history.add({ index: i, elapsedMs: i * 1000, count: reg + sock + fifo, byType, argv: ['server'], exec: false, opened: [], closed: [] });
  }
  for (const column of history.byType.values()) t.is(column.length, 2500);
  t.is(history.byType.get('SOCK')![1999], 0);
  t.is(history.byType.get('FIFO')![99], 0);
  t.is(history.byType.get('FIFO')![150], 1);
  t.is(history.byType.get('FIFO')![200], 0);
  const summary: WatchSummary = { pid: 42, samples: 2500, counts, growth: 2, stayed: [], execs: [], ended: 'interrupted' };
  const html = pageText((file) => writeWatchPage(file, summary, history, { intervalMs: 1000, startedAt: new Date(0) }));
  const block = /<script type="application\/json" id="watch-series">(.*?)<\/script>/.exec(html)!;
  const { series } = JSON.parse(block[1]!) as { series: Array<{ name: string; points: Array<[number, number]> }> };
  t.deepEqual(series.map((s) => s.name), ['total', 'REG', 'SOCK', 'FIFO']);
  const bucket = Math.ceil(2500 / MAX_POINTS);
  for (const s of series) t.is(s.points.length, Math.ceil(2500 / bucket));
  t.deepEqual(series[0]!.points.find(([, y]) => y === 500), [1234, 500], 'the spike is a point, at its own time');
  t.is(Math.max(...series[0]!.points.map(([, y]) => y)), 500);
  t.regex(html, /2500 samples drawn as 834 points: each the highest count of its run of 3 samples\./);
});
