/** DescriptorLeakError's message names leaked files escaped: a test runner prints it to a terminal. */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoDescriptorLeaks, DescriptorLeakError } from '../../src/index.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;

linux('a leaked file with a hostile name is named escaped, from its raw bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-track-'));
  const opened: number[] = [];
  try {
    const name = Buffer.concat([Buffer.from(`${dir}/leak \u001b]0;X\u0007\n::warning::x `), Buffer.from([0xff])]);
    const leakOne = () => { opened.push(openSync(name, 'a')); };
    const error = await t.throwsAsync(assertNoDescriptorLeaks(leakOne, { repeat: 2, name: 'leak\u001b[2J' }), { instanceOf: DescriptorLeakError });
    t.false(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufffd]/.test(error!.message), JSON.stringify(error!.message));
    t.is(error!.message.split('\n').length, 3, error!.message);
    t.regex(error!.message, /^leak\\x1b\[2J leaked \[1, 1\] file descriptors\n {2}run 1: fd \d+ REG \S+leak \\x1b\]0;X\\x07\\n::warning::x \\xff\n/);
  } finally {
    for (const fd of opened) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
