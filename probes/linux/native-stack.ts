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
 * fdscan made, and fdscan never means its own to be inherited). The cache holds at most a
 * sixteenth of fdscan's soft descriptor limit in such files (none under `ulimit -n 24`).
 *
 * A program or library deleted since it was mapped (rebuilt, upgraded; `PATH (deleted)` in
 * /proc/PID/maps) is read from /proc/PID/map_files or /proc/PID/exe, which open the deleted file:
 * libdw alone would read its image from memory, where there is no symbol table.
 *
 * libunwind (the fallback) names frames from each object's own symbol table only, gives no
 * file:line and cannot name the frames of a deleted object.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { koffi } from '../native-library.js';
import { close, openAt } from './libc-files.js';
import { fcntlInt } from './libc-process.js';
import { O_CLOEXEC } from './open-flags.js';
import { libdw, type Libdw } from './libdw.js';
import { demangle } from './libstdcxx.js';
import { libunwind, type Libunwind } from './libunwind.js';
import { linuxDescriptorLimits } from './limits.js';

/**
 * One frame: `object` the mapped ELF file, `offset` the address in its own terms (minus the load
 * bias). `objectBytes` and `fileBytes` (base64) are the exact bytes of a path that is not UTF-8,
 * as an audit row's `target` and `targetBytes`.
 */
export interface StackFrame {
  function?: string;
  object: string;
  objectBytes?: string;
  offset: number;
  file?: string;
  fileBytes?: string;
  line?: number;
  /** Not named yet (unwindNativeStack): what nameNativeStack needs; never in a named frame. */
  unnamed?: { activation: boolean; identity: string };
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
const F_DUPFD_CLOEXEC = 1030;
const ET_EXEC = 2;
const AT_FDCWD = -100;
const O_RDONLY = 0;

/** Frames of the C library and the dynamic loader: the wrappers `displayFrames` skips. */
const WRAPPER_OBJECT = /(^|\/)(libc\.so|libc-[0-9.]+\.so|libpthread[.-]|ld-linux|ld-musl-|libc\.musl-)[^/]*$/;

/** The unwinder that will be used: libdw, libunwind, or undefined when neither loads. */
export function nativeUnwinder(): 'libdw' | 'libunwind' | undefined {
  if (libdw()) return 'libdw';
  return libunwind() ? 'libunwind' : undefined;
}

/** The call stack of thread `tid` of process `pid`, innermost frame first, named; `tid` must be in a ptrace stop of the calling thread. */
export function readNativeStack(pid: number, tid: number): NativeStack {
  const unwound = unwindNativeStack(pid, tid);
  return 'frames' in unwound ? nameNativeStack(unwound.frames) : unwound;
}

/**
 * The call stack of a stopped thread, unwound only: each frame's object and offset, its name to
 * be found later by nameNativeStack (frames of a deleted or non-UTF-8 object are named now, from
 * the process). The cheap half of a stack: unwinding reads each object's CFI (.eh_frame), naming
 * reads its whole symbol table and DWARF line table (110-280 ms for cc1 or Node, each new process).
 */
export function unwindNativeStack(pid: number, tid: number): { frames: StackFrame[] } | { reason: Exclude<NativeStackReason, 'no-symbols'> } {
  const dw = libdw();
  const unwind = dw ? undefined : libunwind();
  if (!dw && !unwind) return { reason: 'no-unwinder' };
  // Why the listing only sometimes: libdw's kept files are made close-on-exec as they are opened
  // (libdw.ts); the listing catches any other (a new Dwfl, libunwind's images) and costs two
  // directory reads, once per stop of 2,000 in a make of 100 compiles.
  const opened = dw?.filesOpened;
  let before = dw && processes.has(pid) ? undefined : openDescriptors();
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
      // A new entry, whose new Dwfl opens the program outside libdw's callbacks: listed, and
      // after the old entry is closed, whose numbers the new files may take again.
      forgetNativeStacks(pid);
      before = openDescriptors();
      frames = read(true);
      entry = processes.get(pid);
    }
    for (const page of unknownPages(frames)) entry?.unmapped.add(page);
    if (!frames || frames.length === 0) return { reason: threadExists(pid, tid) ? 'unreadable' : 'exited' };
    return { frames };
  } finally {
    const entry = processes.get(pid);
    if (before) {
      const added = closeOnExecSince(before);
      if (entry) entry.descriptors += added;
    } else if (entry && dw) {
      entry.descriptors += dw.filesOpened - opened!;
    }
    keepWithinDescriptorBudget();
  }
}

