/**
 * Known ways of passing descriptors on purpose, so that a descriptor handed to a program that
 * expects it is not called a leak. Each protocol names its descriptors in the receiving program's
 * environment (or, for Python's multiprocessing, its argv), read at the exec:
 *
 * - GNU make's jobserver: `--jobserver-auth=R,W` (make 4.2+) or `--jobserver-fds=R,W` (older) in
 *   MAKEFLAGS or MFLAGS, and cargo's CARGO_MAKEFLAGS; R and W must be the two ends of one pipe (or
 *   one FIFO). `--jobserver-auth=fifo:PATH` (make 4.4) passes no descriptor.
 * - systemd socket activation (sd_listen_fds): LISTEN_FDS=N with LISTEN_PID naming the receiving
 *   process, descriptors 3 .. 3+N-1.
 * - gunicorn's re-exec (GUNICORN_FD=3,4), werkzeug's reloader (WERKZEUG_SERVER_FD), einhorn
 *   (EINHORN_FD_COUNT, EINHORN_FD_0...), Server::Starter (SERVER_STARTER_PORT=addr=fd;...),
 *   nginx's binary upgrade (NGINX="5;6;": the old master's listeners, `;` or `:` after each),
 *   Node's child_process.fork IPC channel (NODE_CHANNEL_FD), a Wayland client's socket
 *   (WAYLAND_SOCKET): sockets only.
 * - Python's multiprocessing: the resource tracker (`main(FD)`), the forkserver (`main(LISTENER,
 *   ALIVE, ...)`), and spawned workers (`spawn_main(...) --multiprocessing-fork`), which start with
 *   close_fds and pass exactly the descriptors they need (pass_fds), so all they hold is passed.
 *
 * - Windows: the standard handles a process was started with (STARTUPINFO's hStdInput, hStdOutput,
 *   hStdError, as its process parameters hold them) and the C runtime's descriptor block
 *   (lpReserved2, through which libuv passes extra stdio pipes), read by the Windows tracer.
 *
 * A number the environment names counts only when the receiver holds a descriptor of the expected
 * kind there: a log file that happens to sit at the jobserver's number is still a leak.
 * Only these facts are kept; the environment itself (it may hold secrets) is never recorded.
 */
import type { Descriptor } from '../probe-kit/descriptor.js';
import { objectKey } from '../audit/descriptor-identity.js';
import type { ProtocolName, ProtocolPass } from '../probe-kit/trace-result.js';

export type { ProtocolName, ProtocolPass };

/** How reports name each protocol. */
export const PROTOCOL_TITLES: Record<ProtocolName, string> = {
  'make-jobserver': 'GNU make jobserver',
  'systemd-socket-activation': 'systemd socket activation',
  gunicorn: 'gunicorn',
  werkzeug: 'werkzeug reloader',
  einhorn: 'einhorn',
  'server-starter': 'Server::Starter',
  'node-ipc': 'Node child_process IPC channel',
  wayland: 'Wayland socket',
  'python-multiprocessing': 'Python multiprocessing',
  'nginx-upgrade': "nginx's binary upgrade",
  'windows-stdio': "Windows standard handles (STARTUPINFO, the C runtime's lpReserved2)",
};

const MAKE_VARIABLES = ['MAKEFLAGS', 'MFLAGS', 'CARGO_MAKEFLAGS'];
const SOCKET_VARIABLES: Record<string, ProtocolName> = {
  GUNICORN_FD: 'gunicorn', WERKZEUG_SERVER_FD: 'werkzeug', NODE_CHANNEL_FD: 'node-ipc', WAYLAND_SOCKET: 'wayland',
};
const NAMES = new Set([...MAKE_VARIABLES, ...Object.keys(SOCKET_VARIABLES), 'LISTEN_FDS', 'LISTEN_PID', 'SERVER_STARTER_PORT', 'EINHORN_FD_COUNT', 'NGINX']);

/** The environment variables protocolPasses reads: the tracer hands over these and no others. */
export function isProtocolVariable(name: string): boolean {
  return NAMES.has(name) || /^EINHORN_FD_\d+$/.test(name);
}

/** More than any real listener set, fewer than a hostile LISTEN_FDS could ask to build. */
const MAX_NAMED = 4096;

/**
 * The descriptors `received` by the program now running in `pid` that its environment (only the
 * protocol variables) or argv name as passed on purpose.
 */
