/**
 * parseFdInfo, the one fdinfo parser, which the Linux probe runs on every descriptor: on
 * /proc/PID/fdinfo records recorded from a real kernel (one per kind), on the same records as
 * kernels before 5.14 wrote them (no `ino:`), in a reused buffer holding an older record's bytes,
 * and on the descriptors of a live process (files opened with and without O_CLOEXEC, a pipe,
 * sockets, an eventfd) as the table reader reads them, against what /proc and the process say.
 */
import test from 'ava';
import { readFileSync, readdirSync, statSync, lstatSync } from 'node:fs';
import { parseFdInfo, type FdInfo } from '../../../probes/linux/fdinfo.js';
import { openDescriptorFiles } from '../../../probes/linux/descriptor-files.js';
import { inheritable } from '../../../probes/linux/open-flags.js';
import { ParseError } from '../../../src/errors.js';
import { startFixture, type ManifestEntry, type RunningFixture } from '../../helpers/fixture.js';

/** Recorded on Linux 6.18 from a Python process: the record's text, and what it says. */
const RECORDED: Array<{ kind: string; text: string; info: FdInfo }> = [
  { kind: 'a regular file read 3 bytes in', text: 'pos:\t3\nflags:\t02100000\nmnt_id:\t27\nino:\t612\n', info: { pos: 3, flags: 0o2100000, mntId: 27, ino: 612 } },
  { kind: 'a log opened O_WRONLY|O_APPEND', text: 'pos:\t6\nflags:\t02102001\nmnt_id:\t27\nino:\t2151149\n', info: { pos: 6, flags: 0o2102001, mntId: 27, ino: 2151149 } },
  {
    kind: 'an eventfd',
    text: 'pos:\t0\nflags:\t02004002\nmnt_id:\t17\nino:\t18\neventfd-count:                5\neventfd-id: 1\neventfd-semaphore: 0\n',
    info: { pos: 0, flags: 0o2004002, mntId: 17, ino: 18 },
  },
  {
    kind: 'an epoll watching two descriptors (tfd lines with pos: and a hex ino: of their own)',
    text: 'pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t18\n' +
      'tfd:        5 events: 80000019 data:                5  pos:0 ino:12 sdev:10\n' +
      'tfd:        6 events:       19 data:                6  pos:0 ino:e45ee sdev:f\n',
    info: { pos: 0, flags: 0o2000002, mntId: 17, ino: 18 },
  },
  {
    kind: 'an inotify instance with a watch',
    text: 'pos:\t0\nflags:\t00\nmnt_id:\t17\nino:\t18\n' +
      'inotify wd:1 ino:3f7e8 sdev:fe00000 mask:100 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000\n',
    info: { pos: 0, flags: 0, mntId: 17, ino: 18 },
  },
  { kind: 'a pidfd', text: 'pos:\t0\nflags:\t02000002\nmnt_id:\t4\nino:\t39451\nPid:\t6985\nNSpid:\t6985\n', info: { pos: 0, flags: 0o2000002, mntId: 4, ino: 39451 } },
  { kind: 'a TCP socket', text: 'pos:\t0\nflags:\t02000002\nmnt_id:\t10\nino:\t935410\n', info: { pos: 0, flags: 0o2000002, mntId: 10, ino: 935410 } },
  { kind: 'a unix datagram socket', text: 'pos:\t0\nflags:\t02000002\nmnt_id:\t10\nino:\t935412\nscm_fds: 0\n', info: { pos: 0, flags: 0o2000002, mntId: 10, ino: 935412 } },
];

/** The record as a kernel before 5.14 wrote it: no `ino:` line of its own (the tfd/inotify lines keep theirs). */
const withoutIno = (text: string): string => text.replace(/^ino:\t\d+\n/m, '');

for (const { kind, text, info } of RECORDED) {
  test(`recorded fdinfo of ${kind}: pos, flags, mnt_id and ino`, (t) => {
    t.deepEqual({ ...parseFdInfo(Buffer.from(text, 'latin1')) }, info);
  });

  test(`recorded fdinfo of ${kind}, without ino: (kernels before 5.14): ino absent, never another line's`, (t) => {
    const old = withoutIno(text);
    t.not(old, text);
    t.deepEqual({ ...parseFdInfo(Buffer.from(old, 'latin1')) }, { ...info, ino: undefined });
  });
}

