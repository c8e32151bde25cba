/**
 * elfutils' libdw (libdwfl, Debian package libdw1, soname libdw.so.1) through koffi: the calls
 * native-stack.ts makes to unwind a ptrace-stopped thread and symbolize its frames. Every type is
 * explicit; handles are opaque pointers. Loaded on first use; a missing library is `undefined`,
 * never an exception (importing this module on another OS, or without libdw, loads nothing).
 *
 * FDSCAN_LIBDW names another .so (the tests name a missing one to see `no-unwinder`).
 */
import type * as Koffi from 'koffi';
import { koffi } from '../native-library.js';
import { libcFunction } from './libc.js';

/** The libdw calls, bound; pointers are koffi's (opaque to the caller). */
export interface Libdw {
  /** A Dwfl_Callbacks for a live process: dwfl_linux_proc_find_elf (through `openDeleted`), dwfl_standard_find_debuginfo. */
  callbacks: unknown;
  /**
   * Opens the file of a module whose mapping says `PATH (deleted)` (a program or library replaced
   * on disk since it was mapped): a descriptor libdw then owns, and a name for it. Unset or
   * undefined: libdw reads the image from the process's memory, which has no symbol table.
   */
  openDeleted?: (module: string) => { fd: number; path: string } | undefined;
  /**
   * Files libdw opened through its find_elf and find_debuginfo callbacks (each made close-on-exec
   * there): a caller that sees this unchanged across a call knows no ELF file was opened by it.
   */
  filesOpened: number;
  /** Dwfl_Callbacks for one file on disk (dwfl_report_offline): build-id find_elf, the standard find_debuginfo. */
  offlineCallbacks: unknown;
  /** Report the ELF file open as `fd` (libdw owns it from here) as the one module of an offline Dwfl. */
  reportOffline(dwfl: unknown, name: string, fd: number): unknown;
  begin(callbacks: unknown): unknown;
  procReport(dwfl: unknown, pid: number): number;
  reportEnd(dwfl: unknown): number;
  procAttach(dwfl: unknown, pid: number, assumePtraceStopped: boolean): number;
  getthreadFrames(dwfl: unknown, tid: number, callback: bigint): number;
  /** The frame callback's type (int (*)(Dwfl_Frame *, void *)), for koffi.register. */
  frameCallback: Koffi.TypeObject;
  framePc(frame: unknown, pc: number[], isActivation: boolean[]): boolean;
  addrModule(dwfl: unknown, address: bigint): unknown;
  /** The module's name (for a process: the mapped file's path, its bytes) and its lowest address in `start[0]`. */
  moduleInfo(module: unknown, start: number[]): Buffer | null;
  /** The module's ELF and its load bias in `bias[0]` (null when its file cannot be read). */
  moduleGetelf(module: unknown, bias: number[]): unknown;
  moduleAddrname(module: unknown, address: bigint): string | null;
  moduleGetsrc(module: unknown, address: bigint): unknown;
  /** File name of a line record (its bytes); its line number in `line[0]`. */
  lineinfo(line: unknown, lineNumber: number[]): Buffer | null;
  errmsg(): string | null;
  end(dwfl: unknown): void;
}

let loaded: { name: string; api: Libdw | undefined } | undefined;

/** The bound library, or undefined when it cannot be loaded (the name from FDSCAN_LIBDW, else libdw.so.1). */
export function libdw(): Libdw | undefined {
  const name = process.env.FDSCAN_LIBDW || 'libdw.so.1';
  if (loaded?.name !== name) loaded = { name, api: bind(name) };
  return loaded.api;
}

let declared: { frameCallback: Koffi.TypeObject; findElfCallback: Koffi.TypeObject; findDebuginfoCallback: Koffi.TypeObject; callbacksType: Koffi.TypeObject } | undefined;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

