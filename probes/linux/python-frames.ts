/**
 * The Python frames of a stopped thread of a CPython process, read from its memory as py-spy and
 * austin do: `_PyRuntime` (an ELF symbol of the python binary or libpython, plus the load bias from
 * /proc/PID/maps) -> interpreters -> the thread state whose native_thread_id is the thread ->
 * its current frame chain -> each frame's code object (qualified name, file, first line, line
 * table) and instruction pointer.
 *
 * Calls: readlink/stat of /proc/PID/exe, read of /proc/PID/maps, open/read of the interpreter's
 * ELF file (/proc/PID/root/PATH, else /proc/PID/map_files/..), pread of /proc/PID/mem. Privileges:
 * ptrace access to the process (PTRACE_MODE_ATTACH: its tracer, or root). The caller must have the
 * thread stopped (a ptrace stop): the frame chain of a running thread changes under the read.
 * Other threads may still run, so every pointer is checked (object types, cycles) and every walk
 * and string is bounded, and so is the whole: a corrupt or hostile process costs at most
 * READ_BUDGET bytes and a few thousand reads per call.
 *
 * Versions: 3.11 and 3.12 by offsets checked against their headers (`ptype /o` of pyenv's
 * libpython with DWARF); 3.13 by the `_Py_DebugOffsets` CPython publishes at the start of
 * `_PyRuntime` for exactly this. Others: reason `python-version`.
 *
 * Caching: per pid, what the process is (Python or not, its layout, an open /proc/PID/mem), where
 * each thread's state is, and the code objects already read (each checked against the object's
 * header at every use). An exec or exit makes the pid's entry wrong: the caller forgets the pid
 * there (forgetPythonProcess; the tracer sees both). Nothing is re-checked on the way, on purpose,
 * as it would cost more than the cached answer; a Python entry whose /proc/PID/mem reads nothing
 * (the memory it was opened on is gone) is looked at again once.
 */
import { closeSync, openSync, readSync, readlinkSync, readFileSync, statSync } from 'node:fs';
import { errnoOf } from '../../src/probe-kit/index.js';
import { readElfSymbols, type ElfSymbols } from './elf-symbols.js';

/** One Python frame, innermost first in a stack; `offset` is the bytecode offset in the code object. */
export interface PythonFrame {
  function: string;
  file: string;
  line: number;
  /** Always 'python': the frame is of the interpreted program, not of a native object. */
  object: string;
  offset: number;
}

/**
 * The frames of a thread, innermost first, or one word saying why there are none: `not-python`,
 * `python-version` (a CPython this module cannot read), `no-symbols` (no `_PyRuntime` to start from),
 * `unreadable` (ptrace access refused, or the process gone), `no-thread-state` (the thread runs no
 * Python: a native thread, or one before or after its Python part), `corrupt` (structures that do
 * not hold together), `too-large` (more to read than READ_BUDGET). `incomplete`: the chain broke
 * after some frames (the same words).
 */
export type PythonFramesResult = { frames: PythonFrame[]; incomplete?: string } | { reason: string };

/** At most this many frames (CPython's default recursion limit is 1000; the innermost matter). */
export const MAX_FRAMES = 256;
/** Names and file names longer than this are cut (and end with '…'). */
const MAX_STRING_CHARS = 4096;
/** A line table bigger than this (a function of ~100,000 lines) is not read: the line is 0. */
const MAX_LINETABLE_BYTES = 1024 * 1024;
const MAX_INTERPRETERS = 64;
const MAX_THREADS = 10_000;
/**
 * Bytes one readPythonFrames() may read from the process: 256 frames of real code take well under
 * 1 MiB (line tables are read once per code object and remembered); a process whose own structures
 * ask for more (huge line tables made on purpose) gets `too-large` instead of costing fdscan more.
 */
const READ_BUDGET = 16 * 1024 * 1024;
/** Thread states remembered per process. */
const MAX_THREAD_STATES = 4096;
/** Code objects remembered per process (each a few hundred bytes); the cache restarts when full. */
const MAX_CODES = 8192;
/** Processes remembered; the oldest is dropped beyond this. */
const MAX_PROCESSES = 1024;
/**
 * /proc/PID/mem descriptors kept open (one per Python process remembered): few, as fdscan may run
 * under `ulimit -n 24`. Beyond this the oldest Python process is forgotten, and looked at again
 * (its ELF symbols still known) if it stops again.
 */
