/** The Linux probe against a real process holding one descriptor of every kind. */
import test from 'ava';
import { readdirSync, readlinkSync } from 'node:fs';
import { countDescriptors, listDescriptors, NoSuchProcess } from '../../../src/index.js';
import { startFixture, type ManifestEntry, type RunningFixture } from '../../helpers/fixture.js';

interface Manifest {
  pid: number;
  baseline: Record<string, boolean>;
  opened: ManifestEntry[];
}

const skip = process.platform !== 'linux';
let fixture: RunningFixture<Manifest>;

test.before(async () => {
  if (!skip) fixture = await startFixture<Manifest>('hold-descriptors.py');
});
test.after.always(async () => {
  await fixture?.stop();
});

(skip ? test.skip : test)('reports exactly the descriptors the fixture holds, no phantom, none missing', (t) => {
  const audit = listDescriptors(fixture.pid);
  const expected = new Set([...Object.keys(fixture.manifest.baseline).map(Number), ...fixture.manifest.opened.map((o) => o.fd)]);
  t.deepEqual(audit.fds.map((d) => d.fd), [...expected].sort((a, b) => a - b));
  t.is(audit.incomplete, undefined);
  t.deepEqual(audit.errors, []);
  t.is(audit.command, 'python3');
});

(skip ? test.skip : test)('type, inheritability, target, access and offset of every opened descriptor', (t) => {
  const audit = listDescriptors(fixture.pid);
  const byFd = new Map(audit.fds.map((d) => [d.fd, d]));
  for (const want of fixture.manifest.opened) {
    const got = byFd.get(want.fd);
    if (!got) { t.fail(`fd ${want.fd} missing`); continue; }
    const label = `fd ${want.fd} (${want.type} ${want.target ?? ''})`;
    t.is(got.type, want.type, label);
    t.is(got.inheritable, want.inheritable, label);
    t.is(got.error, undefined, label);
    if (want.access) t.is(got.access, want.access, label);
    if (want.offset !== undefined) t.is(got.offset, want.offset, label);
    if (want.deleted !== undefined) t.is(got.deleted === true, want.deleted, label);
    if (want.protocol) t.is(got.socket?.protocol, want.protocol, label);
    if (want.state) t.is(got.socket?.state, want.state, label);
    if (want.target !== null && want.type !== 'SOCK') t.is(got.target, want.target, label);
    if (want.target !== null && want.type === 'SOCK') t.is(got.socket?.local, want.target, label);
  }
  // Pipe ends and the socket pair name each other as peers.
  for (const want of fixture.manifest.opened.filter((o) => o.peer_fd !== undefined)) {
    const peers = byFd.get(want.fd)?.peers ?? [];
    t.true(peers.some((p) => p.pid === fixture.pid && p.fd === want.peer_fd), `fd ${want.fd} peers ${JSON.stringify(peers)}`);
  }
  const pipe = fixture.manifest.opened.filter((o) => o.type === 'FIFO' && o.target === null);
  t.is(byFd.get(pipe[0]!.fd)?.inode, byFd.get(pipe[1]!.fd)?.inode);
  t.true(byFd.get(pipe[0]!.fd)?.peers?.some((p) => p.fd === pipe[1]!.fd));
});

(skip ? test.skip : test)('filters by type and by inheritability', (t) => {
  // The expected rows come from outside fdscan: sockets from the kernel's /proc/PID/fd links
  // (Node's stdio pipes to the fixture are socket pairs too), inheritability from the fixture's own
  // fcntl(F_GETFD) at start (baseline) and what it set on each descriptor it opened.
  const byNumber = (a: number, b: number) => a - b;
  const fdDir = `/proc/${fixture.pid}/fd`;
  const socketFds = readdirSync(fdDir).map(Number).filter((fd) => readlinkSync(`${fdDir}/${fd}`).startsWith('socket:[')).sort(byNumber);
  const opened = fixture.manifest.opened;
  t.true(opened.filter((o) => o.type === 'SOCK').every((o) => socketFds.includes(o.fd)), `socket links ${socketFds.join(',')}`);
  t.deepEqual(listDescriptors(fixture.pid, { types: ['sock'] }).fds.map((d) => d.fd), socketFds);
  const inheritable = [
    ...Object.entries(fixture.manifest.baseline).filter(([, yes]) => yes).map(([fd]) => Number(fd)),
    ...opened.filter((o) => o.inheritable).map((o) => o.fd),
  ].sort(byNumber);
  t.true(inheritable.length > 0 && inheritable.length < opened.length + Object.keys(fixture.manifest.baseline).length, 'some inheritable, some not');
  t.deepEqual(listDescriptors(fixture.pid, { inheritableOnly: true }).fds.map((d) => d.fd), inheritable);
  const inheritableSockets = listDescriptors(fixture.pid, { types: ['SOCK'], inheritableOnly: true }).fds.map((d) => d.fd);
  t.deepEqual(inheritableSockets, socketFds.filter((fd) => inheritable.includes(fd)));
});

(skip ? test.skip : test)('countDescriptors: the number the fixture holds, the length of /proc/PID/fd', (t) => {
  // The fixture's own count (fcntl at start, then what it opened), including the sparse fd 1234.
  const held = Object.keys(fixture.manifest.baseline).length + fixture.manifest.opened.length;
  t.true(fixture.manifest.opened.some((o) => o.fd === 1234));
  t.is(countDescriptors(fixture.pid), held);
  t.is(countDescriptors(fixture.pid), readdirSync(`/proc/${fixture.pid}/fd`).length);
  t.throws(() => countDescriptors(2147483647), { instanceOf: NoSuchProcess });
});