function declareTypes(k: typeof Koffi): NonNullable<typeof declared> {
  if (declared) return declared;
  // Dwfl, Dwfl_Module, Dwfl_Frame, Dwfl_Line are opaque to the caller.
  for (const name of ['Dwfl', 'Dwfl_Module', 'Dwfl_Frame', 'Dwfl_Line']) k.opaque(name);
  return (declared = {
    frameCallback: k.proto('int dwfl_thread_frame_cb(Dwfl_Frame *state, void *arg)'),
    // libdwfl.h's Dwfl_Callbacks.find_elf; the pointers are passed through untouched.
    findElfCallback: k.proto('int dwfl_find_elf_cb(Dwfl_Module *mod, void *userdata, void *name, uint64_t base, void *file_name, void *elfp)'),
    findDebuginfoCallback: k.proto('int dwfl_find_debuginfo_cb(Dwfl_Module *mod, void *userdata, void *modname, uint64_t base, void *file_name, void *debuglink_file, uint32_t debuglink_crc, void *debuginfo_file_name)'),
    // libdwfl.h: find_elf, find_debuginfo, section_address (functions), debuginfo_path (char **).
    callbacksType: k.struct('Dwfl_Callbacks', { find_elf: 'void *', find_debuginfo: 'void *', section_address: 'void *', debuginfo_path: 'void *' }),
  });
}