export function protocolPasses(env: ReadonlyMap<string, string>, argv: readonly string[], pid: number, received: readonly Descriptor[]): ProtocolPass[] {
  const byFd = new Map(received.map((d) => [d.fd, d]));
  const held = (fd: number, type?: string): boolean => {
    const d = byFd.get(fd);
    return d !== undefined && !d.error && (type === undefined || d.type === type);
  };
  const passes: ProtocolPass[] = [];
  const add = (protocol: ProtocolName, variable: string, fds: number[]): void => {
    const kept = [...new Set(fds)].filter((fd) => fd > 2);
    if (kept.length > 0) passes.push({ protocol, variable, fds: kept.sort((a, b) => a - b) });
  };

  for (const variable of MAKE_VARIABLES) {
    const value = env.get(variable);
    if (value === undefined) continue;
    // make reads the last such option; `fifo:PATH` and Windows semaphore names carry no descriptor.
    const options = [...value.matchAll(/--jobserver-(?:auth|fds)=(\S*)/g)];
    const last = options.length > 0 ? /^(\d+),(\d+)$/.exec(options[options.length - 1]![1]!) : null;
    if (!last) continue;
    const [read, write] = [Number(last[1]), Number(last[2])];
    const r = byFd.get(read);
    const w = byFd.get(write);
    if (r && w && r.type === 'FIFO' && w.type === 'FIFO' && objectKey(r) === objectKey(w)) add('make-jobserver', variable, [read, write]);
  }

  // sd_listen_fds: LISTEN_PID must name this very process, else the descriptors are not its own.
  const listenFds = decimal(env.get('LISTEN_FDS'));
  if (listenFds !== undefined && listenFds > 0 && env.get('LISTEN_PID') === String(pid)) {
    const fds: number[] = [];
    for (let fd = 3; fd < 3 + Math.min(listenFds, MAX_NAMED); fd++) if (held(fd)) fds.push(fd);
    add('systemd-socket-activation', 'LISTEN_FDS', fds);
  }

  for (const [variable, protocol] of Object.entries(SOCKET_VARIABLES)) {
    const value = env.get(variable);
    if (value === undefined) continue;
    add(protocol, variable, value.split(',').map((part) => decimal(part.trim())).filter((fd): fd is number => fd !== undefined && held(fd, 'SOCK')));
  }

  const einhorn = decimal(env.get('EINHORN_FD_COUNT'));
  if (einhorn !== undefined) {
    const fds: number[] = [];
    for (let i = 0; i < Math.min(einhorn, MAX_NAMED); i++) {
      const fd = decimal(env.get(`EINHORN_FD_${i}`));
      if (fd !== undefined && held(fd, 'SOCK')) fds.push(fd);
    }
    add('einhorn', 'EINHORN_FD_COUNT', fds);
  }

  const starter = env.get('SERVER_STARTER_PORT');
  if (starter !== undefined) {
    const fds = starter.split(';').map((entry) => decimal(entry.slice(entry.lastIndexOf('=') + 1)));
    add('server-starter', 'SERVER_STARTER_PORT', fds.filter((fd): fd is number => fd !== undefined && held(fd, 'SOCK')));
  }

  // nginx (ngx_add_inherited_sockets) reads each number up to a `;` or `:`; a trailing one ends the list.
  const nginx = env.get('NGINX');
  if (nginx !== undefined) {
    const fds = nginx.split(/[;:]/).slice(0, MAX_NAMED).map(decimal);
    add('nginx-upgrade', 'NGINX', fds.filter((fd): fd is number => fd !== undefined && held(fd, 'SOCK')));
  }

  const multiprocessing = multiprocessingFds(argv, received);
  if (multiprocessing.length > 0) add('python-multiprocessing', 'argv', multiprocessing.filter((fd) => held(fd)));
  return passes;
}

/** A non-negative decimal number, or undefined. */
function decimal(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/** The descriptors a Python multiprocessing helper's `-c` script names (all of them for a spawned worker). */
function multiprocessingFds(argv: readonly string[], received: readonly Descriptor[]): number[] {
  const at = argv.indexOf('-c');
  const script = at >= 0 ? argv[at + 1] : undefined;
  if (script === undefined) return [];
  if (/^from multiprocessing\.spawn import spawn_main; spawn_main\(/.test(script) && argv.includes('--multiprocessing-fork')) {
    return received.map((d) => d.fd);
  }
  const call = /^from multiprocessing\.(?:resource_tracker|semaphore_tracker|forkserver) import main; ?main\(([\d, ]+)/.exec(script);
  return call ? call[1]!.split(',').map((n) => decimal(n.trim())).filter((fd): fd is number => fd !== undefined) : [];
}
