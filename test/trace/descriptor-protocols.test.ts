/** Descriptors passed on purpose: each protocol's variables, and the checks that keep a leak a leak. */
import test from 'ava';
import { isProtocolVariable, protocolPasses } from '../../src/trace/descriptor-protocols.js';
import type { Descriptor } from '../../src/index.js';

const pipe = (fd: number, inode = 77): Descriptor => ({ fd, type: 'FIFO', target: `pipe:[${inode}]`, device: '0:13', inode });
const sock = (fd: number): Descriptor => ({ fd, type: 'SOCK', target: `socket:[${900 + fd}]`, device: '0:9', inode: 900 + fd });
const file = (fd: number): Descriptor => ({ fd, type: 'REG', target: `/var/log/${fd}.log`, device: '8:1', inode: 500 + fd });
const env = (entries: Record<string, string>) => new Map(Object.entries(entries));
const PID = 4242;

test('make jobserver: --jobserver-auth and --jobserver-fds name the two ends of one pipe; the last option counts; fifo: passes none', (t) => {
  const table = [pipe(0, 1), pipe(1, 2), pipe(2, 3), pipe(3), pipe(4), pipe(5, 78), pipe(6, 78)];
  t.deepEqual(protocolPasses(env({ MAKEFLAGS: ' -j4 --jobserver-auth=3,4' }), ['make'], PID, table), [{ protocol: 'make-jobserver', variable: 'MAKEFLAGS', fds: [3, 4] }]);
  t.deepEqual(protocolPasses(env({ MFLAGS: '-j --jobserver-fds=5,6' }), ['make'], PID, table), [{ protocol: 'make-jobserver', variable: 'MFLAGS', fds: [5, 6] }]);
  t.deepEqual(protocolPasses(env({ CARGO_MAKEFLAGS: '-j --jobserver-fds=3,4 --jobserver-auth=5,6' }), ['rustc'], PID, table).map((p) => p.fds), [[5, 6]]);
  t.deepEqual(protocolPasses(env({ MAKEFLAGS: '-j4 --jobserver-auth=fifo:/tmp/GMfifo1' }), ['make'], PID, table), []);
  // Two ends of different pipes, or a file where the pipe should be: not the jobserver.
  t.deepEqual(protocolPasses(env({ MAKEFLAGS: '--jobserver-auth=3,5' }), ['make'], PID, table), []);
  t.deepEqual(protocolPasses(env({ MAKEFLAGS: '--jobserver-auth=3,4' }), ['make'], PID, [file(3), file(4)]), []);
  t.deepEqual(protocolPasses(env({ MAKEFLAGS: '--jobserver-auth=3,4' }), ['make'], PID, [pipe(3)]), []);
});

test('systemd socket activation: LISTEN_FDS from 3 on, only when LISTEN_PID is the receiving process', (t) => {
  const table = [sock(3), sock(4), file(5)];
  t.deepEqual(protocolPasses(env({ LISTEN_FDS: '2', LISTEN_PID: String(PID) }), ['svc'], PID, table), [{ protocol: 'systemd-socket-activation', variable: 'LISTEN_FDS', fds: [3, 4] }]);
  t.deepEqual(protocolPasses(env({ LISTEN_FDS: '2', LISTEN_PID: '1' }), ['svc'], PID, table), []);
  t.deepEqual(protocolPasses(env({ LISTEN_FDS: '2' }), ['svc'], PID, table), []);
  t.deepEqual(protocolPasses(env({ LISTEN_FDS: '99999999999', LISTEN_PID: String(PID) }), ['svc'], PID, table), [], 'not a number fdscan takes');
});

test('gunicorn, werkzeug, Node IPC, Wayland, einhorn, Server::Starter: sockets only', (t) => {
  const table = [sock(3), sock(4), file(5), sock(6)];
  const one = (entries: Record<string, string>) => protocolPasses(env(entries), ['x'], PID, table).map((p) => [p.protocol, p.fds]);
  t.deepEqual(one({ GUNICORN_FD: '3,4,5' }), [['gunicorn', [3, 4]]]);
  t.deepEqual(one({ WERKZEUG_SERVER_FD: '6' }), [['werkzeug', [6]]]);
  t.deepEqual(one({ NODE_CHANNEL_FD: '3' }), [['node-ipc', [3]]]);
  t.deepEqual(one({ WAYLAND_SOCKET: '5' }), [], 'a file is no Wayland socket');
  t.deepEqual(one({ EINHORN_FD_COUNT: '2', EINHORN_FD_0: '4', EINHORN_FD_1: '6' }), [['einhorn', [4, 6]]]);
  t.deepEqual(one({ SERVER_STARTER_PORT: '0.0.0.0:80=3;127.0.0.1:8080=6;/tmp/s.sock=5' }), [['server-starter', [3, 6]]]);
  t.deepEqual(one({ NGINX: '3;4;5;' }), [['nginx-upgrade', [3, 4]]], "nginx's upgrade: each listener followed by ';'");
  t.deepEqual(one({ NGINX: '6:3' }), [['nginx-upgrade', [3, 6]]], "':' separates too, the last needs none");
  t.deepEqual(one({ NGINX: 'x;;' }), []);
});

test('Python multiprocessing helpers name their descriptors in argv; a spawned worker holds only what it was passed', (t) => {
  const table = [pipe(0, 1), pipe(3), pipe(4), sock(5), pipe(7, 79)];
  const mp = (argv: string[]) => protocolPasses(env({}), argv, PID, table).map((p) => p.fds);
  t.deepEqual(mp(['python3', '-B', '-c', 'from multiprocessing.resource_tracker import main;main(4)']), [[4]]);
  t.deepEqual(mp(['python3', '-B', '-c', "from multiprocessing.forkserver import main; main(5, 7, ['__main__'], **{})"]), [[5, 7]]);
  t.deepEqual(mp(['python3', '-B', '-c', 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=4, pipe_handle=7)', '--multiprocessing-fork']), [[3, 4, 5, 7]]);
  t.deepEqual(mp(['python3', '-c', 'print(1)']), []);
});

test('the tracer hands over only the protocol variables, never the rest of the environment', (t) => {
  for (const name of ['MAKEFLAGS', 'MFLAGS', 'CARGO_MAKEFLAGS', 'LISTEN_FDS', 'LISTEN_PID', 'GUNICORN_FD', 'EINHORN_FD_3', 'NGINX']) t.true(isProtocolVariable(name), name);
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'PATH', 'LISTEN_FDNAMES_X', 'EINHORN_FD_X', 'makeflags']) t.false(isProtocolVariable(name), name);
});
