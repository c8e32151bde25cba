/**
 * The --html pages of gate, inherit-diff and lifecycle, opened in a real headless chromium: what a
 * person must see (the verdict, the leaked file, its opener and receivers), hostile names shown as
 * text and never run, 5,000 processes loaded and searched. Screenshots go to dist/test-output/pictures;
 * with FDSCAN_UPDATE_SCREENSHOTS=1 the README's go to docs/images too.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fixturesDir } from '../helpers/fixture.js';
import { browserTest, closeBrowser, openFile, readmeScreenshot, screenshot } from '../helpers/browser.js';

test.after.always(closeBrowser);

const linux = process.platform === 'linux' ? test : test.skip;

interface Receiver { process: number; pid: number; argv: string[]; fd: number }
interface GateJson {
  findings: Array<{ kind: string; target: string; fd: number; opener: { process: number; pid: number; argv: string[] }; receivers: Receiver[] }>;
}

/** A shell that opens LOG without close-on-exec at fd 7, then runs a shell that runs cat: both receive it. */
const leakyShell = (log: string) => ['sh', '-c', `exec 7>"$1"; sh -c 'cat /dev/null; true'`, 'sh', log];

browserTest('gate --html: the page of a leak shows the verdict, the file, its opener and every receiver as text', async (t) => {
  await withTempDir('fdscan-html', async (dir) => {
    const log = join(dir, 'app.log');
    const html = join(dir, 'gate.html');
    const json = join(dir, 'gate.json');
    const bare = runCli(['gate', '--', ...leakyShell(log)]);
    const result = runCli(['gate', '--json', '-o', json, '--html', html, '--', ...leakyShell(log)]);
    t.is(bare.code, 1, bare.stderr);
    t.is(result.code, 1, 'the exit status is the same with --html');
    const [finding] = (JSON.parse(readFileSync(json, 'utf8')) as GateJson).findings;
    t.is(finding!.target, log);
    t.deepEqual(finding!.receivers.map((r) => r.argv[0]), ['sh', 'cat']);
    const { page, dialogs, consoleErrors, pageErrors } = await openFile(html);
    try {
      t.deepEqual([dialogs, consoleErrors, pageErrors], [[], [], []]);
      t.regex(await page.locator('.verdict').innerText(), /^FAIL 1 finding not in the baseline; exit status 1/);
      const card = page.locator('#finding-1');
      t.true(await card.isVisible());
      t.regex(await card.locator('summary').innerText(), new RegExp(`LEAK 1 fd 7 REG ${log.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} — 2 execs received it`));
      const steps = await card.locator('.leak-path > li').allInnerTexts();
      t.is(steps[0], `OPENED by pid ${finding!.opener.pid} sh -c 'exec 7>"$1"; sh -c '\\''cat /dev/null; true'\\''' sh ${log} as fd 7`);
      t.is(steps.length, 3);
      t.regex(steps[1]!, new RegExp(`^RECEIVED by pid ${finding!.receivers[0]!.pid} sh -c 'cat /dev/null; true' as fd 7`));
      t.regex(steps[2]!, new RegExp(`^RECEIVED by pid ${finding!.receivers[1]!.pid} cat /dev/null as fd 7`));
      t.regex(await card.locator('.origin').innerText(), /made by openat\(".*app\.log", O_WRONLY\|O_CREAT\|O_TRUNC\) without O_CLOEXEC/);
      // In the tree: the opener and each receiver carry the leak's mark as a word.
      t.regex(await page.locator(`#p-${finding!.opener.process} > summary`).innerText(), /LEAK 1: opened fd 7/);
      for (const r of finding!.receivers) {
        const node = page.locator(`#p-${r.process} > summary`);
        t.true(await node.isVisible());
        t.regex(await node.innerText(), /LEAK 1: received as fd 7/);
      }
      // A finding's link opens the way to the process.
      await page.locator('#tree-close').click();
      await card.locator(`a[href="#p-${finding!.receivers[1]!.process}"]`).click();
      t.true(await page.locator(`#p-${finding!.receivers[1]!.process} > summary`).isVisible());
      await page.goto(`${page.url().split('#')[0]}`);
      await readmeScreenshot(page, 'gate-page');
    } finally {
      await page.close();
    }
    t.true(statSync(html).size < 300 * 1024, `${statSync(html).size} bytes: the fixed part and a 4-process tree`);
  });
});

linux('--html refuses what a report file refuses, before CMD runs, with one line and exit 2', (t) => {
  withTempDir('fdscan-html', (dir) => {
    const marker = join(dir, 'ran');
    for (const command of ['gate', 'inherit-diff']) {
      const result = runCli([command, '--html', dir, '--', 'sh', '-c', `touch ${marker}`]);
      t.is(result.code, 2, result.stderr);
      t.is(result.stderr, `fdscan: cannot write --html ${dir}: a directory\n`);
      t.false(existsSync(marker), `${command}: CMD did not run`);
    }
    const pair = runCli(['inherit-diff', '--html', join(dir, 'p.html'), String(process.pid), String(process.pid)]);
    t.is(pair.code, 2);
    t.regex(pair.stderr, /--html needs -- CMD/);
  });
});