/** Frames of unwindNativeStack named (function, file, line), or `no-symbols` when none has a name. */
export function nameNativeStack(frames: readonly StackFrame[]): NativeStack {
  const named = frames.map(nameFrame);
  // Under a low limit nothing stays open (one object was held for this stack alone).
  if (objects.size > objectsKept()) forgetNamedObjects();
  if (!named.some((frame) => frame.function !== undefined)) return { reason: 'no-symbols' };
  return { frames: named };
}

/**
 * Whether a stack of `pid` will open no descriptor that is not close-on-exec: libdw unwinds it
 * from a cached Dwfl, whose new files come only through libdw.ts's callbacks (made close-on-exec
 * there). The caller can then skip listing its own descriptors around the call.
 */
export function unwindsCached(pid: number): boolean {
  return libdw() !== undefined && processes.has(pid);
}

/** Whether anything is cached for `pid` (forgetNativeStacks then has something to close). */
export function nativeStackCached(pid: number): boolean {
  return processes.has(pid);
}

/** Drop what is cached for `pid` (call it when the process execs or exits). */
export function forgetNativeStacks(pid: number): void {
  const entry = processes.get(pid);
  if (!entry) return;
  processes.delete(pid);
  entry.close();
  // The last process gone (a watch ends): the object files opened to name its frames go too.
  if (processes.size === 0) forgetNamedObjects();
}

/** Drop every cached process (the tracer is done). */
export function forgetAllNativeStacks(): void {
  for (const pid of [...processes.keys()]) forgetNativeStacks(pid);
  forgetNamedObjects();
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
  /** Descriptors that appeared while this entry was read (libdw's open ELF files). */
  descriptors: number;
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
  modules: Map<unknown, { object: Text; bias: bigint; wrapper: boolean; identity: string | undefined }>;
  /** Per looked-up address: function, file, line. */
  symbols: Map<bigint, Pick<StackFrame, 'function' | 'file' | 'fileBytes' | 'line'>>;
}

interface UnwindProcess extends CachedProcess {
  as: unknown;
  maps: Mapping[];
  /** libunwind-ptrace's state per thread, kept: it holds the ELF image it last searched for unwind tables. */
  threads: Map<number, unknown>;
  /** Per address: its function (null: libunwind found none). */
  symbols: Map<bigint, string | null>;
}

interface Mapping { start: bigint; end: bigint; object: Text; base: bigint }

/** A name from the system: its text, and its bytes (base64) when they are not UTF-8. */
interface Text { text: string; bytes?: string }

function text(bytes: Buffer): Text {
  return isUtf8(bytes) ? { text: bytes.toString('utf8') } : { text: bytes.toString('utf8'), bytes: bytes.toString('base64') };
}

function objectOf(object: Text): Pick<StackFrame, 'object' | 'objectBytes'> {
  return object.bytes ? { object: object.text, objectBytes: object.bytes } : { object: object.text };
}

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
    return { dwfl, exe: undefined, born: 0, descriptors: 0, unmapped: new Set(), modules: new Map(), symbols: new Map(), close: () => dw.end(dwfl) };
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
    const object = text(dw.moduleInfo(module, start) ?? Buffer.from('[no name]'));
    const bias = [0];
    const bias64 = dw.moduleGetelf(module, bias) ? BigInt(bias[0]!) : BigInt(start[0]!);
    // Named later from the file on disk, when it is one that can be opened again by its name:
    // a deleted object ("PATH (deleted)", read through /proc/PID/map_files), the vDSO and a
    // non-UTF-8 path are named now, from the process.
    const identity = object.bytes || object.text.endsWith(' (deleted)') ? undefined : fileIdentity(object.text);
    info = { object, bias: bias64, wrapper: WRAPPER_OBJECT.test(object.text), identity };
    entry.modules.set(module, info);
  }
  const frame: StackFrame = { ...objectOf(info.object), offset: Number(pc - info.bias) };
  if (info.identity !== undefined) return { ...frame, unnamed: { activation, identity: info.identity } };
  let symbol = entry.symbols.get(lookup);
  if (!symbol) {
    symbol = symbolAt(dw, module, lookup, info.wrapper);
    entry.symbols.set(lookup, symbol);
  }
  return { ...symbol, ...frame };
}

