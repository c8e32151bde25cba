/**
 * The native call stack of a thread in a ptrace stop, unwound and symbolized by a library made for
 * it (issue 21): elfutils' libdw first, libunwind-ptrace when libdw is missing, `no-unwinder` when
 * neither loads. Called from the thread that is the ptrace tracer, while the thread of interest is
 * stopped (a syscall-exit stop): neither library attaches, stops or resumes anything here.
 *
 * Why libdw first (both were tried on a `gcc -g -O0` program stopped at its openat exit, from the
 * tracer thread, Debian 12: libdw 0.188, libunwind 1.6.2):
 * - libdw gives file and line from DWARF (`dwfl_module_getsrc`), the mapped object of each frame
 *   (`dwfl_linux_proc_report` reads /proc/PID/maps once per Dwfl) and symbol names from the full
 *   symbol table, separate debuginfo included: glibc's `__libc_start_call_main` where libunwind,
 *   reading only the object's own symbols, said `__libc_init_first`. libunwind gives names only: no
 *   file:line, and the object has to be found in /proc/PID/maps by hand.
 * - `dwfl_linux_proc_attach(dwfl, pid, assume_ptrace_stopped=true)` reads registers with
 *   PTRACE_GETREGS and memory with PTRACE_PEEKDATA from the calling thread and never attaches or
 *   detaches: what a tracer thread needs. libunwind's `_UPT_create` does the same.
 * - Cost (bench/native-stack.ts, this 2-core machine, medians): a process's first stack 1.5 ms
 *   with libdw, 2.3 ms with libunwind for a small C program; 110-240 ms for Node (a 100 MB
 *   program whose symbol table is read, either way). Cached, the same stop read again: 80 us (C)
 *   and 190 us (Node, 41 frames) with libdw; 65 us and 6 ms with libunwind, whose steps search
 *   Node's unwind tables again.
 * - libunwind lost the static (non-PIE) program after its first frame; libdw did not.
 *
 * Cached per process (at most MAX_PROCESSES, least recently used dropped): the Dwfl (module list,
 * opened ELF files, unwind tables) or the libunwind address space, and each call site's symbol.
 * `forgetNativeStacks(pid)` drops a process (the tracer calls it on exec and exit); a frame in no
 * known module rebuilds the process's entry (a library loaded since, or a missed exec), once per
 * page of such code (JIT code stays in no module). C++ names are demangled (libstdcxx.ts).
 *
 * Why no file:line in libc, ld.so and libpthread frames: those lines are read from glibc's separate
 * debuginfo (libc6-dbg, when installed), whose line tables cost 80-200 ms to load per process, for
 * frames the display skips anyway.
 *
 * Descriptors: libdw 0.188 opens the ELF and debuginfo files it reads without O_CLOEXEC and keeps
 * them open in the Dwfl; every descriptor that appears during a call is made close-on-exec, so no
 * child fdscan starts inherits them (a descriptor that another thread opens meanwhile is one
 * fdscan made, and fdscan never means its own to be inherited).
 */