browserTest('a run whose file and program names are markup: the page runs no script of theirs and shows each name as text', async (t) => {
  await withTempDir('fdscan-html', async (dir) => {
    // A folder `<script>alert(1)<` holding `script>`: the path reads <script>alert(1)</script>.
    mkdirSync(join(dir, '<script>alert(1)<'));
    const file = join(dir, '<script>alert(1)<', 'script>');
    const program = join(dir, '"><img src=x onerror=alert(2)>');
    copyFileSync('/bin/cat', program);
    // A second file: U+2028 and a byte that is not UTF-8 in its name.
    const script = `exec 7>"$1"; exec 8>"$(printf 'x\\342\\200\\250\\377y')"; "$2" /dev/null`;
    const html = join(dir, 'hostile.html');
    const result = runCli(['gate', '--html', html, '--', 'sh', '-c', script, 'sh', file, program], { cwd: dir });
    t.is(result.code, 1, result.stderr);
    const { page, dialogs, consoleErrors, pageErrors } = await openFile(html);
    try {
      t.deepEqual([dialogs, consoleErrors, pageErrors], [[], [], []]);
      t.is(await page.locator('img, svg, iframe, object, embed').count(), 0);
      t.is(await page.locator('script').count(), 1, 'the page\'s own script only');
      t.is(await page.evaluate('typeof window.__pwned'), 'undefined');
      const findings = await page.locator('.finding > summary').allInnerTexts();
      t.true(findings.some((s) => s.includes(`fd 7 REG ${file} —`)), findings.join('\n'));
      t.true(findings.some((s) => s.includes(`fd 8 REG ${dir}/x\\u2028\\xffy —`)), findings.join('\n'));
      const receivers = await page.locator('.leak-path .receiver').allInnerTexts();
      t.true(receivers.some((r) => r.includes(`'${program}' /dev/null`)), receivers.join('\n'));
      // Search by the hostile program's name finds its process.
      await page.locator('#tree-search').fill('onerror=alert(2)');
      await page.locator('#tree-search').press('Enter');
      t.is(await page.locator('#tree-count').innerText(), '2 processes match');
      await screenshot(page, 'hostile-names', { fullPage: true });
    } finally {
      await page.close();
    }
  });
});

browserTest('inherit-diff --html: the tree with what each exec received beyond 0, 1, 2, marked in words', async (t) => {
  await withTempDir('fdscan-html', async (dir) => {
    const log = join(dir, 'app.log');
    const html = join(dir, 'tree.html');
    const bare = runCli(['inherit-diff', '--', ...leakyShell(log)]);
    const result = runCli(['inherit-diff', '--html', html, '--', ...leakyShell(log)]);
    t.is(result.code, 0, result.stderr);
    t.is(result.stderr.split('\n')[0], bare.stderr.split('\n')[0], 'the report is as without --html');
    const { page, consoleErrors, pageErrors } = await openFile(html);
    try {
      t.deepEqual([consoleErrors, pageErrors], [[], []]);
      t.regex(await page.locator('.verdict').innerText(), /^INHERIT-DIFF 2 execs received a descriptor beyond 0, 1, 2/);
      t.is(await page.locator('details.proc').count(), 3);
      const marked = await page.locator('tr.mark-extra').allInnerTexts();
      t.is(marked.length, 2);
      for (const row of marked) t.regex(row, new RegExp(`^7\\s+PASSED ON\\s+REG\\s+${log.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      await readmeScreenshot(page, 'inherit-diff-page');
    } finally {
      await page.close();
    }
  });
});

browserTest('lifecycle --html: the verdict, the child and fdscan\'s table after each step', async (t) => {
  await withTempDir('fdscan-html', async (dir) => {
    const html = join(dir, 'lifecycle.html');
    const result = runCli(['lifecycle', '--html', html, '--', 'cat']);
    t.is(result.code, 0, result.stderr);
    const { page, consoleErrors, pageErrors } = await openFile(html);
    try {
      t.deepEqual([consoleErrors, pageErrors], [[], []]);
      t.regex(await page.locator('.verdict').innerText(), /^PASS every descriptor closed/);
      const steps = await page.locator('table.steps tbody tr td:first-child').allInnerTexts();
      t.deepEqual(steps, ['0. start', '1. open-file', '2. spawn', '3. communicate', '4. wait', '5. release', '6. close-file']);
      const childPid = /child pid (\d+)/.exec(result.stdout)![1];
      t.regex(await page.locator('#p-1 > summary').innerText(), new RegExp(`^pid ${childPid} cat exit 0`));
      await readmeScreenshot(page, 'lifecycle-page');
    } finally {
      await page.close();
    }
  });
});

linux('gate --html of a program that re-executes itself 60 times: one GROWTH finding, and no exec\'s table longer than 50 rows', (t) => {
  withTempDir('fdscan-html', (dir) => {
    const html = join(dir, 'growth.html');
    const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
    const result = runCli(['gate', '--html', html, '--', python, join(fixturesDir, 'self-reloader.py'), dir, '0', '60']);
    t.is(result.code, 1, result.stderr);
    const page = readFileSync(html, 'utf8');
    t.regex(page, /<span class="finding-label">GROWTH 1<\/span>.* re-executed itself 60 times/);
    t.regex(page, /held at each exec: 0 → 1 → 2 → [^…]* → 24 → … → 60 \(/);
    const tables = page.split('<table class="received">').slice(1).map((table) => table.slice(0, table.indexOf('</table>')));
    t.true(tables.length >= 60);
    t.true(Math.max(...tables.map((table) => table.split('<tr').length - 2)) <= 51, 'at most 50 rows and the "and N more" row');
    t.regex(page, /and \d+ more descriptors \(fd 53, 54, 55, [^)]*\): --json lists them/);
  });
});