/** Function (demangled), file and line of `address` in `module`; no file:line in the C library's and loader's frames (see the header). */
function symbolAt(dw: Libdw, module: unknown, address: bigint, wrapper: boolean): Pick<StackFrame, 'function' | 'file' | 'fileBytes' | 'line'> {
  const symbol: Pick<StackFrame, 'function' | 'file' | 'fileBytes' | 'line'> = {};
  const name = dw.moduleAddrname(module, address);
  if (name) symbol.function = demangle(name.replace(/@.*$/, '')); // foo@@GLIBC_2.34: the symbol version is not the name
  const line = wrapper ? null : dw.moduleGetsrc(module, address);
  if (line) {
    const number = [0];
    const file = dw.lineinfo(line, number);
    if (file) {
      const { text: name, bytes } = text(file);
      symbol.file = name;
      if (bytes) symbol.fileBytes = bytes;
    }
    if (number[0]! > 0) symbol.line = number[0]!;
  }
  return symbol;
}

/** What names a file's version: device, inode, change time and size (a file rebuilt in place changes them). */
function fileIdentity(path: string): string | undefined {
  try {
    const stat = statSync(path, { bigint: true });
    return stat.isFile() ? `${stat.dev}:${stat.ino}:${stat.ctimeNs}:${stat.size}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One object file opened for naming (an offline Dwfl of that file alone), shared by every process
 * that mapped it: cc1's symbol table is read once per make, not once per compile.
 */
interface ObjectSymbols { dwfl: unknown; module: unknown; bias: bigint; wrapper: boolean; symbols: Map<bigint, Pick<StackFrame, 'function' | 'file' | 'fileBytes' | 'line'>> }

/** Objects kept open for naming (each holds its ELF file, and its debuginfo when found); least recently used dropped. */
const MAX_OBJECTS = 16;
/** By identity (fileIdentity); null: the file could not be read as ELF. Insertion order is recency. */
const objects = new Map<string, ObjectSymbols | null>();

function objectSymbols(dw: Libdw, path: string, identity: string): ObjectSymbols | null {
  // Replaced since the stop (rebuilt, upgraded): its frames keep their object and offset, unnamed.
  // Checked on every use: a file rewritten in place keeps its inode, and libdw reads it lazily.
  const current = fileIdentity(path) === identity;
  let entry = objects.get(identity);
  if (entry !== undefined) {
    objects.delete(identity);
    if (!current) {
      if (entry) dw.end(entry.dwfl);
      return null;
    }
    objects.set(identity, entry);
    return entry;
  }
  entry = null;
  const fd = current ? openAt(AT_FDCWD, path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd >= 0) {
    const dwfl = dw.begin(dw.offlineCallbacks);
    if (!dwfl) {
      close(fd);
    } else {
      // libdw owns fd from here, and closes it with the Dwfl.
      const module = dw.reportOffline(dwfl, path, fd);
      const bias = [0];
      if (module && dw.reportEnd(dwfl) === 0 && dw.moduleGetelf(module, bias)) {
        entry = { dwfl, module, bias: BigInt(bias[0]!), wrapper: WRAPPER_OBJECT.test(path), symbols: new Map() };
      } else {
        dw.end(dwfl);
      }
    }
  }
  // Within a share of fdscan's descriptors, as the processes' cache (keepWithinDescriptorBudget).
  const max = objectsKept();
  for (const [old, kept] of objects) {
    if (objects.size < max) break;
    objects.delete(old);
    if (kept) dw.end(kept.dwfl);
  }
  objects.set(identity, entry);
  return entry;
}

/** Objects kept open for naming: MAX_OBJECTS, fewer under a low descriptor limit (none under `ulimit -n 48`). */
function objectsKept(): number {
  keepWithinDescriptorBudget();
  return Math.min(MAX_OBJECTS, Math.floor(descriptorBudget! / 4));
}

/** A frame of unwindNativeStack with its function, file and line (when its object has them). */
function nameFrame(frame: StackFrame): StackFrame {
  const { unnamed, ...rest } = frame;
  const dw = unnamed && libdw();
  if (!unnamed || !dw) return rest;
  const symbols = objectSymbols(dw, rest.object, unnamed.identity);
  if (!symbols) return rest;
  const address = BigInt(rest.offset) + symbols.bias;
  const lookup = unnamed.activation ? address : address - 1n;
  let symbol = symbols.symbols.get(lookup);
  if (!symbol) {
    symbol = symbolAt(dw, symbols.module, lookup, symbols.wrapper);
    symbols.symbols.set(lookup, symbol);
  }
  return { ...symbol, ...rest };
}

/** Close every object kept open for naming. */
export function forgetNamedObjects(): void {
  const dw = libdw();
  for (const entry of objects.values()) if (entry && dw) dw.end(entry.dwfl);
  objects.clear();
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
    return { as, maps, threads, symbols: new Map(), exe: undefined, born: 0, descriptors: 0, unmapped: new Set(), close };
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
    const frame: StackFrame = mapping ? { ...objectOf(mapping.object), offset: Number(pc - mapping.base) } : { object: UNKNOWN_OBJECT, offset: Number(pc) };
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
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return undefined;
  }
  const mappings: Mapping[] = [];
  const bases = new Map<string, bigint>();
  for (const line of maps.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+ +(\/.*)$/.exec(line);
    if (!match) continue;
    const [, start, end, fileOffset, object] = match as unknown as [string, string, string, string, string];
    const startAddress = BigInt(`0x${start}`);
    if (BigInt(`0x${fileOffset}`) === 0n && !bases.has(object)) bases.set(object, fixedAddress(Buffer.from(object, 'latin1')) ? 0n : startAddress);
    // maps is read as latin1, one byte a character: the path's own bytes again.
    mappings.push({ start: startAddress, end: BigInt(`0x${end}`), object: text(Buffer.from(object, 'latin1')), base: bases.get(object) ?? startAddress });
  }
  return mappings;
}

/** Whether `path` is an ELF program linked at a fixed address (e_type ET_EXEC, at byte 16). */
function fixedAddress(path: Buffer): boolean {
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
    // libc's open, not Node's: libdw closes it, and a worker thread's Node would close it again at exit.
    const fd = openAt(AT_FDCWD, candidate, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return { fd, path: candidate };
    // refused (map_files without CAP_SYS_ADMIN): the next one
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

/**
 * fdscan's open descriptors. The listing names its own directory descriptor, closed by now: its
 * number is the lowest free one (what F_DUPFD_CLOEXEC from 0 returns, then closed again), left out
 * so that libdw's next file, which gets that number, is seen as new.
 */
function openDescriptors(): Set<string> {
  let listed: string[];
  try {
    listed = readdirSync('/proc/self/fd');
  } catch {
    return new Set();
  }
  const open = new Set(listed);
  for (const fd of listed) {
    const free = fcntlInt(Number(fd), F_DUPFD_CLOEXEC, 0);
    if (free < 0) continue; // the listing's own, closed: another one duplicates
    close(free); // libc's: Node's closeSync warns, in a worker, of a descriptor it did not open
    open.delete(String(free));
    break;
  }
  return open;
}

/** Make close-on-exec every descriptor opened since `before` was listed (libdw's ELF files); returns how many. */
function closeOnExecSince(before: Set<string>): number {
  let opened = 0;
  for (const fd of openDescriptors()) {
    if (before.has(fd)) continue;
    // The listing's own descriptor is closed by now: EBADF, not counted.
    if (fcntlInt(Number(fd), F_SETFD, FD_CLOEXEC) === 0) opened += 1;
  }
  return opened;
}

let descriptorBudget: number | undefined;

/**
 * Drop the least recently used processes while their cached entries hold more descriptors than
 * a sixteenth of fdscan's soft limit (64 of 1,024; none under `ulimit -n 24`, where every stack
 * is then read afresh): the descriptors fdscan needs for its own work come first.
 */
function keepWithinDescriptorBudget(): void {
  if (descriptorBudget === undefined) {
    let soft: number | null = 1024;
    try {
      soft = linuxDescriptorLimits(process.pid).soft;
    } catch {
      // unreadable: the common default
    }
    descriptorBudget = soft === null ? 256 : Math.min(256, Math.floor(soft / 16));
  }
  let held = 0;
  for (const entry of processes.values()) held += entry.descriptors;
  for (const [pid, entry] of processes) {
    if (held <= descriptorBudget) break;
    held -= entry.descriptors;
    forgetNativeStacks(pid);
  }
}
