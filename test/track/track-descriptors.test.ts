/** trackDescriptors and assertNoDescriptorLeaks on functions that do and do not leak, in this process. */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoDescriptorLeaks, DescriptorLeakError, trackDescriptors } from '../../src/index.js';

// Serial: every test reads this process's whole table, which a concurrent test would change.
const serial = process.platform === 'linux' ? test.serial : test.skip;

const dir = mkdtempSync(join(tmpdir(), 'fdscan-track-'));
const kept: number[] = [];
test.after.always(() => {
  for (const fd of kept) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

function leakOne(): void {
  kept.push(openSync(join(dir, `leak-${kept.length}.txt`), 'w'));
}

serial('a function that leaves one file open per call: [1, 1, 1], each named', async (t) => {
  const result = await trackDescriptors(leakOne, { repeat: 3 });
  t.true(result.leaked);
  t.deepEqual(result.leakedPerRun, [1, 1, 1]);
  t.is(result.runs.length, 3);
  for (const run of result.runs) {
    t.is(run.leaked[0]!.type, 'REG');
    t.regex(run.leaked[0]!.target, /leak-\d+\.txt$/);
  }
});

serial('a function that closes what it opens, sync or async: nothing', async (t) => {
  const sync = await trackDescriptors(() => closeSync(openSync(join(dir, 'clean.txt'), 'w')), { repeat: 3 });
  t.false(sync.leaked);
  t.deepEqual(sync.leakedPerRun, [0, 0, 0]);
  const asyncResult = await trackDescriptors(async () => {
    const handle = await open(join(dir, 'clean-async.txt'), 'w');
    await handle.write('x');
    await handle.close();
  }, { repeat: 2 });
  t.deepEqual(asyncResult.leakedPerRun, [0, 0]);
});

serial('an async leak is seen too', async (t) => {
  const handles: Array<Awaited<ReturnType<typeof open>>> = [];
  try {
    const result = await trackDescriptors(async () => { handles.push(await open(join(dir, 'async-leak.txt'), 'w')); }, { repeat: 2 });
    t.deepEqual(result.leakedPerRun, [1, 1]);
  } finally {
    for (const h of handles) await h.close();
  }
});

serial('assertNoDescriptorLeaks throws a typed error with a readable report, and passes a clean function', async (t) => {
  const error = await t.throwsAsync(assertNoDescriptorLeaks(leakOne, { repeat: 2 }), { instanceOf: DescriptorLeakError });
  t.is(error!.code, 'EFDLEAK');
  t.regex(error!.message, /^leakOne leaked \[1, 1\] file descriptors\n {2}run 1: fd \d+ REG \S+leak-\d+\.txt\n {2}run 2: fd \d+ REG /);
  await t.notThrowsAsync(assertNoDescriptorLeaks(() => closeSync(openSync(join(dir, 'clean.txt'), 'r'))));
});

serial('ignore lets expected descriptors through', async (t) => {
  const result = await trackDescriptors(leakOne, { repeat: 2, ignore: (d) => d.target.endsWith('.txt') });
  t.false(result.leaked);
});
