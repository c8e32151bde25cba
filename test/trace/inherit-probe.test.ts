/** `inheritDiff` and `markAllCloseOnExec` in this very process (ava runs each file in its own process). */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { inheritDiff, markAllCloseOnExec } from '../../src/index.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;

linux('a descriptor passed in stdio is received as a copy of the caller\'s, not counted as a leak', async (t) => {
  const fd = openSync('/etc/hostname', 'r');
  try {
    const result = await inheritDiff({ stdio: ['ignore', 'ignore', 'ignore', fd] });
    const three = result.received.find((d) => d.fd === 3);
    t.is(three?.target, '/etc/hostname');
    t.is(three?.parentFd, fd);
    t.is(three?.match, 'kcmp');
    t.false(result.leaked.some((d) => d.fd === 3));
    // Node opens close-on-exec: the original descriptor itself did not leak.
    t.false(result.received.some((d) => d.fd === fd));
  } finally {
    closeSync(fd);
  }
});

linux('after markAllCloseOnExec({keep}), exactly the kept descriptor leaks to a child', async (t) => {
  const fd = openSync('/etc/hostname', 'r');
  try {
    const marked = markAllCloseOnExec({ keep: [fd] });
    t.true(['close_range', 'fcntl'].includes(marked.method));
    t.deepEqual(marked.inheritable, [0, 1, 2, fd]);
    const result = await inheritDiff({ stdio: 'inherit' });
    t.deepEqual(result.leaked.map((d) => d.fd), [fd]);
    t.is(result.leaked[0]!.target, '/etc/hostname');
    t.deepEqual(result.received.filter((d) => d.fd <= 2).map((d) => d.parentFd), [0, 1, 2]);
    markAllCloseOnExec();
    t.deepEqual((await inheritDiff({ stdio: 'inherit' })).leaked, []);
  } finally {
    closeSync(fd);
  }
});

linux("a descriptor the caller received from its own parent is marked ambient in leaked; one the caller opened is not", (t) => {
  // A child node process that got the test's file at fd 40 (above the 0-15 Node marks close-on-exec at
  // start-up) opens one of its own, keeps both inheritable and asks inheritDiff what leaks.
  const extra = openSync('/etc/hostname', 'r');
  try {
    const library = new URL('../../src/index.js', import.meta.url).href;
    const script = `import { openSync } from 'node:fs';
import { inheritDiff, markAllCloseOnExec } from ${JSON.stringify(library)};
const own = openSync('/etc/passwd', 'r');
markAllCloseOnExec({ keep: [own, 40] });
const { leaked } = await inheritDiff({ stdio: 'inherit' });
console.log(JSON.stringify({ own, leaked: leaked.map((d) => [d.fd, d.target, d.ambient ?? false]) }));`;
    const stdio = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), extra] as const;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: [...stdio], encoding: 'utf8' });
    t.is(child.status, 0, child.stderr);
    const { own, leaked } = JSON.parse(child.stdout) as { own: number; leaked: Array<[number, string, boolean]> };
    t.deepEqual(leaked.sort((a, b) => a[0] - b[0]), [[own, '/etc/passwd', false], [40, '/etc/hostname', true]].sort((a, b) => (a[0] as number) - (b[0] as number)));
  } finally {
    closeSync(extra);
  }
});
