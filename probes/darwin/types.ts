/**
 * The structs of xnu's <sys/proc_info.h> that fdscan reads, declared for koffi once, with their
 * sizes asserted against the values the header's *_SIZE macros have on 64-bit macOS (x86_64 and
 * arm64 share them). Declared lazily: importing this module on another OS loads nothing.
 * Written from the header's text; never yet run against a real Mac (see docs/platforms.md).
 */
import type * as Koffi from 'koffi';
import { koffi } from '../native-library.js';

export { koffi };

/** sizeof() of each struct on 64-bit macOS, as libproc callers (lsof, psutil) rely on. */
export const DOCUMENTED_SIZES: Record<string, number> = {
  proc_fdinfo: 8,
  proc_fileinfo: 24,
  vinfo_stat: 136,
  vnode_info: 152,
  vnode_info_path: 1176,
  vnode_fdinfowithpath: 1200,
  in_sockinfo: 80,
  tcp_sockinfo: 120,
  un_sockinfo: 528,
  sockbuf_info: 24,
  socket_info: 768,
  socket_fdinfo: 792,
  pipe_info: 160,
  pipe_fdinfo: 184,
  kqueue_info: 144,
  kqueue_fdinfo: 168,
  proc_bsdshortinfo: 64,
};

let declared: Record<string, Koffi.TypeObject> | undefined;

