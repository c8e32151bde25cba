/**
 * The <sys/proc_info.h> layouts, on every OS: koffi computes sizes and offsets without calling
 * libproc, so these run on Linux and under wine as well as on a Mac.
 *
 * The numbers below are written out here, not taken from probes/darwin/types.ts (whose own table
 * only guards the declarations against a typo at load): they are what a C compiler gives for the
 * structs of xnu's bsd/sys/proc_info.h (with sockaddr_un from sys/un.h, in_addr and in6_addr from
 * netinet/in.h, fsid_t from sys/mount.h) on 64-bit macOS, x86_64 and arm64 alike. A declaration
 * that drifts from the header fails here even when its size table drifts with it.
 */
import test from 'ava';
import { darwinTypes, koffi, offsetOf } from '../../../probes/darwin/types.js';
import { formatDevice } from '../../../probes/darwin/descriptors.js';

/** sizeof(struct NAME) on 64-bit macOS, from bsd/sys/proc_info.h. */
const HEADER_SIZES: Record<string, number> = {
  proc_fdinfo: 8,
  proc_fileinfo: 24,
  vinfo_stat: 136,
  vnode_info: 152,
  vnode_info_path: 1176, // vnode_info + char vip_path[MAXPATHLEN = 1024]
  vnode_fdinfowithpath: 1200, // PROC_PIDFDVNODEPATHINFO_SIZE
  in_sockinfo: 80,
  tcp_sockinfo: 120,
  un_sockinfo: 528, // two unions of sockaddr_un and char[SOCK_MAXADDRLEN = 255], padded to 8
  sockbuf_info: 24,
  socket_info: 768,
  socket_fdinfo: 792, // PROC_PIDFDSOCKETINFO_SIZE
  pipe_info: 160,
  pipe_fdinfo: 184, // PROC_PIDFDPIPEINFO_SIZE
  kqueue_info: 144,
  kqueue_fdinfo: 168, // PROC_PIDFDKQUEUEINFO_SIZE
  proc_bsdshortinfo: 64, // PROC_PIDT_SHORTBSDINFO_SIZE
};

/** offsetof() of every member fdscan reads, from the same header: [struct, member, offset]. */
const HEADER_OFFSETS: Array<[string, string, number]> = [
  ['proc_fdinfo', 'proc_fdtype', 4],
  ['proc_fileinfo', 'fi_status', 4],
  ['proc_fileinfo', 'fi_offset', 8],
  ['proc_fileinfo', 'fi_type', 16],
  ['vinfo_stat', 'vst_mode', 4],
  ['vinfo_stat', 'vst_ino', 8],
  ['vinfo_stat', 'vst_size', 88],
  ['vinfo_stat', 'vst_rdev', 116],
  ['vnode_info', 'vi_type', 136],
  ['vnode_fdinfowithpath', 'pvip', 24],
  ['vnode_info_path', 'vip_path', 152],
  ['socket_fdinfo', 'psi', 24],
  ['socket_info', 'soi_type', 152],
  ['socket_info', 'soi_protocol', 156],
  ['socket_info', 'soi_family', 160],
  ['socket_info', 'soi_rcv', 184],
  ['socket_info', 'soi_kind', 232],
  ['socket_info', 'soi_proto', 240],
  ['in_sockinfo', 'insi_fport', 0],
  ['in_sockinfo', 'insi_lport', 4],
  ['in_sockinfo', 'insi_vflag', 24],
  ['in_sockinfo', 'insi_faddr', 32],
  ['in_sockinfo', 'insi_laddr', 48],
  ['in_sockinfo', 'insi_v4', 64],
  ['in_sockinfo', 'insi_v6', 68],
  ['tcp_sockinfo', 'tcpsi_ini', 0],
  ['tcp_sockinfo', 'tcpsi_state', 80],
  ['tcp_sockinfo', 'tcpsi_tp', 112],
  ['un_sockinfo', 'unsi_conn_pcb', 8],
  ['un_sockinfo', 'unsi_addr', 16],
  ['un_sockinfo', 'unsi_caddr', 271],
  ['pipe_fdinfo', 'pipeinfo', 24],
  ['pipe_info', 'pipe_handle', 136],
  ['pipe_info', 'pipe_peerhandle', 144],
  ['kqueue_fdinfo', 'kqueueinfo', 24],
  ['kqueue_info', 'kq_state', 136],
  ['proc_bsdshortinfo', 'pbsi_ppid', 4],
  ['proc_bsdshortinfo', 'pbsi_comm', 16],
  ['proc_bsdshortinfo', 'pbsi_uid', 36],
];

test('every struct has the size <sys/proc_info.h> gives on 64-bit macOS', (t) => {
  const types = darwinTypes();
  t.deepEqual(Object.keys(types).sort(), Object.keys(HEADER_SIZES).sort(), 'every declared struct has a header size here');
  for (const [name, size] of Object.entries(HEADER_SIZES)) t.is(koffi().sizeof(types[name]!), size, `sizeof(struct ${name})`);
});

test('offsets fdscan reads match the header', (t) => {
  for (const [struct, member, offset] of HEADER_OFFSETS) t.is(offsetOf(struct, member), offset, `offsetof(struct ${struct}, ${member})`);
  // Nested, as the probe reads them.
  t.is(offsetOf('vnode_fdinfowithpath', 'pvip', 'vnode_info_path', 'vip_path'), 24 + 152);
  t.is(offsetOf('pipe_fdinfo', 'pipeinfo', 'pipe_info', 'pipe_peerhandle'), 24 + 144);
  t.is(offsetOf('socket_fdinfo', 'psi', 'socket_info', 'soi_proto'), 24 + 240);
});

test('dev_t is major:minor with the major in the top byte', (t) => {
  t.is(formatDevice(0x01000004), '1:4');
});