const MAX_OPEN_MEMORY = 8;

/** Where CPython keeps what this module reads, for one version. Byte offsets. */
interface Layout {
  runtimeInterpretersHead: number;
  interpNext: number;
  interpThreadsHead: number;
  tstateNext: number;
  tstateNativeThreadId: number;
  /** 3.11, 3.12: tstate->cframe->current_frame; 3.13: tstate->current_frame. */
  tstateCframe?: number;
  cframeCurrentFrame: number;
  tstateCurrentFrame: number;
  tstateSize: number;
  frameCode: number;
  framePrevious: number;
  frameInstr: number;
  frameSize: number;
  /** 3.12+: frames owned by the C stack (FRAME_OWNED_BY_CSTACK, the "<interpreter trampoline>" shim) are links, not Python code. */
  frameOwner?: number;
  ownerCstack?: number;
  obType: number;
  codeFilename: number;
  codeName: number;
  codeQualname: number;
  codeLinetable: number;
  codeFirstlineno: number;
  codeAdaptive: number;
  unicodeLength: number;
  unicodeState: number;
  unicodeAsciiSize: number;
  unicodeCompactSize: number;
  bytesSize: number;
  bytesData: number;
}

// Include/internal/pycore_runtime.h (pyruntimestate.interpreters.head), pycore_interp.h
// (_is.next, threads.head), cpython/pystate.h (_ts), pycore_frame.h (_PyInterpreterFrame),
// cpython/code.h (PyCodeObject), cpython/unicodeobject.h, cpython/bytesobject.h; x86_64/arm64.
const LAYOUT_3_11: Layout = {
  runtimeInterpretersHead: 40, interpNext: 0, interpThreadsHead: 16,
  tstateNext: 8, tstateNativeThreadId: 160, tstateCframe: 56, cframeCurrentFrame: 8, tstateCurrentFrame: 0, tstateSize: 168,
  frameCode: 32, framePrevious: 48, frameInstr: 56, frameSize: 64,
  obType: 8, codeFilename: 112, codeName: 120, codeQualname: 128, codeLinetable: 136, codeFirstlineno: 72, codeAdaptive: 184,
  unicodeLength: 16, unicodeState: 32, unicodeAsciiSize: 48, unicodeCompactSize: 72, bytesSize: 16, bytesData: 32,
};
const LAYOUT_3_12: Layout = {
  runtimeInterpretersHead: 40, interpNext: 0, interpThreadsHead: 72,
  tstateNext: 8, tstateNativeThreadId: 144, tstateCframe: 56, cframeCurrentFrame: 0, tstateCurrentFrame: 0, tstateSize: 152,
  frameCode: 0, framePrevious: 8, frameInstr: 56, frameSize: 72, frameOwner: 70, ownerCstack: 3,
  obType: 8, codeFilename: 112, codeName: 120, codeQualname: 128, codeLinetable: 136, codeFirstlineno: 68, codeAdaptive: 192,
  unicodeLength: 16, unicodeState: 32, unicodeAsciiSize: 40, unicodeCompactSize: 56, bytesSize: 16, bytesData: 32,
};

/** The ELF symbols read from the interpreter. */
const SYMBOLS = ['_PyRuntime', 'Py_Version', 'PyCode_Type', 'PyUnicode_Type', 'PyBytes_Type'] as const;
/**
 * What an executable that runs Python through libpython imports (python's own main, an embedding
 * program's start): while the dynamic loader has not mapped libpython yet, such a process is not
 * Python *yet*, and that answer is not remembered.
 */
const STARTS_PYTHON = ['Py_BytesMain', 'Py_Main', 'Py_Initialize', 'Py_InitializeEx', 'Py_InitializeFromConfig'] as const;

interface CodeInfo {
  /** The code object's header fields this entry was made from: a different one means another object at the address. */
  key: string;
  function: string;
  file: string;
  firstLine: number;
  lineTable: Buffer | undefined;
}