import { closeSync, openSync, readSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { koffi } from '../native-library.js';
import { fcntlInt } from './libc-process.js';
import { libdw, type Libdw } from './libdw.js';
import { demangle } from './libstdcxx.js';
import { libunwind, type Libunwind } from './libunwind.js';

/** One frame: `object` the mapped ELF file, `offset` the address in its own terms (minus the load bias). */
export interface StackFrame {
  function?: string;
  object: string;
  offset: number;
  file?: string;
  line?: number;
}

/**
 * Why there is no stack, in one word: `no-unwinder` neither libdw nor libunwind-ptrace loads;
 * `exited` the thread is gone; `unreadable` its registers or stack could not be read (not in a
 * ptrace stop of this thread, refused); `no-symbols` frames were found but none has a name.
 */
export type NativeStackReason = 'no-unwinder' | 'exited' | 'unreadable' | 'no-symbols';

export type NativeStack = { frames: StackFrame[] } | { reason: NativeStackReason };

/** The `object` of a frame in no mapped file (JIT code, a region unmapped since); its `offset` is then its address. */
export const UNKNOWN_OBJECT = '[unknown]';

/** Processes whose Dwfl or address space is kept (each holds its ELF files open). */
const MAX_PROCESSES = 8;
/** Deeper stacks are cut here (a corrupt stack can loop). */
const MAX_FRAMES = 256;
/** libunwind-ptrace states kept per process. */
const MAX_THREADS = 4;
const FD_CLOEXEC = 1;
const F_SETFD = 2;
const ET_EXEC = 2;

/** Frames of the C library and the dynamic loader: the wrappers `displayFrames` skips. */
const WRAPPER_OBJECT = /(^|\/)(libc\.so|libc-[0-9.]+\.so|libpthread[.-]|ld-linux|ld-musl-|libc\.musl-)[^/]*$/;

/** The unwinder that will be used: libdw, libunwind, or undefined when neither loads. */
export function nativeUnwinder(): 'libdw' | 'libunwind' | undefined {
  if (libdw()) return 'libdw';
  return libunwind() ? 'libunwind' : undefined;
}

/** The call stack of thread `tid` of process `pid`, innermost frame first; `tid` must be in a ptrace stop of the calling thread. */
export function readNativeStack(pid: number, tid: number): NativeStack {
  const dw = libdw();
  const unwind = dw ? undefined : libunwind();
  if (!dw && !unwind) return { reason: 'no-unwinder' };
  const before = openDescriptors();
  try {
    if (dw) dw.openDeleted = (path) => openDeleted(pid, path);
    const read = (fresh: boolean): StackFrame[] | undefined => (dw ? dwflStack(dw, pid, tid, fresh) : unwindStack(unwind!, pid, tid, fresh));
    calls += 1;
    let frames = read(false);
    // A frame in no known module: a library loaded since the module list was read (dlopen), or an
    // exec nobody reported. The list is read again, once per page of such code: JIT code (Node,
    // the JVM) stays in no module, and must not cost a new Dwfl on every stack.
    let entry = processes.get(pid);
    const unknown = unknownPages(frames);
    if (entry && entry.born !== calls && unknown.some((page) => !entry!.unmapped.has(page))) {
      frames = read(true);
      entry = processes.get(pid);
    }
    for (const page of unknownPages(frames)) entry?.unmapped.add(page);
    if (!frames || frames.length === 0) return { reason: threadExists(pid, tid) ? 'unreadable' : 'exited' };
    if (!frames.some((frame) => frame.function !== undefined)) return { reason: 'no-symbols' };
    return { frames };
  } finally {
    closeOnExecSince(before);
  }
}

/** Drop what is cached for `pid` (call it when the process execs or exits). */
export function forgetNativeStacks(pid: number): void {
  const entry = processes.get(pid);
  if (!entry) return;
  processes.delete(pid);
  entry.close();
}

/** Drop every cached process (the tracer is done). */
export function forgetAllNativeStacks(): void {
  for (const pid of [...processes.keys()]) forgetNativeStacks(pid);
}

/**
 * Frames for display: the C library's and the dynamic loader's frames (open64's wrapper, and
 * __libc_start_main below main) and the crt's `_start` left out, so the innermost frame of the
 * program's own code comes first; all of them when nothing else is left. `raw` keeps every frame.
 */
export function displayFrames(frames: readonly StackFrame[]): { frames: StackFrame[]; raw: StackFrame[] } {
  const own = frames.filter((frame) => !WRAPPER_OBJECT.test(frame.object) && !(frame.function === '_start' && frame.file === undefined));
  return { frames: own.length > 0 ? own : [...frames], raw: [...frames] };
}

interface CachedProcess {
  /** The readNativeStack call that made this entry. */
  born: number;
  /** Pages of code that were in no module when this entry's module list was read. */
  unmapped: Set<bigint>;
  /** /proc/PID/exe when cached: another program means an exec nobody reported. */
  exe: string | undefined;
  close(): void;
}

interface DwflProcess extends CachedProcess {
  dwfl: unknown;
  /** Per module (by pointer): its object name, load bias, and whether it is a libc/ld wrapper. */
  modules: Map<unknown, { object: string; bias: bigint; wrapper: boolean }>;
  /** Per looked-up address: function, file, line. */
  symbols: Map<bigint, Pick<StackFrame, 'function' | 'file' | 'line'>>;
}

interface UnwindProcess extends CachedProcess {
  as: unknown;
  maps: Mapping[];
  /**
   * libunwind-ptrace's state per thread, kept: it holds the ELF image it last searched for unwind
   * tables, which a new one reads again (176 ms per stack of Node, 0.2 ms kept).
   */
  threads: Map<number, unknown>;
  /** Per address: its function (null: libunwind found none). */
  symbols: Map<bigint, string | null>;
}

interface Mapping { start: bigint; end: bigint; object: string; base: bigint }

/** Numbers the readNativeStack calls (an entry made by the current call is not read again). */
let calls = 0;

/** Insertion order is recency: a hit is moved to the end, the first entry is the least recent. */
const processes = new Map<number, CachedProcess>();

function cached<T extends CachedProcess>(pid: number, fresh: boolean, make: () => T | undefined): T | undefined {
  const exe = readExe(pid);
  let entry = processes.get(pid) as T | undefined;
  if (entry && (fresh || entry.exe !== exe)) {
    forgetNativeStacks(pid);
    entry = undefined;
  }
  if (entry) {
    processes.delete(pid);
    processes.set(pid, entry);
    return entry;
  }
  entry = make();
  if (!entry) return undefined;
  entry.exe = exe;
  entry.born = calls;
  processes.set(pid, entry);
  for (const old of processes.keys()) {
    if (processes.size <= MAX_PROCESSES) break;
    forgetNativeStacks(old);
  }
  return entry;
}

// The frame callback is registered once per thread (koffi calls it synchronously, on this
// thread, from dwfl_getthread_frames); it fills `collected`.
let frameCallback: { api: Libdw; pointer: bigint } | undefined;
let collected: Array<{ pc: bigint; activation: boolean }> = [];

function dwflStack(dw: Libdw, pid: number, tid: number, fresh: boolean): StackFrame[] | undefined {
  const entry = cached<DwflProcess>(pid, fresh, () => {
    const dwfl = dw.begin(dw.callbacks);
    if (!dwfl) return undefined;
    if (dw.procReport(dwfl, pid) !== 0 || dw.reportEnd(dwfl) !== 0 || dw.procAttach(dwfl, pid, true) !== 0) {
      dw.end(dwfl);
      return undefined;
    }
    return { dwfl, exe: undefined, born: 0, unmapped: new Set(), modules: new Map(), symbols: new Map(), close: () => dw.end(dwfl) };
  });
  if (!entry) return undefined;
  if (frameCallback?.api !== dw) {
    const pc = [0];
    const activation = [false];
    const pointer = koffi().register((frame: unknown) => {
      if (!dw.framePc(frame, pc, activation)) return 1;
      collected.push({ pc: BigInt(pc[0]!), activation: activation[0]! });
      return collected.length >= MAX_FRAMES ? 1 : 0; // DWARF_CB_ABORT : DWARF_CB_OK
    }, koffi().pointer(dw.frameCallback));
    frameCallback = { api: dw, pointer };
  }
  collected = [];
  // -1 after some frames is the end of what could be unwound (often below _start): the frames stand.
  dw.getthreadFrames(entry.dwfl, tid, frameCallback.pointer);
  const pcs = collected;
  collected = [];
  return pcs.map(({ pc, activation }) => dwflFrame(dw, entry, pc, activation));
}

function dwflFrame(dw: Libdw, entry: DwflProcess, pc: bigint, activation: boolean): StackFrame {
  // A caller's pc is its return address: the call is the byte before (the next line, or function, otherwise).
  const lookup = activation ? pc : pc - 1n;
  const module = dw.addrModule(entry.dwfl, lookup);
  if (!module) return { object: UNKNOWN_OBJECT, offset: Number(pc) };
  let info = entry.modules.get(module);
  if (!info) {
    const start = [0];
    const object = dw.moduleInfo(module, start) ?? '[no name]';
    const bias = [0];
    const bias64 = dw.moduleGetelf(module, bias) ? BigInt(bias[0]!) : BigInt(start[0]!);
    info = { object, bias: bias64, wrapper: WRAPPER_OBJECT.test(object) };
    entry.modules.set(module, info);
  }
  let symbol = entry.symbols.get(lookup);
  if (!symbol) {
    symbol = {};
    const name = dw.moduleAddrname(module, lookup);
    if (name) symbol.function = demangle(name.replace(/@.*$/, '')); // foo@@GLIBC_2.34: the symbol version is not the name
    const line = info.wrapper ? null : dw.moduleGetsrc(module, lookup);
    if (line) {
      const number = [0];
      const file = dw.lineinfo(line, number);
      if (file) symbol.file = file;
      if (number[0]! > 0) symbol.line = number[0]!;
    }
    entry.symbols.set(lookup, symbol);
  }
  return { ...symbol, object: info.object, offset: Number(pc - info.bias) };
}

function unwindStack(unwind: Libunwind, pid: number, tid: number, fresh: boolean): StackFrame[] | undefined {
  const entry = cached<UnwindProcess>(pid, fresh, () => {
    const maps = readMaps(pid);
    const as = maps && unwind.createAddressSpace();
    if (!maps || !as) return undefined;
    const threads = new Map<number, unknown>();
    const close = (): void => {
      for (const upt of threads.values()) unwind.uptDestroy(upt);
      unwind.destroyAddressSpace(as);
    };
    return { as, maps, threads, symbols: new Map(), exe: undefined, born: 0, unmapped: new Set(), close };
  });
  if (!entry) return undefined;
  let upt = entry.threads.get(tid);
  if (!upt) {
    upt = unwind.uptCreate(tid);
    if (!upt) return undefined;
    // Each holds a mapped ELF image: a few threads per process, the oldest dropped.
    const [oldest] = entry.threads.keys();
    if (entry.threads.size >= MAX_THREADS && oldest !== undefined) {
      unwind.uptDestroy(entry.threads.get(oldest));
      entry.threads.delete(oldest);
    }
    entry.threads.set(tid, upt);
  }
  const cursor = Buffer.alloc(unwind.cursorBytes);
  if (unwind.initRemote(cursor, entry.as, upt) < 0) return undefined;
  const frames: StackFrame[] = [];
  const ip = [0];
  const offset = [0];
  const name = Buffer.alloc(512);
  do {
    if (unwind.getReg(cursor, unwind.ipRegister, ip) < 0) break;
    const pc = BigInt(ip[0]!);
    const lookup = frames.length === 0 ? pc : pc - 1n;
    const mapping = entry.maps.find((m) => lookup >= m.start && lookup < m.end);
    const frame: StackFrame = mapping ? { object: mapping.object, offset: Number(pc - mapping.base) } : { object: UNKNOWN_OBJECT, offset: Number(pc) };
    // libunwind-ptrace maps the object and scans its symbol table on every call (200 ms a stack of
    // Node): each return address is named once per process.
    let known = entry.symbols.get(pc);
    if (known === undefined) {
      known = unwind.getProcName(cursor, name, offset) === 0 ? demangle(name.toString('utf8', 0, name.indexOf(0))) : null;
      entry.symbols.set(pc, known);
    }
    if (known !== null) frame.function = known;
    frames.push(frame);
  } while (frames.length < MAX_FRAMES && unwind.step(cursor) > 0);
  return frames;
}

/**
 * File-backed mappings of /proc/PID/maps. Each object's base is the start of its mapping at file
 * offset 0 (a shared object, a PIE), or 0 for a fixed-address program (ET_EXEC): offsets are then
 * what `addr2line -e OBJECT` takes, as libdw's (address minus load bias).
 */
function readMaps(pid: number): Mapping[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return undefined;
  }
  const mappings: Mapping[] = [];
  const bases = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+ +(\/.*)$/.exec(line);
    if (!match) continue;
    const [, start, end, fileOffset, object] = match as unknown as [string, string, string, string, string];
    const startAddress = BigInt(`0x${start}`);
    if (BigInt(`0x${fileOffset}`) === 0n && !bases.has(object)) bases.set(object, fixedAddress(object) ? 0n : startAddress);
    mappings.push({ start: startAddress, end: BigInt(`0x${end}`), object, base: bases.get(object) ?? startAddress });
  }
  return mappings;
}

