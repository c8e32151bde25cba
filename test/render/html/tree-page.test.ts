/**
 * The process-tree page at scale: a real recorded run (a shell that leaks a file to cat) grown to
 * 5,000 processes (cat cloned: most under one shell, 1,000 as a chain each the child of the one
 * before), judged by the gate and written by the same writer; opened in headless chromium.
 */
import test from 'ava';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { traceCommand } from '../../../src/trace/trace-command.js';
import { judgeTrace } from '../../../src/gate/gate-analysis.js';
import { gateOutcome } from '../../../src/gate/gate-outcome.js';
import { openPageFile } from '../../../src/render/html/page.js';
import { writeTracePage } from '../../../src/render/html/tree-page.js';
import type { TraceResult, TracedProcess } from '../../../src/trace/trace-result.js';
import { browserTest, closeBrowser, openFile, screenshot } from '../../helpers/browser.js';
import { withTempDir } from '../../helpers/temp-dir.js';

test.after.always(closeBrowser);

const TOTAL = 5000;
const CHAIN = 1000;

/** `trace` with its last process (cat) cloned until the tree holds TOTAL processes. */
function grown(trace: TraceResult): TraceResult {
  const cat = trace.processes[trace.processes.length - 1]!;
  const shell = trace.processes[cat.parent!]!;
  const processes: TracedProcess[] = [...trace.processes];
  let seq = Math.max(...trace.events.map((e) => e.seq)) + 1;
  const clones = TOTAL - processes.length;
  for (let i = 0; i < clones; i++) {
    // The last CHAIN clones: each the child of the clone before (the first of them, of the shell).
    const parent = i > clones - CHAIN ? processes[processes.length - 1]! : shell;
    const id = processes.length;
    const pid = 1_000_000 + i;
    const exec = cat.execs[0]!;
    processes.push({
      ...cat, id, pid, parent: parent.id, ppid: parent.pid, seq: seq++,
      execs: [{
        ...exec, seq: seq++, argv: [`worker-${i}`, '/dev/null'],
        received: exec.received.map((d) => ({ ...d, ...(d.from ? { from: { ...d.from, process: parent.id, pid: parent.pid } } : {}) })),
      }],
      ...(cat.exit ? { exit: { ...cat.exit, seq: seq++ } } : {}),
      origins: [],
    });
  }
  return { ...trace, processes };
}

browserTest(`a gate page of ${TOTAL} processes (a real run, grown) loads in the browser's default budget and its search finds one process`, async (t) => {
  await withTempDir('fdscan-tree', async (dir) => {
    const log = join(dir, 'app.log');
    const real = await traceCommand(['sh', '-c', `exec 7>"$1"; sh -c 'cat /dev/null; true'`, 'sh', log], { exitTables: false, fullStdio: false });
    t.is(real.processes.length, 3);
    const trace = grown(real);
    const verdict = judgeTrace(trace, []);
    t.is(verdict.findings.length, 1);
    t.is((verdict.findings[0] as { receivers: unknown[] }).receivers.length, TOTAL - 1);
    const file = join(dir, 'big.html');
    writeTracePage(openPageFile(file, '--html'), trace, 'fdscan gate', { verdict, outcome: gateOutcome(verdict, { commandExitCode: trace.exitCode }) });
    const size = statSync(file).size;
    t.log(`${TOTAL} processes: ${(size / 1024 / 1024).toFixed(1)} MiB`);
    const { page, consoleErrors, pageErrors } = await openFile(file);
    try {
      t.deepEqual([consoleErrors, pageErrors], [[], []]);
      t.is(await page.locator('details.proc').count(), TOTAL);
      t.regex(await page.locator('.verdict').innerText(), /^FAIL 1 finding/);
      // A large tree opens only its first levels and the findings' paths; the leak's receivers are on one.
      const search = page.locator('#tree-search');
      await search.fill('worker-1234 ');
      await search.press('Enter');
      t.is(await page.locator('#tree-count').innerText(), '1 process matches');
      const hit = page.locator('details.proc.hit');
      t.is(await hit.count(), 1);
      t.true(await hit.locator('> summary').isVisible());
      t.regex(await hit.locator('> summary').innerText(), /^pid 1001234 worker-1234 \/dev\/null/);
      // The deepest process of the chain, nested no deeper than the page allows, is found and shown.
      const last = `worker-${TOTAL - 4}`;
      await search.fill(`${last} `);
      await search.press('Enter');
      t.is(await page.locator('#tree-count').innerText(), '1 process matches');
      t.true(await page.locator('details.proc.hit > summary').isVisible());
      t.regex(await page.locator('details.proc.hit > summary').innerText(), new RegExp(`${last} /dev/null .*\\(depth ${CHAIN + 1}, child of pid`));
      await screenshot(page, 'tree-5000-search');
      await search.fill('');
      await search.press('Enter');
      t.is(await page.locator('details.proc[hidden]').count(), 0);
    } finally {
      await page.close();
    }
  });
});
