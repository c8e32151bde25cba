/** Baseline entries: the same leak in another run (other pids, other temp dirs, another Python version) has the same entry. */
import test from 'ava';
import { tmpdir } from 'node:os';
import { descriptorName, normalisePath, programName } from '../../src/gate/program-name.js';

test('programs: the executable without its version, and what an interpreter runs', (t) => {
  t.is(programName(['python3', 'app.py', '--port', '80'], '/usr/bin/python3.11'), 'python app.py');
  t.is(programName(['python3', '-m', 'pytest', '-x'], '/opt/py/bin/python3.12'), 'python -m pytest');
  t.is(programName(['/bin/sh', '-c', 'exec 7>log; true'], '/usr/bin/dash'), 'dash -c exec 7>log; true');
  // A -c script by its first non-empty line, its temp paths without their randomness.
  t.is(programName(['python3', '-c', `\n  \nimport os; open('${tmpdir()}/tmpk3j_x9a2/out')\nprint(1)`], '/usr/bin/python3.11'), `python -c import os; open('${tmpdir()}/tmp*/out')`);
  t.is(programName(['sh', '-c', 'x'.repeat(200)], '/usr/bin/dash'), `dash -c ${'x'.repeat(60)}`);
  t.is(programName(['node', '--enable-source-maps', 'dist/server.js'], '/usr/local/bin/node'), 'node server.js');
  t.is(programName(['/bin/true'], '/usr/bin/true'), 'true');
  t.is(programName(['gcc-12', '-c', 'x.c'], '(unreadable: EACCES)'), 'gcc');
});

test('temp-dir randomness becomes *, other paths stay as they are', (t) => {
  const tmp = tmpdir();
  t.is(normalisePath(`${tmp}/fdscan-gate-Ab3dE9/app.log`), `${tmp}/fdscan-gate-*/app.log`);
  t.is(normalisePath(`${tmp}/fdscan-gate-abcdef/app.log`), `${tmp}/fdscan-gate-*/app.log`, 'a suffix without digits is random too');
  t.is(normalisePath('/tmp/tmpk3j_x9a2/out.txt'), '/tmp/tmp*/out.txt');
  t.is(normalisePath('/tmp/pytest-of-root/pytest-12/test_leak0/app.log'), '/tmp/pytest-of-root/pytest-*/test_leak*/app.log');
  t.is(normalisePath('/tmp/tmp.x8Fq2LzP0a'), '/tmp/tmp.*');
  t.is(normalisePath('/tmp/build/app.log'), '/tmp/build/app.log');
  t.is(normalisePath('/var/log/app-2024.log'), '/var/log/app-2024.log', 'outside temp dirs nothing changes');
  t.is(normalisePath('/proc/4242/status'), '/proc/*/status');
});

test('descriptors: a path, or the kind where the name is an inode number or a port', (t) => {
  t.is(descriptorName({ fd: 3, type: 'FIFO', target: 'pipe:[12345]' }), 'FIFO pipe');
  t.is(descriptorName({ fd: 3, type: 'SOCK', target: 'tcp 127.0.0.1:45678 (LISTEN)', socket: { protocol: 'tcp', local: '127.0.0.1:45678', state: 'LISTEN' } }), 'SOCK tcp LISTEN');
  t.is(descriptorName({ fd: 3, type: 'SOCK', target: 'unix /tmp/pymp-6drehw5_/listener-5yz3cdjc', socket: { protocol: 'unix', local: '/tmp/pymp-6drehw5_/listener-5yz3cdjc' } }), 'SOCK unix /tmp/pymp-*/listener-*');
  t.is(descriptorName({ fd: 3, type: 'eventfd', target: 'anon_inode:[eventfd]' }), 'eventfd');
  t.is(descriptorName({ fd: 3, type: 'REG', target: '/etc/hostname' }), 'REG /etc/hostname');
});