/** Whether `path` is an ELF program linked at a fixed address (e_type ET_EXEC, at byte 16). */
function fixedAddress(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(18);
    return readSync(fd, header, 0, 18, 0) === 18 && header.readUInt32BE(0) === 0x7f454c46 && header.readUInt16LE(16) === ET_EXEC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The 4 KiB pages of the frames in no module (their offset is their address). */
function unknownPages(frames: readonly StackFrame[] | undefined): bigint[] {
  return (frames ?? []).filter((frame) => frame.object === UNKNOWN_OBJECT).map((frame) => BigInt(frame.offset) >> 12n);
}

/**
 * The file of `path`, mapped by `pid` and deleted since (a program rebuilt, a library upgraded
 * under a running process): /proc/PID/map_files/START-END of its mapping at offset 0 (needs
 * CAP_SYS_ADMIN), else /proc/PID/exe when it is the program. Both open the deleted file itself.
 */
function openDeleted(pid: number, path: string): { fd: number; path: string } | undefined {
  const candidates: string[] = [];
  const deleted = `${path} (deleted)`;
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const match = /^([0-9a-f]+)-([0-9a-f]+) \S+ 0+ \S+ \d+ +(.*)$/.exec(line);
      if (match?.[3] === deleted) {
        candidates.push(`/proc/${pid}/map_files/${BigInt(`0x${match[1]}`).toString(16)}-${BigInt(`0x${match[2]}`).toString(16)}`);
        break;
      }
    }
  } catch {
    // the process is gone: nothing to open
  }
  if (readExe(pid) === deleted) candidates.push(`/proc/${pid}/exe`);
  for (const candidate of candidates) {
    try {
      return { fd: openSync(candidate, 'r'), path: candidate };
    } catch {
      // refused (map_files without CAP_SYS_ADMIN): the next one
    }
  }
  return undefined;
}

function readExe(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function threadExists(pid: number, tid: number): boolean {
  try {
    // A zombie keeps its /proc entry: a thread that has exited has no stack to read either.
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

function openDescriptors(): Set<string> {
  try {
    return new Set(readdirSync('/proc/self/fd'));
  } catch {
    return new Set();
  }
}

/** Make close-on-exec every descriptor opened since `before` was listed (libdw's ELF files). */
function closeOnExecSince(before: Set<string>): void {
  for (const fd of openDescriptors()) if (!before.has(fd)) fcntlInt(Number(fd), F_SETFD, FD_CLOEXEC);
}
