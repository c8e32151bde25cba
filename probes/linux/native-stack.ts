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
 * - Cost, measured on this 2-core machine (see the report of branch native-stacks): libdw 1-7 ms
 *   for a process's first stack (Dwfl, module list, ELF and CFI loading), 0.4-1 ms for the next
 *   ones; libunwind 2.3 ms first, 0.7-0.8 ms next. The same cost; libdw says more.
 *
 * Cached per process (at most MAX_PROCESSES, least recently used dropped): the Dwfl (module list,
 * opened ELF files, unwind tables) or the libunwind address space, and each call site's symbol.
 * `forgetNativeStacks(pid)` drops a process (the tracer calls it on exec and exit); a frame in no
 * known module rebuilds the process's entry once (a library loaded since, or a missed exec).
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
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { koffi } from '../native-library.js';
import { fcntlInt } from './libc-process.js';
import { libdw, type Libdw } from './libdw.js';
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

/** The `object` of a frame in no mapped file (JIT code, a region unmapped since). */
export const UNKNOWN_OBJECT = '[unknown]';

/** Processes whose Dwfl or address space is kept (each holds its ELF files open). */
const MAX_PROCESSES = 8;
/** Deeper stacks are cut here (a corrupt stack can loop). */
const MAX_FRAMES = 256;
const FD_CLOEXEC = 1;
const F_SETFD = 2;

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
    let frames = dw ? dwflStack(dw, pid, tid, false) : unwindStack(unwind!, pid, tid, false);
    // A frame in no known module: a library loaded since the module list was read (dlopen), or an exec.
    if (frames?.some((frame) => frame.object === UNKNOWN_OBJECT)) frames = dw ? dwflStack(dw, pid, tid, true) : unwindStack(unwind!, pid, tid, true);
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
}

interface Mapping { start: bigint; end: bigint; object: string; base: bigint }

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
    return { dwfl, exe: undefined, modules: new Map(), symbols: new Map(), close: () => dw.end(dwfl) };
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
    const object = dw.moduleInfo(module, start) ?? UNKNOWN_OBJECT;
    const bias = [0];
    const bias64 = dw.moduleGetelf(module, bias) ? BigInt(bias[0]!) : BigInt(start[0]!);
    info = { object, bias: bias64, wrapper: WRAPPER_OBJECT.test(object) };
    entry.modules.set(module, info);
  }
  let symbol = entry.symbols.get(lookup);
  if (!symbol) {
    symbol = {};
    const name = dw.moduleAddrname(module, lookup);
    if (name) symbol.function = name.replace(/@.*$/, ''); // foo@@GLIBC_2.34: the symbol version is not the name
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
    return { as, maps, exe: undefined, close: () => unwind.destroyAddressSpace(as) };
  });
  if (!entry) return undefined;
  const upt = unwind.uptCreate(tid);
  if (!upt) return undefined;
  try {
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
      if (unwind.getProcName(cursor, name, offset) === 0) frame.function = name.toString('utf8', 0, name.indexOf(0));
      frames.push(frame);
    } while (frames.length < MAX_FRAMES && unwind.step(cursor) > 0);
    return frames;
  } finally {
    unwind.uptDestroy(upt);
  }
}

/** File-backed mappings of /proc/PID/maps; each object's base is the start of its mapping at file offset 0. */
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
    if (BigInt(`0x${fileOffset}`) === 0n && !bases.has(object)) bases.set(object, startAddress);
    mappings.push({ start: startAddress, end: BigInt(`0x${end}`), object, base: bases.get(object) ?? startAddress });
  }
  return mappings;
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
