/** `inheritDiff` and `markAllCloseOnExec` in this very process (ava runs each file in its own process). */
import test from 'ava';
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
