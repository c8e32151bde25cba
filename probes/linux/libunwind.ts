/**
 * libunwind's remote unwinder over ptrace (Debian package libunwind8: libunwind-ptrace.so.0 and the
 * architecture's libunwind-<arch>.so.8) through koffi: native-stack.ts's fallback when libdw is
 * missing. Every type is explicit; handles are opaque pointers. Loaded on first use; a missing
 * library or an architecture without a known prefix is `undefined`, never an exception.
 *
 * Why two libraries: the unw_* names are macros for arch-prefixed symbols (_Ux86_64_step, ...)
 * defined in libunwind-<arch>.so.8, and Debian's libunwind-ptrace.so.0 uses them without naming
 * that library as NEEDED: it is loaded first, RTLD_GLOBAL, so _UPT_* resolve against it.
 *
 * FDSCAN_LIBUNWIND_PTRACE names another libunwind-ptrace (the tests name a missing one).
 */
import type * as Koffi from 'koffi';
import { koffi } from '../native-library.js';

/** The libunwind calls, bound. */
export interface Libunwind {
  /**
   * A new address space (unw_create_addr_space(&_UPT_accessors, 0)) with UNW_CACHE_GLOBAL: one per
   * process, as its cache of unwind tables is keyed by address only. Null when refused.
   */
  createAddressSpace(): unknown;
  destroyAddressSpace(as: unknown): void;
  /** Bytes of unw_cursor_t (libunwind-<arch>.h's UNW_TDEP_CURSOR_LEN words, with room to spare). */
  cursorBytes: number;
  /** UNW_REG_IP of this architecture. */
  ipRegister: number;
  uptCreate(tid: number): unknown;
  uptDestroy(upt: unknown): void;
  initRemote(cursor: Buffer, as: unknown, upt: unknown): number;
  step(cursor: Buffer): number;
  getReg(cursor: Buffer, register: number, value: number[]): number;
  /** 0 and the name in `name` (NUL-terminated), the offset into the function in `offset[0]`; <0 when unknown. */
  getProcName(cursor: Buffer, name: Buffer, offset: number[]): number;
}

/** libunwind's symbol prefix, UNW_REG_IP and UNW_TDEP_CURSOR_LEN by Node's arch (libunwind-<arch>.h, 1.6). */
const ARCHES: Partial<Record<string, { prefix: string; ip: number; cursorWords: number }>> = {
  x64: { prefix: 'x86_64', ip: 16, cursorWords: 127 },
  arm64: { prefix: 'aarch64', ip: 30, cursorWords: 512 }, // UNW_TDEP_IP is X30 there
};

let loaded: { name: string; api: Libunwind | undefined } | undefined;

/** The bound library, or undefined when it cannot be loaded. */
export function libunwind(): Libunwind | undefined {
  const name = process.env.FDSCAN_LIBUNWIND_PTRACE || 'libunwind-ptrace.so.0';
  if (loaded?.name !== name) loaded = { name, api: bind(name) };
  return loaded.api;
}

function bind(ptraceName: string): Libunwind | undefined {
  const arch = ARCHES[process.arch];
  if (!arch) return undefined;
  const k = koffi();
  let generic: Koffi.LibraryHandle;
  let upt: Koffi.LibraryHandle;
  try {
    generic = k.load(`libunwind-${arch.prefix}.so.8`, { global: true });
    upt = k.load(ptraceName);
  } catch {
    return undefined;
  }
  const u = (name: string, prototype: string): ((...args: unknown[]) => unknown) => generic.func(prototype.replace('NAME', `_U${arch.prefix}_${name}`));
  const createAddrSpace = u('create_addr_space', 'void *NAME(void *accessors, int byteorder)');
  const setCachingPolicy = u('set_caching_policy', 'int NAME(void *as, int policy)');
  const initRemote = u('init_remote', 'int NAME(_Inout_ uint8_t *cursor, void *as, void *arg)');
  const step = u('step', 'int NAME(_Inout_ uint8_t *cursor)');
  const getReg = u('get_reg', 'int NAME(_Inout_ uint8_t *cursor, int reg, _Out_ uint64_t *value)');
  const getProcName = u('get_proc_name', 'int NAME(_Inout_ uint8_t *cursor, _Out_ uint8_t *name, size_t length, _Out_ uint64_t *offset)');
  const uptCreate = upt.func('void *_UPT_create(int tid)');
  const uptDestroy = upt.func('void _UPT_destroy(void *upt)');
  const destroyAddrSpace = u('destroy_addr_space', 'void NAME(void *as)');
  const accessors = upt.symbol('_UPT_accessors');
  return {
    createAddressSpace: () => {
      const as = createAddrSpace(accessors, 0);
      // UNW_CACHE_GLOBAL: unwind tables found once are kept for the address space's life.
      if (as) setCachingPolicy(as, 1);
      return as;
    },
    destroyAddressSpace: (as) => { destroyAddrSpace(as); },
    cursorBytes: arch.cursorWords * 8 + 64, ipRegister: arch.ip,
    uptCreate: (tid) => uptCreate(tid),
    uptDestroy: (p) => { uptDestroy(p); },
    initRemote: (cursor, as, p) => initRemote(cursor, as, p) as number,
    step: (cursor) => step(cursor) as number,
    getReg: (cursor, register, value) => getReg(cursor, register, value) as number,
    getProcName: (cursor, name, offset) => getProcName(cursor, name, name.length, offset) as number,
  };
}