interface PythonProcess {
  kind: 'python';
  exe: string;
  mem: number;
  layout: Layout;
  runtime: number;
  codeType: number;
  unicodeType: number;
  bytesType: number;
  /** The ELF file that holds _PyRuntime (the python binary or libpython). */
  interpreter: string;
  version: string;
  codes: Map<number, CodeInfo>;
  /** Thread id -> its thread state's address, checked at each use (the state names the thread). */
  threads: Map<number, number>;
}
/** `notYet`: an executable that will load libpython, seen before it did: looked at again next time. */
type ProcessEntry = PythonProcess | { kind: 'other'; exe: string; reason: string; notYet?: boolean };

const processes = new Map<number, ProcessEntry>();
/** ELF answers by file identity: 1,000 python processes read the interpreter's symbols once. */
const elfFiles = new Map<string, ElfSymbols | undefined>();

/** Thrown inside a walk: the read failed (`unreadable`) or met something impossible (`corrupt`). */
class WalkFailed extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Whether `pid` runs CPython (its executable or a mapped libpython defines `_PyRuntime`); cached per pid. */
export function isPython(pid: number): boolean {
  return processOf(pid).kind === 'python';
}

/** The CPython of `pid`: its version and the ELF file holding the interpreter; undefined when not Python. */
export function pythonInfo(pid: number): { version: string; interpreter: string } | undefined {
  const entry = processOf(pid);
  return entry.kind === 'python' ? { version: entry.version, interpreter: entry.interpreter } : undefined;
}

/** Drop what is known of `pid` (call at its exec and its exit): closes its /proc/PID/mem. */
export function forgetPythonProcess(pid: number): void {
  const entry = processes.get(pid);
  if (entry?.kind === 'python') closeSync(entry.mem);
  processes.delete(pid);
}

/** The Python frames of thread `tid` of process `pid`, innermost first; the thread must be stopped. */
export function readPythonFrames(pid: number, tid: number): PythonFramesResult {
  budget = READ_BUDGET;
  for (let attempt = 0; ; attempt++) {
    const entry = processOf(pid);
    if (entry.kind !== 'python') return { reason: entry.reason };
    try {
      return walk(entry, tid);
    } catch (error) {
      if (!(error instanceof WalkFailed)) throw error;
      // Nothing read at all: the memory we opened is gone (an exec or exit since): look again, once.
      if (error.reason === 'gone' && attempt === 0) {
        forgetPythonProcess(pid);
        continue;
      }
      return { reason: error.reason === 'gone' ? 'unreadable' : error.reason };
    }
  }
}

/**
 * What `pid` is, looked at once. No exec check on the way (a readlink of /proc/PID/exe would cost
 * more than a cached answer): the tracer knows every exec and forgets the pid there; a Python
 * entry whose memory reads nothing after all (exec'd or gone) is looked at again by the caller.
 */
function processOf(pid: number): ProcessEntry {
  const known = processes.get(pid);
  if (known) return known;
  let exe: string;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    exe = '';
  }
  const entry = exe === '' ? { kind: 'other' as const, exe, reason: 'unreadable' } : inspect(pid, exe);
  if (entry.kind === 'other' && entry.notYet) return entry;
  if (processes.size >= MAX_PROCESSES) forgetPythonProcess(processes.keys().next().value!);
  if (entry.kind === 'python') {
    const open = [...processes].filter(([, known]) => known.kind === 'python');
    for (const [oldPid] of open.slice(0, Math.max(0, open.length - MAX_OPEN_MEMORY + 1))) forgetPythonProcess(oldPid);
  }
  processes.set(pid, entry);
  return entry;
}

/** A failure that says nothing of the process but that fdscan is out of descriptors or memory: thrown, not a reason. */
function ownFailure(error: unknown): boolean {
  const code = errnoOf(error);
  return code === 'EMFILE' || code === 'ENFILE' || code === 'ENOMEM';
}

interface Mapping {
  start: number;
  end: number;
  offset: number;
  path: string;
}

