/**
 * Reads every descriptor of a macOS process: proc_pidinfo(PROC_PIDLISTFDS), then per descriptor
 * the proc_pidfdinfo flavour of its type. A descriptor closed between the two (EBADF) is skipped.
 */
import {
  formatIpv6, type AccessMode, type Descriptor, type DescriptorType, type ProcessAudit,
  type SocketInfo,
} from '../../src/probe-kit/index.js';
import { darwinProcessInfo, processError } from './process-info.js';
import { koffi, darwinTypes, offsetOf } from './types.js';
import {
  EBADF, ESRCH, PROC_FP_CLEXEC, PROC_PIDFDKQUEUEINFO, PROC_PIDFDPIPEINFO, PROC_PIDFDSOCKETINFO,
  PROC_PIDFDVNODEPATHINFO, PROC_PIDLISTFDS, PROX_FDTYPE, errno, procPidFdInfo, procPidInfo,
} from './libproc.js';
import { typeFromMode } from '../file-mode.js';

/** Types lsof gives the descriptor kinds that carry no further detail here. */
const OTHER_KINDS: Record<number, DescriptorType> = {
  [PROX_FDTYPE.ATALK]: 'ATALK', [PROX_FDTYPE.PSHM]: 'PSXSHM', [PROX_FDTYPE.PSEM]: 'PSXSEM', [PROX_FDTYPE.FSEVENTS]: 'FSEVENTS',
  [PROX_FDTYPE.NETPOLICY]: 'NPOLICY', [PROX_FDTYPE.CHANNEL]: 'CHAN', [PROX_FDTYPE.NEXUS]: 'NEXUS',
};

/** The types this probe names beyond the common ones (the `-t` filter accepts them). */
export const DARWIN_TYPES: readonly string[] = ['KQUEUE', ...Object.values(OTHER_KINDS)];

/** proc_pidfdinfo flavour and result struct for each descriptor kind fdscan describes. */
const FLAVORS: Partial<Record<number, [number, string]>> = {
  [PROX_FDTYPE.VNODE]: [PROC_PIDFDVNODEPATHINFO, 'vnode_fdinfowithpath'],
  [PROX_FDTYPE.SOCKET]: [PROC_PIDFDSOCKETINFO, 'socket_fdinfo'],
  [PROX_FDTYPE.PIPE]: [PROC_PIDFDPIPEINFO, 'pipe_fdinfo'],
  [PROX_FDTYPE.KQUEUE]: [PROC_PIDFDKQUEUEINFO, 'kqueue_fdinfo'],
};

const TCP_STATES = ['CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT1', 'CLOSING', 'LAST_ACK', 'FIN_WAIT2', 'TIME_WAIT'];
const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 30;
const SOCKINFO_IN = 1, SOCKINFO_TCP = 2, SOCKINFO_UN = 3;
const INI_IPV4 = 0x1;
const SO_ACCEPTCONN = 0x2;
const FREAD = 0x1, FWRITE = 0x2;
const OPEN_FLAGS: Array<[number, string]> = [[0x4, 'O_NONBLOCK'], [0x8, 'O_APPEND'], [0x40, 'O_ASYNC'], [0x80, 'O_FSYNC']];

/** The descriptor table: [fd, PROX_FDTYPE] pairs. */
export function listFds(pid: number): Array<[number, number]> {
  const needed = procPidInfo(pid, PROC_PIDLISTFDS, 0, null);
  if (needed <= 0) processError(pid, errno(), 'proc_pidinfo(PROC_PIDLISTFDS)');
  // Room for descriptors opened between the size query and the read.
  const buffer = Buffer.alloc(needed + 64 * 8);
  const got = procPidInfo(pid, PROC_PIDLISTFDS, 0, buffer);
  if (got <= 0) processError(pid, errno(), 'proc_pidinfo(PROC_PIDLISTFDS)');
  const fds: Array<[number, number]> = [];
  for (let i = 0; i + 8 <= got; i += 8) fds.push([buffer.readInt32LE(i), buffer.readUInt32LE(i + 4)]);
  return fds.sort((a, b) => a[0] - b[0]);
}

