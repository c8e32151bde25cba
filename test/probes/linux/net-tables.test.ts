/** /proc/net/unix with names chosen by someone else: a newline in one bound path must not hide every unix socket. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { listDescriptors } from '../../../src/index.js';
import { parseUnixTable } from '../../../probes/linux/net-tables.js';

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
