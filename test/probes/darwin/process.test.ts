/**
 * The macOS probe on this test's own process: a file, a listening TCP socket, a pipe and libuv's
 * kqueue. Runs on macOS only (skipped visibly elsewhere); it has not yet been run on a real Mac.
 */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDescriptors } from '../../../src/index.js';

const mac = process.platform === 'darwin' ? test : test.skip;

mac('lists a file, a TCP listener, pipes and the kqueue of this process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-mac-'));
  const path = join(dir, 'held.txt');
  writeFileSync(path, 'fdscan\n');
  const fd = openSync(path, 'r');
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const child = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    const audit = listDescriptors(process.pid);
    t.is(audit.platform, 'darwin');
    const file = audit.fds.find((d) => d.fd === fd);
    t.is(file?.type, 'REG');
    t.true(file?.target.endsWith('held.txt'));
    t.is(file?.inheritable, false, 'node opens files with O_CLOEXEC');
    t.is(file?.access, 'r');
    const port = (server.address() as AddressInfo).port;
    t.true(audit.fds.some((d) => d.type === 'SOCK' && d.socket?.protocol === 'tcp' && d.socket.local === `127.0.0.1:${port}` && d.socket.state === 'LISTEN'));
    t.true(audit.fds.some((d) => d.type === 'KQUEUE'));
    t.true(audit.fds.some((d) => d.type === 'FIFO' || (d.type === 'SOCK' && d.socket?.protocol === 'unix')), 'the pipe to the child');
    t.true(audit.fds.filter((d) => d.fd <= 2).every((d) => d.inheritable === true), 'stdio is inheritable');
  } finally {
    child.kill();
    server.close();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
