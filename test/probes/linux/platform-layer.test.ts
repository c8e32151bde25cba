/**
 * The Linux side of the platform layer: only this platform's modules load, both /proc readers
 * agree, the close-on-exec remedy's fcntl fallback works, and struct layouts match the uapi headers.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listDescriptors } from '../../../src/index.js';
import { openDescriptorFiles } from '../../../probes/linux/descriptor-files.js';
import { readDescriptors, newAuditContext } from '../../../probes/linux/descriptors.js';
import { linuxTypes } from '../../../probes/linux/libc.js';
import { repoRoot } from '../../helpers/fixture.js';
import { startFixture } from '../../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const withStrace = process.platform === 'linux' && hasStrace ? test : test.skip;

withStrace('importing the library and auditing opens no win32 or darwin module (strace -e openat)', (t) => {
  const index = pathToFileURL(join(repoRoot, 'dist', 'src', 'index.js')).href;
  const script = `const m = await import(${JSON.stringify(index)}); m.listDescriptors(process.pid); m.markAllCloseOnExec; console.log('ok');`;
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.is(result.status, 0, result.stderr.slice(-2000));
  const opened = [...result.stderr.matchAll(/openat\([^"]*"([^"]+)"/g)].map((m) => m[1]!);
  const ownModules = opened.filter((path) => path.startsWith(join(repoRoot, 'dist')));
  t.true(ownModules.some((path) => path.includes('/probes/linux/')), 'the Linux probe is loaded');
  t.deepEqual(ownModules.filter((path) => /\/probes\/(win32|darwin)\//.test(path)), []);
});

// Where koffi's prebuilt glibc binary is for (elsewhere koffi's entry decides, as before).
const glibcNode = process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch) && programHead().includes('/ld-linux-');

function programHead(): Buffer {
  const fd = openSync(process.execPath, 'r');
  try {
    const head = Buffer.alloc(4096);
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } finally {
    closeSync(fd);
  }
}
const withStraceOnGlibc = glibcNode && hasStrace ? test : test.skip;

withStraceOnGlibc('the command line loads koffi\'s prebuilt glibc binary directly, not koffi\'s entry (strace -e openat)', (t) => {
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', process.execPath, join(repoRoot, 'bin', 'fdscan.js'), String(process.pid), '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  t.is(result.status, 0, result.stderr.slice(-2000));
  const opened = [...result.stderr.matchAll(/openat\([^"]*"([^"]+)"[^=]*= \d+/g)].map((m) => m[1]!);
  t.true(opened.some((path) => path.endsWith(`/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`)), 'the binary is loaded');
  t.deepEqual(opened.filter((path) => /\/koffi\/(index|src\/koffi\/index)\.c?js$/.test(path)), [], 'koffi\'s entry is not');
  t.true(JSON.parse(result.stdout).fds.length > 0);
});

linux('the libc reader and the Node fs reader read the same table of one process', async (t) => {
  const fixture = await startFixture<{ pid: number }>('hold-descriptors.py');
  try {
    const read = (reader: 'libc' | 'node') => {
      const files = openDescriptorFiles(fixture.pid, { reader });
      try {
        return files.list().map((fd) => ({ fd, link: files.link(fd).toString('latin1'), info: { ...files.fdinfo(fd) }, text: files.fdinfoText(), stat: files.stat(fd) }));
      } finally {
        files.close();
      }
    };
    const libc = read('libc');
    const node = read('node');
    t.true(libc.length > 15, `the fixture holds many descriptors (${libc.length})`);
    t.deepEqual(libc, node);
    // And each agrees with /proc as Node reads it directly.
    t.deepEqual(libc.map((r) => r.fd), readdirSync(`/proc/${fixture.pid}/fd`).map(Number).sort((a, b) => a - b));
    t.is(libc.find((r) => r.fd === 3)?.text, readFileSync(`/proc/${fixture.pid}/fdinfo/3`, 'latin1'));
  } finally {
    await fixture.stop();
  }
});

linux('the tracer\'s table read and the audit agree on a stable process', async (t) => {
  const fixture = await startFixture<{ pid: number }>('hold-descriptors.py');
  try {
    const traced = readDescriptors(fixture.pid, newAuditContext({ peers: false }));
    t.is(traced.error, undefined);
    t.deepEqual(traced.rows, listDescriptors(fixture.pid, { peers: false }).fds);
  } finally {
    await fixture.stop();
  }
});

linux('markAllCloseOnExec: close_range and the fcntl fallback leave exactly 0, 1, 2 and the kept ones inheritable', async (t) => {
  const { markAllNonInheritable } = await import('../../../probes/linux/inheritance.js');
  for (const method of ['close_range', 'fcntl'] as const) {
    // In a child process: the remedy changes the process it runs in.
    const script = `
      const { openSync } = await import('node:fs');
      const { markAllNonInheritable } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'probes', 'linux', 'inheritance.js')).href)});
      const { listDescriptors } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'src', 'index.js')).href)});
      const a = openSync('/etc/hostname', 'r'), b = openSync('/etc/hostname', 'r');
      const { execSync } = await import('node:child_process');
      const result = markAllNonInheritable([b], ${JSON.stringify(method)});
      const inheritable = listDescriptors(process.pid, { peers: false }).fds.filter((d) => d.inheritable).map((d) => d.fd);
      console.log(JSON.stringify({ result, inheritable, b }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    t.is(run.status, 0, run.stderr);
    const { result, inheritable, b } = JSON.parse(run.stdout) as { result: { method: string; inheritable: number[] }; inheritable: number[]; b: number };
    t.is(result.method, method);
    t.deepEqual(result.inheritable, [0, 1, 2, b]);
    t.deepEqual(inheritable, [0, 1, 2, b], `${method}: nothing else stays inheritable`);
  }
  t.is(typeof markAllNonInheritable, 'function');
});

linux('struct layouts: koffi\'s computed offsets are the uapi headers\' (include/uapi/linux/stat.h, netlink.h, unix_diag.h)', (t) => {
  const types = linuxTypes();
  t.like(types.statx, { size: 256, stx_nlink: 16, stx_mode: 28, stx_ino: 32, stx_rdev_major: 128, stx_dev_minor: 140 });
  t.like(types.nlmsghdr, { size: 16, nlmsg_len: 0, nlmsg_type: 4, nlmsg_flags: 6 });
  t.like(types.unixDiagReq, { size: 24, udiag_states: 4, udiag_show: 12 });
  t.like(types.unixDiagMsg, { size: 16, udiag_ino: 4 });
});

linux('an fd opened and closed by the reader itself is never reported (self audit)', (t) => {
  const before = listDescriptors(process.pid, { peers: false }).fds.map((d) => d.fd);
  const fd = openSync('/etc/hostname', 'r');
  closeSync(fd);
  t.deepEqual(listDescriptors(process.pid, { peers: false }).fds.map((d) => d.fd), before);
});