/** Find the interpreter in the process's mappings and read its version; the first look at a pid. */
function inspect(pid: number, exe: string): ProcessEntry {
  budget = READ_BUDGET;
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch (error) {
    if (ownFailure(error)) throw error;
    return { kind: 'other', exe, reason: 'unreadable' };
  }
  const byPath = new Map<string, Mapping[]>();
  for (const line of maps.split('\n')) {
    // start-end perms offset dev inode path
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+ +(\/.*)$/.exec(line);
    if (!m) continue;
    const path = m[4]!;
    let list = byPath.get(path);
    if (!list) byPath.set(path, (list = []));
    list.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), offset: parseInt(m[3]!, 16), path });
  }
  // Candidates: the executable itself (python, or a renamed or embedding binary) and any mapped file
  // named like libpython. Only these are opened: a process that is not Python costs one ELF read
  // of its executable, once per executable file.
  const candidates = [...byPath.keys()].filter((path) => path === exe || /(^|\/)libpython[^/]*\.so/.test(path));
  candidates.sort((a, b) => (a === exe ? -1 : b === exe ? 1 : 0));
  let startsPython = false;
  for (const path of candidates) {
    const mappings = byPath.get(path)!;
    const elf = elfOf(pid, path, mappings[0]!);
    if (path === exe && elf) startsPython = STARTS_PYTHON.some((name) => elf.imports.has(name));
    const runtimeSymbol = elf?.symbols.get('_PyRuntime');
    if (!elf || runtimeSymbol === undefined) continue;
    const bias = loadBias(elf, mappings);
    if (bias === undefined) return { kind: 'other', exe, reason: 'no-symbols' };
    const at = (name: string): number => bias + (elf.symbols.get(name) ?? NaN);
    let mem: number;
    try {
      mem = openSync(`/proc/${pid}/mem`, 'r');
    } catch (error) {
      if (ownFailure(error)) throw error;
      return { kind: 'other', exe, reason: 'unreadable' };
    }
    try {
      const python = describeInterpreter(mem, at('_PyRuntime'), at('Py_Version'), path);
      if ('reason' in python) {
        closeSync(mem);
        return { kind: 'other', exe, reason: python.reason };
      }
      return {
        kind: 'python', exe, mem, runtime: at('_PyRuntime'), codeType: at('PyCode_Type'), unicodeType: at('PyUnicode_Type'),
        bytesType: at('PyBytes_Type'), interpreter: path, version: python.version, layout: python.layout, codes: new Map(), threads: new Map(),
      };
    } catch (error) {
      closeSync(mem);
      if (error instanceof WalkFailed) return { kind: 'other', exe, reason: 'unreadable' };
      throw error;
    }
  }
  // Python through a libpython not mapped yet (the loader is still at work): not Python yet.
  if (startsPython && !candidates.some((path) => path !== exe)) return { kind: 'other', exe, reason: 'not-python', notYet: true };
  return { kind: 'other', exe, reason: 'not-python' };
}

/** The symbols of a mapped file, read through the process's own root (its mount namespace), cached by file identity. */
function elfOf(pid: number, path: string, mapping: Mapping): ElfSymbols | undefined {
  const names = [`/proc/${pid}/root${path}`, `/proc/${pid}/map_files/${mapping.start.toString(16)}-${mapping.end.toString(16)}`];
  for (const name of names) {
    let key: string;
    try {
      const stat = statSync(name, { bigint: true });
      key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
    } catch {
      continue;
    }
    if (!elfFiles.has(key)) elfFiles.set(key, readElfSymbols(name, [...SYMBOLS, ...STARTS_PYTHON]));
    return elfFiles.get(key);
  }
  return undefined;
}

/** Where the file was loaded: the mapping of a PT_LOAD segment's first page, minus that segment's address. */
function loadBias(elf: ElfSymbols, mappings: Mapping[]): number | undefined {
  if (elf.fixed) return 0;
  const pageDown = (n: number) => n - (n % 4096);
  for (const mapping of mappings) {
    for (const load of elf.loads) {
      // Pages are at least 4 KiB; a 64 KiB-page kernel maps at a coarser offset, which the modulo of the larger page also satisfies.
      if (pageDown(load.offset) === mapping.offset && load.offset - load.vaddr === mapping.offset - pageDown(load.vaddr)) {
        return mapping.start - pageDown(load.vaddr);
      }
    }
  }
  return undefined;
}