function bind(name: string): Libdw | undefined {
  let library: Koffi.LibraryHandle;
  const k = koffi();
  try {
    library = k.load(name);
  } catch {
    return undefined;
  }
  const { frameCallback, findElfCallback, findDebuginfoCallback, callbacksType } = declareTypes(k);
  const f = (prototype: string): ((...args: unknown[]) => unknown) => library.func(prototype);
  // find_elf is dwfl_linux_proc_find_elf, except for a module whose file was deleted (its name
  // ends in " (deleted)"): that one is opened by `openDeleted`. The module name is passed on as
  // the pointer libdw gave (its bytes, whatever their encoding).
  const procFindElf = f('int dwfl_linux_proc_find_elf(Dwfl_Module *mod, void *userdata, void *name, uint64_t base, void *file_name, void *elfp)');
  const strlen = libcFunction('size_t strlen(const void *text)') as unknown as (text: unknown) => number;
  const cBytes = (text: unknown): Buffer | null => (text ? Buffer.from(k.view(text, strlen(text))) : null);
  const strdup = libcFunction('void *strdup(const char *text)') as unknown as (text: string) => unknown;
  const fcntl = libcFunction('int fcntl(int fd, int cmd, int arg)') as unknown as (fd: number, cmd: number, arg: number) => number;
  // Why here: libdw 0.188 opens ELF and debuginfo files without O_CLOEXEC and keeps them; the
  // descriptor each callback returns is the one libdw keeps.
  const kept = (fd: number): number => {
    if (fd >= 0) {
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      api.filesOpened++;
    }
    return fd;
  };
  const findElf = k.register((module: unknown, userdata: unknown, name: unknown, base: number, fileName: unknown, elf: unknown) => {
    const text = k.decode.string(name);
    const opened = text.endsWith(' (deleted)') ? api.openDeleted?.(text.slice(0, -' (deleted)'.length)) : undefined;
    if (!opened) return kept(procFindElf(module, userdata, name, base, fileName, elf) as number);
    k.encode(fileName, 'void *', strdup(opened.path)); // libdw frees it
    return kept(opened.fd);
  }, k.pointer(findElfCallback));
  const standardFindDebuginfo = f('int dwfl_standard_find_debuginfo(Dwfl_Module *mod, void *userdata, void *modname, uint64_t base, void *file_name, void *debuglink_file, uint32_t debuglink_crc, void *debuginfo_file_name)');
  const findDebuginfo = k.register((module: unknown, userdata: unknown, name: unknown, base: number, fileName: unknown, debuglink: unknown, crc: number, debugName: unknown) =>
    kept(standardFindDebuginfo(module, userdata, name, base, fileName, debuglink, crc, debugName) as number), k.pointer(findDebuginfoCallback));
  const buildIdFindElf = f('int dwfl_build_id_find_elf(Dwfl_Module *mod, void *userdata, void *name, uint64_t base, void *file_name, void *elfp)');
  const offlineFindElf = k.register((module: unknown, userdata: unknown, name: unknown, base: number, fileName: unknown, elf: unknown) =>
    kept(buildIdFindElf(module, userdata, name, base, fileName, elf) as number), k.pointer(findElfCallback));
  const offlineCallbacks = k.alloc(callbacksType, 1);
  k.encode(offlineCallbacks, callbacksType, {
    find_elf: offlineFindElf, find_debuginfo: findDebuginfo,
    section_address: library.symbol('dwfl_offline_section_address'), debuginfo_path: null,
  });
  // Dwfl keeps a pointer to its callbacks for its whole life: they live in memory koffi
  // allocated, never freed (one per loaded library), not in a Buffer the GC could move or free.
  const callbacks = k.alloc(callbacksType, 1);
  k.encode(callbacks, callbacksType, {
    find_elf: findElf, find_debuginfo: findDebuginfo,
    section_address: null, debuginfo_path: null,
  });
  const begin = f('Dwfl *dwfl_begin(void *callbacks)');
  const procReport = f('int dwfl_linux_proc_report(Dwfl *dwfl, int pid)');
  const reportEnd = f('int dwfl_report_end(Dwfl *dwfl, void *removed, void *arg)');
  const procAttach = f('int dwfl_linux_proc_attach(Dwfl *dwfl, int pid, bool assume_ptrace_stopped)');
  const getthreadFrames = f('int dwfl_getthread_frames(Dwfl *dwfl, int tid, dwfl_thread_frame_cb *callback, void *arg)');
  const framePc = f('bool dwfl_frame_pc(Dwfl_Frame *state, _Out_ uint64_t *pc, _Out_ bool *isactivation)');
  const addrModule = f('Dwfl_Module *dwfl_addrmodule(Dwfl *dwfl, uint64_t address)');
  // Paths are returned as pointers and copied as bytes: a name need not be UTF-8.
  const moduleInfo = f('void *dwfl_module_info(Dwfl_Module *mod, void *userdata, _Out_ uint64_t *start, void *end, void *dwbias, void *symbias, void *mainfile, void *debugfile)');
  const moduleGetelf = f('void *dwfl_module_getelf(Dwfl_Module *mod, _Out_ uint64_t *bias)');
  const moduleAddrname = f('const char *dwfl_module_addrname(Dwfl_Module *mod, uint64_t address)');
  const moduleGetsrc = f('Dwfl_Line *dwfl_module_getsrc(Dwfl_Module *mod, uint64_t address)');
  const lineinfo = f('void *dwfl_lineinfo(Dwfl_Line *line, void *addr, _Out_ int *linep, void *colp, void *mtime, void *length)');
  const errmsg = f('const char *dwfl_errmsg(int error)');
  const end = f('void dwfl_end(Dwfl *dwfl)');
  const reportOffline = f('Dwfl_Module *dwfl_report_offline(Dwfl *dwfl, const char *name, const char *file_name, int fd)');
  const api: Libdw = {
    callbacks, frameCallback, offlineCallbacks, filesOpened: 0,
    reportOffline: (d, name, fd) => reportOffline(d, name, name, fd),
    begin: (c) => begin(c),
    procReport: (d, pid) => procReport(d, pid) as number,
    reportEnd: (d) => reportEnd(d, null, null) as number,
    procAttach: (d, pid, assume) => procAttach(d, pid, assume) as number,
    getthreadFrames: (d, tid, callback) => getthreadFrames(d, tid, callback, null) as number,
    framePc: (s, pc, act) => framePc(s, pc, act) as boolean,
    addrModule: (d, a) => addrModule(d, a),
    moduleInfo: (m, start) => cBytes(moduleInfo(m, null, start, null, null, null, null, null)),
    moduleGetelf: (m, bias) => moduleGetelf(m, bias),
    moduleAddrname: (m, a) => moduleAddrname(m, a) as string | null,
    moduleGetsrc: (m, a) => moduleGetsrc(m, a),
    lineinfo: (l, n) => cBytes(lineinfo(l, null, n, null, null, null)),
    errmsg: () => errmsg(-1) as string | null,
    end: (d) => { end(d); },
  };
  return api;
}