/** Declare the aliases and structs (once) and assert their sizes. */
export function darwinTypes(): Record<string, Koffi.TypeObject> {
  if (declared) return declared;
  const k = koffi();
  k.alias('darwin_off_t', 'int64_t');
  k.alias('darwin_uid_t', 'uint32_t');
  k.alias('darwin_gid_t', 'uint32_t');
  k.alias('darwin_pid_t', 'int32_t');

  const t: Record<string, Koffi.TypeObject> = {};
  t.proc_fdinfo = k.struct('proc_fdinfo', { proc_fd: 'int32_t', proc_fdtype: 'uint32_t' });
  t.proc_fileinfo = k.struct('proc_fileinfo', {
    fi_openflags: 'uint32_t', fi_status: 'uint32_t', fi_offset: 'darwin_off_t', fi_type: 'int32_t', fi_guardflags: 'uint32_t',
  });
  t.vinfo_stat = k.struct('vinfo_stat', {
    vst_dev: 'uint32_t', vst_mode: 'uint16_t', vst_nlink: 'uint16_t', vst_ino: 'uint64_t',
    vst_uid: 'darwin_uid_t', vst_gid: 'darwin_gid_t',
    vst_atime: 'int64_t', vst_atimensec: 'int64_t', vst_mtime: 'int64_t', vst_mtimensec: 'int64_t',
    vst_ctime: 'int64_t', vst_ctimensec: 'int64_t', vst_birthtime: 'int64_t', vst_birthtimensec: 'int64_t',
    vst_size: 'darwin_off_t', vst_blocks: 'int64_t', vst_blksize: 'int32_t', vst_flags: 'uint32_t',
    vst_gen: 'uint32_t', vst_rdev: 'uint32_t', vst_qspare: k.array('int64_t', 2, 'Array'),
  });
  t.vnode_info = k.struct('vnode_info', {
    vi_stat: t.vinfo_stat, vi_type: 'int32_t', vi_pad: 'int32_t', vi_fsid: k.array('int32_t', 2, 'Array'),
  });
  t.vnode_info_path = k.struct('vnode_info_path', { vip_vi: t.vnode_info, vip_path: k.array('char', 1024, 'String') });
  t.vnode_fdinfowithpath = k.struct('vnode_fdinfowithpath', { pfi: t.proc_fileinfo, pvip: t.vnode_info_path });

  // in_addr unions: in4in6_addr (3 pad words then the IPv4 address) or in6_addr, 4-byte aligned.
  const in4in6 = k.struct('in4in6_addr', { i46a_pad32: k.array('uint32_t', 3, 'Array'), i46a_addr4: k.array('uint8_t', 4, 'Array') });
  const in6 = k.union('darwin_in6_addr', { s6_addr: k.array('uint8_t', 16, 'Array'), s6_addr32: k.array('uint32_t', 4, 'Array') });
  const inAddr = k.union('darwin_insi_addr', { ina_46: in4in6, ina_6: in6 });
  t.in_sockinfo = k.struct('in_sockinfo', {
    insi_fport: 'int32_t', insi_lport: 'int32_t', insi_gencnt: 'uint64_t', insi_flags: 'uint32_t', insi_flow: 'uint32_t',
    insi_vflag: 'uint8_t', insi_ip_ttl: 'uint8_t', rfu_1: 'uint32_t',
    insi_faddr: inAddr, insi_laddr: inAddr,
    insi_v4: k.struct({ in4_tos: 'uint8_t' }),
    insi_v6: k.struct({ in6_hlim: 'uint8_t', in6_cksum: 'int32_t', in6_ifindex: 'uint16_t', in6_hops: 'int16_t' }),
  });
  t.tcp_sockinfo = k.struct('tcp_sockinfo', {
    tcpsi_ini: t.in_sockinfo, tcpsi_state: 'int32_t', tcpsi_timer: k.array('int32_t', 4, 'Array'), tcpsi_mss: 'int32_t',
    tcpsi_flags: 'uint32_t', rfu_1: 'uint32_t', tcpsi_tp: 'uint64_t',
  });
  // sockaddr_un (sun_len, sun_family, sun_path[104]) in a union with char[SOCK_MAXADDRLEN = 255].
  const sockaddrUn = k.struct('darwin_sockaddr_un', { sun_len: 'uint8_t', sun_family: 'uint8_t', sun_path: k.array('char', 104, 'String') });
  const unAddr = k.union('darwin_unsi_addr', { ua_sun: sockaddrUn, ua_dummy: k.array('uint8_t', 255, 'Array') });
  t.un_sockinfo = k.struct('un_sockinfo', { unsi_conn_so: 'uint64_t', unsi_conn_pcb: 'uint64_t', unsi_addr: unAddr, unsi_caddr: unAddr });
  t.sockbuf_info = k.struct('sockbuf_info', {
    sbi_cc: 'uint32_t', sbi_hiwat: 'uint32_t', sbi_mbcnt: 'uint32_t', sbi_mbmax: 'uint32_t', sbi_lowat: 'uint32_t',
    sbi_flags: 'int16_t', sbi_timeo: 'int16_t',
  });
  // The other members (ndrv, kern_event, kern_ctl, vsock) are smaller than un_sockinfo.
  const proto = k.union('darwin_soi_proto', { pri_in: t.in_sockinfo, pri_tcp: t.tcp_sockinfo, pri_un: t.un_sockinfo });
  t.socket_info = k.struct('socket_info', {
    soi_stat: t.vinfo_stat, soi_so: 'uint64_t', soi_pcb: 'uint64_t', soi_type: 'int32_t', soi_protocol: 'int32_t', soi_family: 'int32_t',
    soi_options: 'int16_t', soi_linger: 'int16_t', soi_state: 'int16_t', soi_qlen: 'int16_t', soi_incqlen: 'int16_t',
    soi_qlimit: 'int16_t', soi_timeo: 'int16_t', soi_error: 'uint16_t', soi_oobmark: 'uint32_t',
    soi_rcv: t.sockbuf_info, soi_snd: t.sockbuf_info, soi_kind: 'int32_t', rfu_1: 'uint32_t', soi_proto: proto,
  });
  t.socket_fdinfo = k.struct('socket_fdinfo', { pfi: t.proc_fileinfo, psi: t.socket_info });
  t.pipe_info = k.struct('pipe_info', {
    pipe_stat: t.vinfo_stat, pipe_handle: 'uint64_t', pipe_peerhandle: 'uint64_t', pipe_status: 'int32_t', rfu_1: 'int32_t',
  });
  t.pipe_fdinfo = k.struct('pipe_fdinfo', { pfi: t.proc_fileinfo, pipeinfo: t.pipe_info });
  t.kqueue_info = k.struct('kqueue_info', { kq_stat: t.vinfo_stat, kq_state: 'uint32_t', rfu_1: 'uint32_t' });
  t.kqueue_fdinfo = k.struct('kqueue_fdinfo', { pfi: t.proc_fileinfo, kqueueinfo: t.kqueue_info });
  t.proc_bsdshortinfo = k.struct('proc_bsdshortinfo', {
    pbsi_pid: 'uint32_t', pbsi_ppid: 'uint32_t', pbsi_pgid: 'uint32_t', pbsi_status: 'uint32_t',
    pbsi_comm: k.array('char', 16, 'String'), pbsi_flags: 'uint32_t',
    pbsi_uid: 'darwin_uid_t', pbsi_gid: 'darwin_gid_t', pbsi_ruid: 'darwin_uid_t', pbsi_rgid: 'darwin_gid_t',
    pbsi_svuid: 'darwin_uid_t', pbsi_svgid: 'darwin_gid_t', pbsi_rfu: 'uint32_t',
  });
  for (const [name, size] of Object.entries(DOCUMENTED_SIZES)) {
    const got = k.sizeof(t[name]!);
    if (got !== size) throw new Error(`fdscan darwin types: sizeof(struct ${name}) is ${got}, <sys/proc_info.h> gives ${size}`);
  }
  declared = t;
  return t;
}

/** Offset of a nested member: offsetOf('socket_fdinfo', 'psi', 'socket_info', 'soi_kind'). */
export function offsetOf(...path: string[]): number {
  const k = koffi();
  const t = darwinTypes();
  let total = 0;
  for (let i = 0; i + 1 < path.length; i += 2) total += k.offsetof(t[path[i]!]!, path[i + 1]!);
  return total;
}