/** Py_Version (PY_VERSION_HEX) decides the layout; 3.13+ take theirs from _Py_DebugOffsets. */
function describeInterpreter(mem: number, runtime: number, versionAddress: number, path: string): { version: string; layout: Layout } | { reason: string } {
  let hex: number | undefined;
  if (Number.isFinite(versionAddress)) hex = read(mem, versionAddress, 4).readUInt32LE(0);
  else {
    // Before 3.11 there is no Py_Version; the file name still says which Python it is.
    const m = /python(\d)\.(\d+)/.exec(path);
    if (m) hex = (Number(m[1]) << 24) | (Number(m[2]) << 16);
  }
  if (hex === undefined) return { reason: 'python-version' };
  const major = hex >>> 24;
  const minor = (hex >>> 16) & 0xff;
  const version = `${major}.${minor}.${(hex >>> 8) & 0xff}`;
  if (major === 3 && minor === 11) return { version, layout: LAYOUT_3_11 };
  if (major === 3 && minor === 12) return { version, layout: LAYOUT_3_12 };
  if (major === 3 && minor === 13) {
    const layout = debugOffsetsLayout(read(mem, runtime, DEBUG_OFFSETS_3_13_SIZE), hex);
    return layout ? { version, layout } : { reason: 'python-version' };
  }
  return { reason: 'python-version' };
}

/** sizeof(struct _Py_DebugOffsets) in 3.13 (Include/internal/pycore_runtime.h), x86_64/arm64. */
const DEBUG_OFFSETS_3_13_SIZE = 584;

/**
 * The layout from 3.13's `_Py_DebugOffsets` (the first member of _PyRuntime: cookie "xdebugpy",
 * PY_VERSION_HEX, then the offsets of each struct's fields). The struct itself changes between
 * minor versions (3.14 adds fields), so only 3.13's shape is read here. Not exercised by the
 * tests unless a CPython 3.13 is installed (pyenv).
 */
function debugOffsetsLayout(d: Buffer, hex: number): Layout | undefined {
  if (d.toString('latin1', 0, 8) !== 'xdebugpy' || Number(d.readBigUInt64LE(8)) !== hex) return undefined;
  if (d.readBigUInt64LE(16) !== 0n) return undefined; // free-threaded build: other object headers, untested
  const at = (offset: number) => Number(d.readBigUInt64LE(offset));
  const asciiSize = at(560);
  const layout: Layout = {
    runtimeInterpretersHead: at(40), interpNext: at(64), interpThreadsHead: at(72),
    tstateNext: at(168), tstateNativeThreadId: at(200), tstateCurrentFrame: at(184), cframeCurrentFrame: 0,
    tstateSize: Math.max(at(168), at(200), at(184)) + 8,
    frameCode: at(240), framePrevious: at(232), frameInstr: at(248), frameOwner: at(264), ownerCstack: 3,
    frameSize: Math.max(at(232), at(240), at(248), at(264)) + 8,
    obType: at(360), codeFilename: at(280), codeName: at(288), codeQualname: at(296), codeLinetable: at(304),
    codeFirstlineno: at(312), codeAdaptive: at(344),
    unicodeLength: at(552), unicodeState: at(544), unicodeAsciiSize: asciiSize,
    // PyCompactUnicodeObject adds utf8_length and utf8 to PyASCIIObject (3.12+).
    unicodeCompactSize: asciiSize + 16,
    bytesSize: at(520), bytesData: at(528),
  };
  // The process wrote these numbers: offsets into structs of a few hundred bytes, or nothing to trust.
  return Object.values(layout).every((value) => value === undefined || (Number.isSafeInteger(value) && value >= 0 && value < 65536)) ? layout : undefined;
}

/** What the current call may still read (READ_BUDGET at its start). */
let budget = READ_BUDGET;

/** pread of /proc/PID/mem: all `length` bytes, or WalkFailed (`gone` when nothing at all could be read). */
function read(mem: number, address: number, length: number): Buffer {
  if (!Number.isSafeInteger(address) || address <= 0 || length < 0) throw new WalkFailed('corrupt');
  budget -= length;
  if (budget < 0) throw new WalkFailed('too-large');
  const buffer = Buffer.allocUnsafe(length);
  let got: number;
  try {
    got = readSync(mem, buffer, 0, length, address);
  } catch {
    // EIO: an address the process has not mapped (a dangling pointer, or memory it just unmapped).
    throw new WalkFailed('corrupt');
  }
  // 0: the memory this descriptor was opened on has no users left (the process exec'd or exited).
  if (got === 0 && length > 0) throw new WalkFailed('gone');
  if (got !== length) throw new WalkFailed('corrupt');
  return buffer;
}

