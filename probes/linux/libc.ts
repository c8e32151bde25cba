/**
 * The C library on Linux (glibc or musl) through koffi: the library handle, every C type alias and
 * struct fdscan passes to it (sizes and offsets asserted against the kernel's ABI when declared),
 * and errno. Bound lazily: importing a module of this folder loads nothing until a call is made,
 * and an audit that /proc and Node's fs can answer alone never loads koffi.
 *
 * The functions themselves are declared by concern, with every argument and return type explicit:
 * libc-files.ts (the /proc reader and sock_diag), libc-process.ts (spawning, waiting, ptrace,
 * signals, close-on-exec) and libc-terminal.ts (process groups and the terminal's foreground group).
 */
import type * as Koffi from 'koffi';
import { koffi, lazyLibrary } from '../native-library.js';

export { koffi };

/** Offsets of the fields fdscan reads from a struct, by name, checked against the ABI at declaration. */
export type Layout<K extends string> = { readonly size: number } & { readonly [F in K]: number };

let types: LinuxTypes | undefined;

interface LinuxTypes {
  statx: Layout<'stx_mask' | 'stx_mnt_id' | 'stx_nlink' | 'stx_mode' | 'stx_ino' | 'stx_rdev_major' | 'stx_rdev_minor' | 'stx_dev_major' | 'stx_dev_minor'>;
  nlmsghdr: Layout<'nlmsg_len' | 'nlmsg_type' | 'nlmsg_flags'>;
  unixDiagReq: Layout<'sdiag_family' | 'udiag_states' | 'udiag_show'>;
  unixDiagMsg: Layout<'udiag_ino'>;
  nlattr: Layout<'nla_len' | 'nla_type'>;
}

/** The struct layouts (declares them, and so loads koffi, on first use). */
export function linuxTypes(): LinuxTypes {
  return (types ??= declareTypes(koffi()));
}

function declareTypes(k: typeof Koffi): LinuxTypes {
  k.alias('pid_t', 'int32_t');
  k.alias('ssize_t', 'intptr_t');
  // posix_spawn_file_actions_t and posix_spawnattr_t are opaque to fdscan: passed as pointers to
  // buffers of SPAWN_STRUCT_BYTES (larger than glibc's 80 and 336 bytes).
  k.alias('spawn_actions_ptr', 'void *');
  k.alias('spawn_attr_ptr', 'void *');
  // include/uapi/linux/stat.h: the same layout on every architecture.
  const timestamp = k.struct('statx_timestamp', { tv_sec: 'int64_t', tv_nsec: 'uint32_t', __reserved: 'int32_t' });
  const statx = k.struct('statx', {
    stx_mask: 'uint32_t', stx_blksize: 'uint32_t', stx_attributes: 'uint64_t',
    stx_nlink: 'uint32_t', stx_uid: 'uint32_t', stx_gid: 'uint32_t', stx_mode: 'uint16_t', __spare0: 'uint16_t',
    stx_ino: 'uint64_t', stx_size: 'uint64_t', stx_blocks: 'uint64_t', stx_attributes_mask: 'uint64_t',
    stx_atime: timestamp, stx_btime: timestamp, stx_ctime: timestamp, stx_mtime: timestamp,
    stx_rdev_major: 'uint32_t', stx_rdev_minor: 'uint32_t', stx_dev_major: 'uint32_t', stx_dev_minor: 'uint32_t',
    stx_mnt_id: 'uint64_t', stx_dio_mem_align: 'uint32_t', stx_dio_offset_align: 'uint32_t', __spare3: 'uint64_t[12]',
  });
  // include/uapi/linux/netlink.h, sock_diag.h, unix_diag.h.
  const nlmsghdr = k.struct('nlmsghdr', {
    nlmsg_len: 'uint32_t', nlmsg_type: 'uint16_t', nlmsg_flags: 'uint16_t', nlmsg_seq: 'uint32_t', nlmsg_pid: 'uint32_t',
  });
  const unixDiagReq = k.struct('unix_diag_req', {
    sdiag_family: 'uint8_t', sdiag_protocol: 'uint8_t', pad: 'uint16_t', udiag_states: 'uint32_t',
    udiag_ino: 'uint32_t', udiag_show: 'uint32_t', udiag_cookie: 'uint32_t[2]',
  });
  const unixDiagMsg = k.struct('unix_diag_msg', {
    udiag_family: 'uint8_t', udiag_type: 'uint8_t', udiag_state: 'uint8_t', pad: 'uint8_t',
    udiag_ino: 'uint32_t', udiag_cookie: 'uint32_t[2]',
  });
  const nlattr = k.struct('nlattr', { nla_len: 'uint16_t', nla_type: 'uint16_t' });
  return {
    statx: layout(k, 'statx', statx, 256, { stx_mask: 0, stx_mnt_id: 144, stx_nlink: 16, stx_mode: 28, stx_ino: 32, stx_rdev_major: 128, stx_rdev_minor: 132, stx_dev_major: 136, stx_dev_minor: 140 }),
    nlmsghdr: layout(k, 'nlmsghdr', nlmsghdr, 16, { nlmsg_len: 0, nlmsg_type: 4, nlmsg_flags: 6 }),
    unixDiagReq: layout(k, 'unix_diag_req', unixDiagReq, 24, { sdiag_family: 0, udiag_states: 4, udiag_show: 12 }),
    unixDiagMsg: layout(k, 'unix_diag_msg', unixDiagMsg, 16, { udiag_ino: 4 }),
    nlattr: layout(k, 'nlattr', nlattr, 4, { nla_len: 0, nla_type: 2 }),
  };
}

/** The offsets koffi computed, asserted against the kernel's documented ones: a wrong declaration fails at load. */
function layout<K extends string>(k: typeof Koffi, name: string, type: Koffi.TypeObject, size: number, offsets: Record<K, number>): Layout<K> {
  if (k.sizeof(type) !== size) throw new Error(`fdscan linux types: struct ${name}: koffi says ${k.sizeof(type)} bytes, the ABI ${size}`);
  for (const [field, offset] of Object.entries<number>(offsets)) {
    const actual = k.offsetof(type, field);
    if (actual !== offset) throw new Error(`fdscan linux types: struct ${name}: ${field} at ${actual}, the ABI says ${offset}`);
  }
  return { size, ...offsets } as Layout<K>;
}

/** Binds a libc function by its C prototype (types declared first), once. */
export const libcFunction = lazyLibrary<number>((k) => k.load('libc.so.6'), () => { linuxTypes(); });

/** errno of the last failed call, read right after it. */
export function errno(): number {
  return koffi().errno();
}