test('only the first LENGTH bytes are read: a reused buffer still holds an older, longer record after them', (t) => {
  // The probe reads every record into one buffer; after a short record the rest is the previous one.
  const buffer = Buffer.alloc(4096);
  const older = Buffer.from(RECORDED[3]!.text, 'latin1'); // the epoll, longest
  older.copy(buffer);
  for (const { text, info } of [RECORDED[0]!, { text: withoutIno(RECORDED[6]!.text), info: { ...RECORDED[6]!.info, ino: undefined } }]) {
    const length = buffer.write(text, 0, 'latin1');
    t.deepEqual({ ...parseFdInfo(buffer, length) }, info, text);
  }
});

test('numbers too long to add up digit by digit are read exactly; records that are not fdinfo throw ParseError', (t) => {
  const big = Buffer.from('pos:\t9007199254740991\nflags:\t0100002\nmnt_id:\t1\nino:\t123456789012345678\n');
  t.deepEqual({ ...parseFdInfo(big) }, { pos: 2 ** 53 - 1, flags: 0o100002, mntId: 1, ino: 123456789012345678 });
  for (const [text, message] of [
    ['flags:\t02\nmnt_id:\t1\n', /missing pos/], ['pos:\t0\n', /missing flags/], ['pos:\t1x\nflags:\t02\n', /pos is not a number: "1x"/],
    ['pos:\t0\nflags:\t08\n', /flags is not octal: "08"/], ['pos:\t\nflags:\t02\n', /pos is not a number/], ['', /missing pos/],
  ] as const) {
    t.throws(() => parseFdInfo(Buffer.from(text)), { instanceOf: ParseError, message }, JSON.stringify(text));
  }
});

interface Manifest {
  pid: number;
  baseline: number[];
  opened: ManifestEntry[];
}

const linux = process.platform === 'linux' ? test : test.skip;
let fixture: RunningFixture<Manifest> | undefined;
test.before(async () => {
  if (process.platform === 'linux') fixture = await startFixture<Manifest>('hold-descriptors.py');
});
test.after.always(() => fixture?.stop());

const O_ACCMODE = 0o3;
const O_PATH = 0o10000000;
/** The kernel's value (asm-generic/fcntl.h), written here apart from the probe's own. */
const O_CLOEXEC = 0o2000000;

linux('every descriptor of a live process, as the table reader reads it: ino is the object stat finds, close-on-exec, access and offset as the process set them', (t) => {
  const { pid, opened } = fixture!.manifest;
  // What this test must cover, or it proves nothing: files with and without O_CLOEXEC, a pipe, a socket, an eventfd.
  const has = (what: string, e: (e: ManifestEntry) => boolean): void => {
    t.true(opened.some(e), `the fixture holds ${what}`);
  };
  has('a file opened without O_CLOEXEC', (e) => e.type === 'REG' && e.inheritable);
  has('a file opened with O_CLOEXEC', (e) => e.type === 'REG' && !e.inheritable);
  has('both ends of a pipe', (e) => e.type === 'FIFO' && e.target === null);
  has('a socket', (e) => e.type === 'SOCK');
  has('an eventfd', (e) => e.type === 'eventfd');
  const numbers = readdirSync(`/proc/${pid}/fdinfo`).map(Number);
  t.true(numbers.length >= opened.length);
  const files = openDescriptorFiles(pid);
  try {
    for (const fd of numbers) {
      const info = files.fdinfo(fd);
      const bytes = readFileSync(`/proc/${pid}/fdinfo/${fd}`);
      t.deepEqual({ ...parseFdInfo(bytes) }, { ...info }, `fd ${fd}: the reader's record and the whole file parse alike`);
      t.is(files.fdinfoText(), bytes.toString('latin1'), `fd ${fd}: the record's text`);
      t.is(info.ino, statSync(`/proc/${pid}/fd/${fd}`).ino, `fd ${fd}: the inode of the object it is open on`);
      // The link's mode bits are the descriptor's access: r-x for read, -wx for write, rwx for both.
      const link = lstatSync(`/proc/${pid}/fd/${fd}`).mode;
      if (!(info.flags & O_PATH)) t.is(info.flags & O_ACCMODE, (link & 0o600) === 0o600 ? 2 : link & 0o200 ? 1 : 0, `fd ${fd} access`);
      const entry = opened.find((e) => e.fd === fd);
      if (!entry) continue;
      t.is(inheritable(info.flags), entry.inheritable, `fd ${fd} (${entry.type}) inheritable`);
      t.is((info.flags & O_CLOEXEC) === 0, entry.inheritable, `fd ${fd} (${entry.type}) O_CLOEXEC`);
      if (entry.offset !== undefined) t.is(info.pos, entry.offset, `fd ${fd} offset`);
      if (entry.access === 'none') t.truthy(info.flags & O_PATH, `fd ${fd} is O_PATH`);
      if (entry.access === 'w') t.is(info.flags & O_ACCMODE, 1);
    }
  } finally {
    files.close();
  }
});
