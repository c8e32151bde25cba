/**
 * The <sys/proc_info.h> layouts, on every OS: koffi computes sizes and offsets without calling
 * libproc, so these run on Linux and under wine as well as on a Mac.
 */
import test from 'ava';
import { DOCUMENTED_SIZES, darwinTypes, koffi, offsetOf } from '../../../probes/darwin/types.js';
import { formatDevice } from '../../../probes/darwin/descriptors.js';

test('every struct has the size <sys/proc_info.h> gives on 64-bit macOS', (t) => {
  const types = darwinTypes();
  for (const [name, size] of Object.entries(DOCUMENTED_SIZES)) t.is(koffi().sizeof(types[name]!), size, name);
});

test('offsets fdscan reads match the header', (t) => {
  t.is(offsetOf('proc_fileinfo', 'fi_status'), 4);
  t.is(offsetOf('proc_fileinfo', 'fi_offset'), 8);
  t.is(offsetOf('vinfo_stat', 'vst_ino'), 8);
  t.is(offsetOf('vinfo_stat', 'vst_rdev'), 116);
  t.is(offsetOf('vnode_fdinfowithpath', 'pvip', 'vnode_info_path', 'vip_path'), 176);
  t.is(offsetOf('socket_fdinfo', 'psi'), 24);
  t.is(offsetOf('socket_info', 'soi_type'), 152);
  t.is(offsetOf('socket_info', 'soi_family'), 160);
  t.is(offsetOf('socket_info', 'soi_rcv'), 184);
  t.is(offsetOf('socket_info', 'soi_kind'), 232);
  t.is(offsetOf('socket_info', 'soi_proto'), 240);
  t.is(offsetOf('in_sockinfo', 'insi_vflag'), 24);
  t.is(offsetOf('in_sockinfo', 'insi_faddr'), 32);
  t.is(offsetOf('in_sockinfo', 'insi_laddr'), 48);
  t.is(offsetOf('in_sockinfo', 'insi_v6'), 68);
  t.is(offsetOf('tcp_sockinfo', 'tcpsi_state'), 80);
  t.is(offsetOf('tcp_sockinfo', 'tcpsi_tp'), 112);
  t.is(offsetOf('un_sockinfo', 'unsi_addr'), 16);
  t.is(offsetOf('un_sockinfo', 'unsi_caddr'), 271);
  t.is(offsetOf('pipe_fdinfo', 'pipeinfo', 'pipe_info', 'pipe_peerhandle'), 24 + 144);
  t.is(offsetOf('proc_bsdshortinfo', 'pbsi_comm'), 16);
  t.is(offsetOf('proc_bsdshortinfo', 'pbsi_uid'), 36);
});

test('dev_t is major:minor with the major in the top byte', (t) => {
  t.is(formatDevice(0x01000004), '1:4');
});