export function auditDarwinProcess(pid: number): ProcessAudit {
  const info = darwinProcessInfo(pid);
  const audit: ProcessAudit = { pid, command: info.command, ppid: info.ppid, platform: 'darwin', fds: [], errors: [] };
  if (info.uid !== undefined) audit.uid = info.uid;
  if (info.argv.length > 0) audit.argv = info.argv;
  for (const [fd, kind] of listFds(pid)) {
    const row = readDescriptor(pid, fd, kind);
    if (row) audit.fds.push(row);
  }
  try {
    darwinProcessInfo(pid);
  } catch {
    audit.incomplete = true;
    audit.errors.push(`process ${pid} exited while it was read; descriptors may be missing`);
  }
  return audit;
}

/** One descriptor, or undefined when it closed meanwhile. */
export function readDescriptor(pid: number, fd: number, kind: number): Descriptor | undefined {
  const row: Descriptor = { fd, type: OTHER_KINDS[kind] ?? `type ${kind}`, target: '' };
  const query = FLAVORS[kind];
  if (!query) return row; // kinds libproc tells nothing more about
  const [flavor, structName] = query;
  const buffer = Buffer.alloc(koffi().sizeof(darwinTypes()[structName]!));
  const got = procPidFdInfo(pid, fd, flavor, buffer);
  if (got <= 0) {
    const code = errno();
    if (code === EBADF || code === ESRCH) return undefined;
    row.error = `proc_pidfdinfo: errno ${code}`;
    return row;
  }
  const fileInfo = koffi().decode(buffer, darwinTypes().proc_fileinfo!) as { fi_openflags: number; fi_status: number; fi_offset: number };
  row.inheritable = (fileInfo.fi_status & PROC_FP_CLEXEC) === 0;
  row.access = accessOf(fileInfo.fi_openflags);
  row.flags = OPEN_FLAGS.filter(([bit]) => fileInfo.fi_openflags & bit).map(([, name]) => name);
  if (kind === PROX_FDTYPE.VNODE) describeVnode(row, buffer, Number(fileInfo.fi_offset));
  else if (kind === PROX_FDTYPE.SOCKET) describeSocket(row, buffer);
  else if (kind === PROX_FDTYPE.PIPE) describePipe(row, buffer);
  else { row.type = 'KQUEUE'; row.target = '[kqueue]'; }
  return row;
}

function accessOf(openflags: number): AccessMode {
  const r = (openflags & FREAD) !== 0;
  const w = (openflags & FWRITE) !== 0;
  return r && w ? 'rw' : r ? 'r' : w ? 'w' : 'none';
}

function describeVnode(row: Descriptor, buffer: Buffer, offset: number): void {
  const statAt = offsetOf('vnode_fdinfowithpath', 'pvip', 'vnode_info_path', 'vip_vi', 'vnode_info', 'vi_stat');
  const stat = koffi().decode(buffer, statAt, darwinTypes().vinfo_stat!) as { vst_dev: number; vst_mode: number; vst_ino: number | bigint; vst_rdev: number };
  row.type = typeFromMode(stat.vst_mode);
  const pathAt = offsetOf('vnode_fdinfowithpath', 'pvip', 'vnode_info_path', 'vip_path');
  const raw = buffer.subarray(pathAt, pathAt + 1024);
  const end = raw.indexOf(0);
  row.target = (end === -1 ? raw : raw.subarray(0, end)).toString('utf8');
  row.offset = offset;
  row.device = formatDevice(stat.vst_dev);
  row.inode = Number(stat.vst_ino);
  if (row.type === 'CHR' || row.type === 'BLK') row.rdev = formatDevice(stat.vst_rdev);
}

function describePipe(row: Descriptor, buffer: Buffer): void {
  const info = koffi().decode(buffer, offsetOf('pipe_fdinfo', 'pipeinfo'), darwinTypes().pipe_info!) as { pipe_handle: number | bigint; pipe_peerhandle: number | bigint };
  row.type = 'FIFO';
  const peer = BigInt(info.pipe_peerhandle);
  row.target = `pipe:[0x${BigInt(info.pipe_handle).toString(16)}]${peer ? ` ->0x${peer.toString(16)}` : ''}`;
}

