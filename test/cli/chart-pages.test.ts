/**
 * `watch PID --html` and `top --html`, opened in a real headless chromium: the watch chart has one
 * point per sample and the page names the descriptors that stayed; markup in a watched program's
 * file names runs nothing; Ctrl-C and SIGTERM still write the page; top's page lists real processes.
 * Screenshots go to dist/test-output/pictures (FDSCAN_UPDATE_SCREENSHOTS=1: the README's to docs/images).
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fdscanBin, startFixture } from '../helpers/fixture.js';
import { startNearLimit } from '../helpers/near-limit.js';
import { browserTest, closeBrowser, openFile, readmeScreenshot } from '../helpers/browser.js';

test.after.always(closeBrowser);

const linux = process.platform === 'linux' ? test : test.skip;

interface WatchDocument {
  counts: number[];
  stayed: Array<{ fd: number; type: string; target: string }>;
}

browserTest('watch --count N --html: one point per sample on the total line, a line per type, the descriptors that stayed named; markup in their names runs nothing', async (t) => {
  const fixture = await startFixture<{ pid: number }>('open-kinds-over-time.py');
  try {
    await withTempDir('fdscan-chart', async (dir) => {
      const file = join(dir, 'watch.html');
      const samples = 8;
      const result = runCli(['watch', String(fixture.pid), '--interval', '250ms', '--count', String(samples), '--json', '--html', file]);
      t.is(result.code, 0, result.stderr);
      const doc = JSON.parse(result.stdout) as WatchDocument;
      t.is(doc.counts.length, samples);
      const { page, dialogs, consoleErrors, pageErrors } = await openFile(file);
      try {
        t.deepEqual([dialogs, consoleErrors, pageErrors], [[], [], []]);
        // The fixture's names hold `document.title="pwned"` and an <img onerror>: neither ran nor became an element.
        t.is(await page.title(), `fdscan watch: pid ${fixture.pid}`);
        t.is(await page.locator('img').count(), 0);
        t.is(await page.locator('main script:not([type])').count(), 0);
        const chart = page.locator('#watch-chart svg');
        t.is(await chart.locator('.ct-series-a .ct-point').count(), samples, 'one point per sample on the total line');
        // Each point's value is the count of its sample, in order.
        const values = await chart.locator('.ct-series-a .ct-point').evaluateAll((points) => points.map((p) => p.getAttribute('ct:value')));
        t.deepEqual(values.map((v) => Number(v!.split(',').pop())), doc.counts);
        const labels = await chart.locator('text.series-label').allTextContents();
        t.is(labels[0], 'total');
        for (const type of ['REG', 'FIFO', 'SOCK']) t.true(labels.includes(type), `a line labelled ${type}: ${labels.join(' ')}`);
        // The table of those that stayed: every one the JSON summary lists, markup shown as text.
        const rows = await page.locator('#stayed table.stayed tbody tr').allInnerTexts();
        t.is(rows.length, doc.stayed.length);
        t.true(doc.stayed.length >= 8, `${doc.stayed.length} stayed`);
        for (const d of doc.stayed) t.true(rows.some((r) => r.startsWith(`${d.fd}\t${d.type}\t${d.target}\t`)), `fd ${d.fd} ${d.target} listed`);
        t.true(rows.some((r) => r.includes('<script>document.title="pwned"</script>')), 'the <script> name shown as text');
        t.true(rows.some((r) => r.includes('<img src=x onerror="document.title=1">')), 'the <img> name shown as text');
        await readmeScreenshot(page, 'watch');
      } finally {
        await page.close();
      }
    });
  } finally {
    await fixture.stop();
  }
});

linux('watch --html without --count: SIGINT and SIGTERM end the watch and the page is written, a point per sample taken', async (t) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const fixture = await startFixture<{ pid: number }>('open-kinds-over-time.py');
    try {
      await withTempDir('fdscan-chart', async (dir) => {
        const file = join(dir, 'watch.html');
        const watch = spawn(process.execPath, [fdscanBin, 'watch', String(fixture.pid), '--interval', '100ms', '--html', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
        const exited = new Promise<number | null>((resolve) => watch.once('exit', (code) => resolve(code)));
        let samples = 0;
        const lines = createInterface({ input: watch.stdout });
        await new Promise<void>((resolve) => lines.on('line', (line) => {
          if (/^sample \d+ /.test(line) && ++samples === 3) resolve();
        }));
        watch.kill(signal);
        t.is(await exited, 0, signal);
        t.true(existsSync(file), `${signal}: the page is written`);
        const html = readFileSync(file, 'utf8');
        t.regex(html, /<\/html>\n$/);
        const data = /<script type="application\/json" id="watch-series">(.*?)<\/script>/.exec(html);
        const series = JSON.parse(data![1]!) as { series: Array<{ name: string; points: unknown[] }> };
        t.is(series.series[0]!.name, 'total');
        t.true(series.series[0]!.points.length >= 3, `${signal}: ${series.series[0]!.points.length} points`);
      });
    } finally {
      await fixture.stop();
    }
  }
});

browserTest('top --html: real processes as rows of the ranking and bars of the chart, the one near its limit marked HIGH', async (t) => {
  const fixtures = await Promise.all([startNearLimit(50, 45, 'fdscan-top-a'), startNearLimit(200, 30, '<b>top-b</b>')]);
  try {
    await withTempDir('fdscan-chart', async (dir) => {
      const file = join(dir, 'top.html');
      const result = runCli(['top', '--html', file, ...fixtures.map((f) => String(f.pid))]);
      t.is(result.code, 0, result.stderr);
      const { page, dialogs, consoleErrors, pageErrors } = await openFile(file);
      try {
        t.deepEqual([dialogs, consoleErrors, pageErrors], [[], [], []]);
        const rows = page.locator('table.top tbody tr');
        t.is(await rows.count(), 2);
        const [a, b] = fixtures;
        const first = await rows.nth(0).locator('td').allInnerTexts();
        t.deepEqual([first[0], first[1], first[3], first[4], first[5], first[6]], ['1', String(a!.pid), 'fdscan-top-a', String(a!.manifest.open), '50', '90.0%']);
        t.is(first[first.length - 1], 'HIGH');
        const second = await rows.nth(1).locator('td').allInnerTexts();
        t.deepEqual([second[1], second[3], second[4]], [String(b!.pid), '<b>top-b</b>', String(b!.manifest.open)]);
        t.is(await page.locator('b').count(), 0, 'the name is text, not a bold element');
        t.regex(await page.locator('.verdict').innerText(), /^HIGH first: pid \d+ fdscan-top-a, 45 open \(90\.0% of its soft limit\)/);
        const bars = page.locator('#top-chart svg .ct-bar');
        t.is(await bars.count(), 2);
        t.deepEqual(await page.locator('#top-chart svg text.bar-value').allTextContents(), ['15%', '90%']);
        await readmeScreenshot(page, 'top');
      } finally {
        await page.close();
      }
    });
  } finally {
    await Promise.all(fixtures.map((f) => f.stop()));
  }
});

linux('watch --html and top --html to a folder refuse before reading anything (exit 2)', (t) => {
  withTempDir('fdscan-chart', (dir) => {
    // A pid that has just exited: were the page opened after the first reading, that reading's error would come first.
    const gone = spawnSync('true').pid!;
    const watch = runCli(['watch', String(gone), '--count', '1', '--html', dir]);
    t.is(watch.code, 2);
    t.regex(watch.stderr, /^fdscan: cannot write --html .*: a directory$/m);
    t.is(watch.stdout, '');
    const top = runCli(['top', '--html', dir]);
    t.is(top.code, 2);
    t.is(top.stdout, '');
  });
});