const pointer = (buffer: Buffer, offset: number): number => Number(buffer.readBigUInt64LE(offset));

function walk(proc: PythonProcess, tid: number): PythonFramesResult {
  const L = proc.layout;
  const tstate = threadState(proc, tid);
  if (tstate === undefined) return { reason: 'no-thread-state' };
  let frame: number;
  if (L.tstateCframe !== undefined) {
    const cframe = pointer(tstate, L.tstateCframe);
    frame = cframe === 0 ? 0 : pointer(read(proc.mem, cframe + L.cframeCurrentFrame, 8), 0);
  } else {
    frame = pointer(tstate, L.tstateCurrentFrame);
  }
  const frames: PythonFrame[] = [];
  const seen = new Set<number>();
  try {
    for (let steps = 0; frame !== 0 && frames.length < MAX_FRAMES; steps++) {
      // Entry frames of C calls (3.12+) are links too: bound the walk, not just the frames kept.
      if (seen.has(frame) || steps >= MAX_FRAMES * 2) throw new WalkFailed('corrupt');
      seen.add(frame);
      const f = read(proc.mem, frame, L.frameSize);
      const code = pointer(f, L.frameCode);
      const cstack = L.frameOwner !== undefined && f[L.frameOwner] === L.ownerCstack;
      const described = code === 0 || cstack ? undefined : describeFrame(proc, code, pointer(f, L.frameInstr));
      if (described) frames.push(described);
      frame = pointer(f, L.framePrevious);
    }
  } catch (error) {
    if (!(error instanceof WalkFailed) || frames.length === 0) throw error;
    return { frames, incomplete: error.reason === 'gone' ? 'unreadable' : error.reason };
  }
  return { frames };
}

/** The thread state of `tid` (its bytes): the one remembered if it still names the thread, else a walk of every interpreter's list (bounded, cycle-checked). */
function threadState(proc: PythonProcess, tid: number): Buffer | undefined {
  const L = proc.layout;
  const names = (t: Buffer) => Number(t.readBigUInt64LE(L.tstateNativeThreadId)) === tid;
  const remembered = proc.threads.get(tid);
  if (remembered !== undefined) {
    proc.threads.delete(tid);
    let t: Buffer | undefined;
    try {
      t = read(proc.mem, remembered, L.tstateSize);
    } catch (error) {
      // Unmapped since (the thread ended and its state was freed): walk the lists instead.
      if (!(error instanceof WalkFailed) || error.reason === 'gone') throw error;
    }
    if (t && names(t)) {
      proc.threads.set(tid, remembered);
      return t;
    }
  }
  let interp = pointer(read(proc.mem, proc.runtime + L.runtimeInterpretersHead, 8), 0);
  let threads = 0;
  for (let i = 0; interp !== 0; i++) {
    if (i >= MAX_INTERPRETERS) throw new WalkFailed('corrupt');
    let tstate = pointer(read(proc.mem, interp + L.interpThreadsHead, 8), 0);
    while (tstate !== 0) {
      if (++threads > MAX_THREADS) throw new WalkFailed('corrupt');
      const t = read(proc.mem, tstate, L.tstateSize);
      if (names(t)) {
        if (proc.threads.size >= MAX_THREAD_STATES) proc.threads.clear();
        proc.threads.set(tid, tstate);
        return t;
      }
      tstate = pointer(t, L.tstateNext);
    }
    interp = pointer(read(proc.mem, interp + L.interpNext, 8), 0);
  }
  return undefined;
}

