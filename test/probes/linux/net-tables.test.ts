/** /proc/net/unix with names chosen by someone else (a newline in one bound path must not hide every unix socket), and which socket tables an audit reads. */
import test from 'ava';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { listDescriptors } from '../../../src/index.js';
import { findSocket, findUnixSocket, parseSocketTable, parseUnixTable } from '../../../probes/linux/net-tables.js';
import { ParseError } from '../../../src/errors.js';
import { fdscanBin } from '../../helpers/fixture.js';

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

test('findSocket: a TCP row found by its inode column, not by the same number elsewhere in the text', (t) => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const row = (sl: number, port: string, uid: number, inode: number) =>
    `   ${sl}: 0100007F:${port} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  ${uid}        0 ${inode} 1 00000000a6c6d459 100 0 0 10 0`;
  // 12345 is a uid before it is an inode; 123456 holds it as a prefix, 9912345 as a suffix.
  const text = [header, row(0, '1F90', 12345, 777), row(1, '1F91', 0, 123456), row(2, '1F92', 0, 9912345), row(3, '1F93', 1000, 12345), ''].join('\n');
  const table = parseSocketTable('tcp', text);
  for (const inode of [777, 123456, 9912345, 12345]) t.deepEqual(findSocket('tcp', text, inode), table.get(inode), `inode ${inode}`);
  t.like(findSocket('tcp', text, 12345), { protocol: 'tcp', local: '127.0.0.1:8083', state: 'LISTEN' });
  t.is(findSocket('tcp', text, 1234), undefined);
  t.is(findSocket('tcp', text, 100), undefined, 'a number in a later column is no inode');
  t.is(findSocket('tcp', `${header}\n`, 777), undefined);
});

test('findSocket: the row found parses as the whole table does, a bad one throws ParseError', (t) => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const text = `${header}\n   0: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n`;
  t.throws(() => findSocket('tcp', text, 4242), { instanceOf: ParseError });
  const netlink = 'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n000000007a0b24a3 0   0          00000000 0        0        0     2        0        4\n';
  t.deepEqual(findSocket('netlink', netlink, 4), { protocol: 'netlink', local: 'ROUTE portid 0' });
  t.is(findSocket('netlink', netlink, 2), undefined, 'the Locks column is no inode');
});

linux('findSocket agrees with the whole parse on every row of this machine\'s inet, netlink and packet tables', async (t) => {
  // Rows of each kind this test can make: a listener, a connection to it, both ends.
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  try {
    let rows = 0;
    for (const name of ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'netlink', 'packet']) {
      if (!existsSync(`/proc/self/net/${name}`)) continue;
      const text = readFileSync(`/proc/self/net/${name}`, 'latin1');
      const table = parseSocketTable(name, text);
      for (const [inode, info] of table) t.deepEqual(findSocket(name, text, inode), info, `${name} inode ${inode}`);
      rows += table.size;
    }
    t.true(rows >= 3, `rows checked: ${rows}`);
  } finally {
    client.destroy();
    server.close();
  }
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

const hasStrace = process.platform === 'linux' && spawnSync('strace', ['-V']).status === 0;
const withStrace = hasStrace ? test : test.skip;

/** Runs fdscan PID --json under strace; the socket tables of /proc/PID/net/ it opened, in order. */
function auditUnderStrace(pid: number): { fds: Array<{ fd: number; socket?: { protocol: string } }>; tablesOpened: string[] } {
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', process.execPath, fdscanBin, String(pid), '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(result.stderr.slice(-2000));
  const tablesOpened = [...result.stderr.matchAll(new RegExp(`openat\\([^"]*"/proc/${pid}/net/([a-z0-9]+)"`, 'g'))].map((m) => m[1]!);
  return { fds: JSON.parse(result.stdout).fds, tablesOpened };
}

async function holdSockets(python: string): Promise<{ child: ChildProcess; fds: number[] }> {
  const child = spawn('python3', ['-c', `import socket, sys\n${python}\nprint(' '.join(str(s.fileno()) for s in held), flush=True)\nsys.stdin.read()\n`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  return { child, fds: String(first.value).split(' ').map(Number) };
}

withStrace('an audit of unix sockets alone reads /proc/PID/net/unix and no other socket table (strace -e openat)', async (t) => {
  const { child, fds } = await holdSockets('held = list(socket.socketpair())');
  try {
    const audit = auditUnderStrace(child.pid!);
    for (const fd of fds) t.is(audit.fds.find((d) => d.fd === fd)?.socket?.protocol, 'unix', `fd ${fd}`);
    t.deepEqual(audit.tablesOpened, ['unix']);
  } finally {
    child.kill();
  }
});

withStrace('tables are read until the socket is found: unix, TCP and netlink sockets all resolved, each table read once (strace -e openat)', async (t) => {
  const { child, fds } = await holdSockets(`
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(('127.0.0.1', 0))
tcp.listen()
route = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
route.bind((0, 0))  # /proc/net/netlink lists a socket once it is bound
held = [*socket.socketpair(), tcp, route]`);
  try {
    const audit = auditUnderStrace(child.pid!);
    const protocol = (fd: number) => audit.fds.find((d) => d.fd === fd)?.socket?.protocol;
    t.deepEqual(fds.map(protocol), ['unix', 'unix', 'tcp', 'netlink']);
    t.deepEqual(audit.tablesOpened, ['unix', 'tcp', 'tcp6', 'udp', 'udp6', 'netlink']);
  } finally {
    child.kill();
  }
});
