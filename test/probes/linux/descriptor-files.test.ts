/**
 * The one reader of a process's descriptor table (descriptor-files.ts), both roads (libc, Node's
 * fs): listing again on the same reader, fdscan's own table without the reader's descriptors,
 * fdinfo opened on first need, and one record read by path.
 */
import test from 'ava';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descriptorReader, openDescriptorFiles, readFdInfo } from '../../../probes/linux/descriptor-files.js';
import { inheritable } from '../../../probes/linux/open-flags.js';
import { startFixture, type RunningFixture } from '../../helpers/fixture.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
const readers = process.platform === 'linux' && descriptorReader() === 'libc' ? (['libc', 'node'] as const) : (['node'] as const);
let fixture: RunningFixture<{ pid: number }> | undefined;
test.before(async () => {
  if (process.platform === 'linux') fixture = await startFixture<{ pid: number }>('hold-descriptors.py');
});
test.after.always(() => fixture?.stop());

for (const reader of readers) {
  linux(`${reader}: a second listing on the same reader is the whole table again, as /proc lists it`, (t) => {
    const pid = fixture!.pid;
    const files = openDescriptorFiles(pid, { reader });
    try {
      const first = files.list();
      t.true(first.length > 15);
      t.deepEqual(files.list(), first);
      t.deepEqual(first, readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b));
    } finally {
      files.close();
    }
  });

  linux(`${reader}: fdscan's own table lists what it holds, without the reader's own directory descriptors`, (t) => {
    const path = join(tmpdir(), `fdscan-reader-${process.pid}`);
    const fd = openSync(path, 'w');
    try {
      const before = new Set(readdirSync('/proc/self/fd').map(Number));
      const files = openDescriptorFiles(process.pid, { reader, fdinfo: false });
      let listed: number[];
      try {
        listed = files.list();
        t.true(listed.includes(fd));
        t.false(inheritable(files.fdinfo(fd).flags), 'Node opens files close-on-exec');
      } finally {
        files.close();
      }
      // Anything listed that was not open before the reader is one of the reader's own.
      t.deepEqual(listed.filter((n) => !before.has(n)), []);
    } finally {
      closeSync(fd);
    }
  });
}

linux('fdinfo: false opens /proc/PID/fdinfo on the first fdinfo read, which reads what readFdInfo reads by path', (t) => {
  const pid = fixture!.pid;
  const files = openDescriptorFiles(pid, { fdinfo: false });
  try {
    for (const fd of files.list()) t.deepEqual({ ...files.fdinfo(fd) }, { ...readFdInfo(pid, fd) }, `fd ${fd}`);
  } finally {
    files.close();
  }
});

linux('a reader of a process that does not exist throws ENOENT at once', (t) => {
  t.throws(() => openDescriptorFiles(2 ** 22 + 1), { code: 'ENOENT' });
  t.throws(() => openDescriptorFiles(2 ** 22 + 1, { fdinfo: false }), { code: 'ENOENT' });
});
