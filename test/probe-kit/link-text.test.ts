/**
 * linkShape, the one classifier of descriptor link text: on link texts as Linux writes them (one
 * per shape, and look-alikes that are not), as bytes and as a row's target alike, and on every link
 * of a live process against what the process opened.
 */
import test, { type ExecutionContext } from 'ava';
import { readdirSync, readlinkSync } from 'node:fs';
import { hasDeletedSuffix, linkShape, withoutDeletedSuffix, type LinkShape } from '../../src/probe-kit/index.js';
import { startFixture, type ManifestEntry } from '../helpers/fixture.js';

const SHAPES: Array<[string, LinkShape]> = [
  ['pipe:[61988039]', { kind: 'pipe', inode: 61988039 }],
  ['socket:[935410]', { kind: 'socket', inode: 935410 }],
  ['anon_inode:[eventfd]', { kind: 'anon', name: 'eventfd' }],
  ['anon_inode:[eventpoll]', { kind: 'anon', name: 'eventpoll' }],
  ['anon_inode:inotify', { kind: 'anon', name: 'inotify' }],
  ['anon_inode:[pidfd]', { kind: 'anon', name: 'pidfd' }],
  ['pidfd:[39451]', { kind: 'anon', name: '39451' }],
  ['anon_inode:', { kind: 'anon', name: '' }],
  ['/tmp/app.log', { kind: 'path', deletedSuffix: false }],
  ['/tmp/gone (deleted)', { kind: 'path', deletedSuffix: true }],
  ['/memfd:fdscan-fixture (deleted)', { kind: 'path', deletedSuffix: true }],
  ['/', { kind: 'path', deletedSuffix: false }],
  ['/ (deleted)', { kind: 'path', deletedSuffix: true }],
  // nsfs names, and look-alikes of the numbered shapes: shown raw, never taken for pipes or sockets.
  ['net:[4026531840]', { kind: 'other' }],
  ['pid:[4026531836]', { kind: 'other' }],
  ['pipe:[]', { kind: 'other' }],
  ['pipe:[12a]', { kind: 'other' }],
  ['pipe:[12', { kind: 'other' }],
  ['pipe:12', { kind: 'other' }],
  ['socket:[1234567890123456]', { kind: 'other' }],
  ['sockets:[1]', { kind: 'other' }],
  ['', { kind: 'other' }],
];

for (const [text, shape] of SHAPES) {
  test(`${JSON.stringify(text)} is ${JSON.stringify(shape)}, as bytes and as text`, (t) => {
    t.deepEqual({ ...linkShape(Buffer.from(text)) }, shape);
    t.deepEqual({ ...linkShape(text) }, shape);
  });
}

test('a view into a larger buffer is classified by its own bytes only', (t) => {
  const buffer = Buffer.from('xxpipe:[42]/tmp/a (deleted)yy');
  t.deepEqual({ ...linkShape(buffer.subarray(2, 11)) }, { kind: 'pipe', inode: 42 });
  t.deepEqual({ ...linkShape(buffer.subarray(11, 27)) }, { kind: 'path', deletedSuffix: true });
  t.deepEqual({ ...linkShape(new Uint8Array(buffer.buffer, buffer.byteOffset + 2, 9)) }, { kind: 'pipe', inode: 42 });
});

test('the " (deleted)" suffix: only after a name, and removed once', (t) => {
  t.false(hasDeletedSuffix(Buffer.from(' (deleted)')));
  t.true(hasDeletedSuffix(Buffer.from('x (deleted)')));
  t.false(hasDeletedSuffix(Buffer.from('x (deleted) ')));
  t.is(withoutDeletedSuffix('memfd:a (deleted) (deleted)'), 'memfd:a (deleted)');
  t.is(withoutDeletedSuffix('memfd:a'), 'memfd:a');
});

/** The shape each kind of descriptor the fixture opens has in its link. */
function expectedKind(entry: ManifestEntry): LinkShape['kind'] {
  if (entry.type === 'SOCK') return 'socket';
  if (entry.type === 'FIFO') return entry.target === null ? 'pipe' : 'path';
  if (entry.type === 'eventfd' || entry.type === 'eventpoll') return 'anon';
  return 'path';
}

(process.platform === 'linux' ? test : test.skip)('every link of a live process has the shape of what it opened: files, pipes, sockets, anonymous inodes, deleted files', async (t) => {
  const fixture = await startFixture<{ pid: number; opened: ManifestEntry[] }>('hold-descriptors.py');
  try {
    checkLinks(t, fixture.manifest.pid, fixture.manifest.opened);
  } finally {
    await fixture.stop();
  }
});

function checkLinks(t: ExecutionContext, pid: number, opened: ManifestEntry[]): void {
  const fds = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
  const kinds = new Set<string>();
  for (const entry of opened) {
    if (!fds.has(entry.fd)) continue;
    const link = readlinkSync(`/proc/${pid}/fd/${entry.fd}`, { encoding: 'buffer' });
    const shape = linkShape(link);
    t.is(shape.kind, expectedKind(entry), `fd ${entry.fd} ${entry.type} ${link.toString()}`);
    kinds.add(shape.kind);
    if (shape.kind === 'pipe' || shape.kind === 'socket') t.is(`${shape.kind}:[${shape.inode}]`, link.toString(), `fd ${entry.fd}`);
    if (shape.kind === 'anon') t.is(shape.name, entry.type, `fd ${entry.fd}`);
    // The kernel's mark on the unlinked file and the memfd; a file really named "... (deleted)" has it too.
    if (shape.kind === 'path') t.is(shape.deletedSuffix, entry.deleted === true || entry.type === 'memfd' || /\(deleted\)$/.test(entry.target ?? ''), `fd ${entry.fd}`);
  }
  t.deepEqual([...kinds].sort(), ['anon', 'path', 'pipe', 'socket']);
}
