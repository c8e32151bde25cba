/** /proc/net/unix with names chosen by someone else: a newline in one bound path must not hide every unix socket. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { listDescriptors } from '../../../src/index.js';
import { findUnixSocket, parseUnixTable } from '../../../probes/linux/net-tables.js';

const linux = process.platform === 'linux' ? test : test.skip;

test('parseUnixTable: a path with newlines continues on the next lines; the rows after it still parse', (t) => {
  const text = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 101 /tmp/evil',
    '::warning file=x::boom',
    '',
    '0000000000000000: 00000002 00000000 00000000 0001 03 102',
    '0000000000000000: 00000002 00000000 00010000 0002 01 103 @abstract name',
    '',
  ].join('\n');
  const table = parseUnixTable(text);
  t.is(table.get(101)?.local, '/tmp/evil\n::warning file=x::boom\n');
  t.like(table.get(102), { state: 'CONNECTED', socketType: 'STREAM' });
  t.is(table.get(102)?.local, undefined);
  t.like(table.get(103), { local: '@abstract name', state: 'LISTEN', socketType: 'DGRAM' });
});

test('findUnixSocket: each row alone, continuation lines included, as the whole table parses it', (t) => {
  const text = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 101 /tmp/evil',
    '0000000000000000: 00000002 00000000 00000000 0001 03 1010 /tmp/x',
    '',
    '0000000000000000: 00000002 00000000 00000000 0001 03 102',
    '0000000000000000: 00000002 00000000 00010000 0002 01 103 @abstract name',
    '',
  ].join('\n');
  const table = parseUnixTable(text);
  for (const inode of [101, 1010, 102, 103]) t.deepEqual(findUnixSocket(text, inode), table.get(inode), `inode ${inode}`);
  t.is(findUnixSocket(text, 10), undefined);
  t.is(findUnixSocket(text, 1), undefined);
});

linux('findUnixSocket agrees with parseUnixTable on every row of this machine\'s /proc/net/unix', (t) => {
  const text = readFileSync('/proc/self/net/unix', 'latin1');
  const table = parseUnixTable(text);
  t.true(table.size > 0);
  for (const [inode, info] of table) t.deepEqual(findUnixSocket(text, inode), info, `inode ${inode}`);
});

linux('a process with more unix sockets than are looked up one by one: every one resolved', async (t) => {
  const script = `
import socket, sys
pairs = [socket.socketpair() for _ in range(20)]
print(' '.join(str(s.fileno()) for p in pairs for s in p), flush=True)
sys.stdin.read()
`;
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [line] = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
    const fds = line!.split(' ').map(Number);
    const audit = listDescriptors(child.pid!, { peers: false });
    for (const fd of fds) t.like(audit.fds.find((d) => d.fd === fd)?.socket, { protocol: 'unix', socketType: 'STREAM', state: 'CONNECTED' }, `fd ${fd}`);
    t.deepEqual(audit.errors, []);
  } finally {
    child.kill();
  }
});

linux('a process bound to a unix path with a newline: every socket of another process is still resolved', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-unix-'));
  const script = `
import os, socket, sys
evil = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
evil.bind(os.path.join(sys.argv[1], 'a\\n::warning::x'))
evil.listen()
good = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
good.bind(os.path.join(sys.argv[1], 'good.sock'))
good.listen()
print(evil.fileno(), good.fileno(), flush=True)
sys.stdin.read()
`;
  const child = spawn('python3', ['-c', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [line] = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
    const [evilFd, goodFd] = line!.split(' ').map(Number);
    const audit = listDescriptors(child.pid!, { peers: false });
    const row = (fd: number) => audit.fds.find((d) => d.fd === fd);
    t.is(row(goodFd!)?.socket?.local, join(dir, 'good.sock'));
    t.is(row(evilFd!)?.socket?.local, join(dir, 'a\n::warning::x'));
    t.deepEqual(audit.errors, []);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