/** Function, file and line of one frame; undefined when its code pointer is not a code object (a C entry frame). */
function describeFrame(proc: PythonProcess, code: number, instr: number): PythonFrame | undefined {
  const L = proc.layout;
  const header = read(proc.mem, code, L.codeAdaptive);
  if (pointer(header, L.obType) !== proc.codeType) return undefined;
  const filename = pointer(header, L.codeFilename);
  const name = pointer(header, L.codeName);
  const qualname = pointer(header, L.codeQualname);
  const linetable = pointer(header, L.codeLinetable);
  const firstLine = header.readInt32LE(L.codeFirstlineno);
  const key = `${filename}:${name}:${qualname}:${linetable}:${firstLine}`;
  let info = proc.codes.get(code);
  if (info?.key !== key) {
    if (proc.codes.size >= MAX_CODES) proc.codes.clear();
    info = {
      key,
      function: readString(proc, qualname) ?? readString(proc, name) ?? '?',
      file: readString(proc, filename) ?? '?',
      firstLine,
      lineTable: readBytes(proc, linetable),
    };
    proc.codes.set(code, info);
  }
  // The instruction pointer is into co_code_adaptive; before the first instruction it is one unit before it.
  const offset = instr - (code + L.codeAdaptive);
  const line = info.lineTable && offset >= 0 ? lineOf(info.lineTable, info.firstLine, offset) : info.firstLine;
  return { function: info.function, file: info.file, line, object: 'python', offset: Math.max(0, offset) };
}

/** A compact str object's text, cut at MAX_STRING_CHARS; undefined when it is not a str or not compact. */
function readString(proc: PythonProcess, address: number): string | undefined {
  const L = proc.layout;
  if (address === 0) return undefined;
  const header = read(proc.mem, address, L.unicodeCompactSize);
  if (pointer(header, L.obType) !== proc.unicodeType) return undefined;
  const length = Number(header.readBigInt64LE(L.unicodeLength));
  const state = header.readUInt32LE(L.unicodeState);
  const kind = (state >>> 2) & 7;
  const compact = (state >>> 5) & 1;
  const ascii = (state >>> 6) & 1;
  if (!compact || (kind !== 1 && kind !== 2 && kind !== 4) || length < 0) return undefined;
  const chars = Math.min(length, MAX_STRING_CHARS);
  const data = read(proc.mem, address + (ascii ? L.unicodeAsciiSize : L.unicodeCompactSize), chars * kind);
  let text: string;
  if (kind === 1) text = data.toString('latin1');
  else if (kind === 2) text = data.toString('utf16le');
  else {
    const points: number[] = [];
    for (let i = 0; i < chars; i++) points.push(Math.min(data.readUInt32LE(i * 4), 0x10ffff));
    text = String.fromCodePoint(...points);
  }
  return length > chars ? `${text}…` : text;
}

/** A bytes object's contents (the line table), undefined when not bytes or too big. */
function readBytes(proc: PythonProcess, address: number): Buffer | undefined {
  const L = proc.layout;
  if (address === 0) return undefined;
  const header = read(proc.mem, address, L.bytesData);
  if (pointer(header, L.obType) !== proc.bytesType) return undefined;
  const size = Number(header.readBigInt64LE(L.bytesSize));
  if (size < 0 || size > MAX_LINETABLE_BYTES) return undefined;
  return read(proc.mem, address + L.bytesData, size);
}

/**
 * The line of bytecode byte `offset` from a 3.11+ location table (Objects/locations.md): entries of
 * a first byte 1CCCCLLL (code C, L+1 code units) and varint operands. 0 when the offset has no line.
 */
export function lineOf(table: Buffer, firstLine: number, offset: number): number {
  let line = firstLine;
  let address = 0;
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= table.length || shift > 28) return value;
      const byte = table[at++]!;
      value |= (byte & 63) << shift;
      shift += 6;
      if (!(byte & 64)) return value;
    }
  };
  const svarint = (): number => {
    const value = varint();
    return value & 1 ? -(value >>> 1) : value >>> 1;
  };
  while (at < table.length) {
    const first = table[at++]!;
    // Operand bytes are all below 0x80 (CPython writes columns >= 128 in the long form's varints),
    // so a byte with its top bit set always starts an entry: a corrupt table resynchronises there.
    if (!(first & 0x80)) continue;
    const code = (first >> 3) & 15;
    const end = address + ((first & 7) + 1) * 2;
    let hasLine = true;
    if (code === 15) hasLine = false;
    else if (code === 14) {
      line += svarint();
      varint(); // end line delta
      varint(); // column + 1
      varint(); // end column + 1
    } else if (code === 13) line += svarint();
    else if (code >= 10) {
      line += code - 10;
      at += 2; // start and end column bytes
    } else at += 1; // short form: one column byte, same line
    if (offset < end) return hasLine ? line : 0;
    address = end;
  }
  return 0;
}