function describeSocket(row: Descriptor, buffer: Buffer): void {
  row.type = 'SOCK';
  const at = (...path: string[]): number => offsetOf('socket_fdinfo', 'psi', 'socket_info', ...path);
  const family = buffer.readInt32LE(at('soi_family'));
  const type = buffer.readInt32LE(at('soi_type'));
  const kind = buffer.readInt32LE(at('soi_kind'));
  const options = buffer.readInt16LE(at('soi_options'));
  const proto = at('soi_proto');
  const info: SocketInfo = { protocol: 'unknown' };
  if (family === AF_INET || family === AF_INET6) {
    const inAt = kind === SOCKINFO_TCP ? proto + offsetOf('tcp_sockinfo', 'tcpsi_ini') : proto;
    const base = type === 1 ? 'tcp' : type === 2 ? 'udp' : 'raw';
    info.protocol = family === AF_INET6 ? `${base}6` : base;
    if (kind === SOCKINFO_IN || kind === SOCKINFO_TCP) {
      const v4 = (buffer[inAt + offsetOf('in_sockinfo', 'insi_vflag')]! & INI_IPV4) !== 0;
      const local = inetAddress(buffer, inAt + offsetOf('in_sockinfo', 'insi_laddr'), buffer.readInt32LE(inAt + offsetOf('in_sockinfo', 'insi_lport')), v4);
      const remote = inetAddress(buffer, inAt + offsetOf('in_sockinfo', 'insi_faddr'), buffer.readInt32LE(inAt + offsetOf('in_sockinfo', 'insi_fport')), v4);
      info.local = local;
      if (!/^(0\.0\.0\.0|\[::\]):0$/.test(remote)) info.remote = remote;
    }
    if (kind === SOCKINFO_TCP) {
      const state = buffer.readInt32LE(proto + offsetOf('tcp_sockinfo', 'tcpsi_state'));
      info.state = TCP_STATES[state] ?? `state ${state}`;
    }
  } else if (family === AF_UNIX) {
    info.protocol = 'unix';
    info.socketType = type === 1 ? 'STREAM' : type === 2 ? 'DGRAM' : type === 5 ? 'SEQPACKET' : `type ${type}`;
    if (kind === SOCKINFO_UN) {
      const path = unixPath(buffer, proto + offsetOf('un_sockinfo', 'unsi_addr'));
      if (path) info.local = path;
      const peerPath = unixPath(buffer, proto + offsetOf('un_sockinfo', 'unsi_caddr'));
      if (peerPath) info.remote = peerPath;
      const connected = buffer.readBigUInt64LE(proto + offsetOf('un_sockinfo', 'unsi_conn_pcb')) !== 0n;
      info.state = options & SO_ACCEPTCONN ? 'LISTEN' : connected ? 'CONNECTED' : 'UNCONNECTED';
    }
  } else {
    info.protocol = `family ${family}`;
  }
  row.socket = info;
  const addresses = info.remote ? `${info.local ?? '?'}->${info.remote}` : (info.local ?? '');
  row.target = `${info.protocol} ${addresses}${info.state ? ` (${info.state})` : ''}`.trim();
}

/** The port is stored in network byte order in the low 16 bits of an int. */
function inetAddress(buffer: Buffer, at: number, rawPort: number, v4: boolean): string {
  const port = ((rawPort & 0xff) << 8) | ((rawPort >> 8) & 0xff);
  if (v4) return `${[...buffer.subarray(at + 12, at + 16)].join('.')}:${port}`;
  return `[${formatIpv6(buffer.subarray(at, at + 16))}]:${port}`;
}

/** sun_path of a sockaddr_un (after sun_len and sun_family), '' when unbound. */
function unixPath(buffer: Buffer, at: number): string {
  const raw = buffer.subarray(at + 2, at + 2 + 104);
  const end = raw.indexOf(0);
  return (end === -1 ? raw : raw.subarray(0, end)).toString('utf8');
}


/** A 32-bit macOS dev_t: major in the top byte, minor in the low 24 bits. */
export function formatDevice(dev: number): string {
  return `${(dev >>> 24) & 0xff}:${dev & 0xffffff}`;
}
