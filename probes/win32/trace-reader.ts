/**
 * What the recorder reads of a Windows process held by the debugger (trace-recorder.ts's
 * ProcessReader): its handle table, its command line and image, whether two handles name one
 * object, and the handles it was given as its standard ones.
 *
 * Calls: NtQuerySystemInformation(SystemExtendedHandleInformation) once per creation event, for
 * the creator and the new process at one instant; DuplicateHandle, NtQueryObject(type, and name for
 * objects that are not files), GetFileType (never a file's name: that query can block); 
 * NtCompareObjects where class 64 hides object addresses (wine, Windows 11 24H2 without admin);
 * ReadProcessMemory of the PEB's process parameters (command line, standard handles, the C
 * runtime's lpReserved2 block); QueryFullProcessImageNameW. Every call uses the process handle the
 * CREATE_PROCESS_DEBUG_EVENT gave (all access, owned by the system until the process's exit event).
 */
import { FdscanError, type Descriptor, type ProcessReader, type TableRead, type ProtocolPass } from '../../src/probe-kit/index.js';
import { readSystemHandles, type HandleEntry } from './handle-table.js';
import { readHandle, type Target } from './descriptors.js';
import {
  DUPLICATE_SAME_ACCESS, STILL_ACTIVE, closeHandle, duplicateHandle, getCurrentProcess, getExitCodeProcess,
  queryFullProcessImageName, readProcessMemory,
} from './kernel32.js';
import { ntCompareObjects, pebOf, STATUS_SUCCESS } from './ntdll.js';
import { POINTER_SIZE, type Handle } from './types.js';

/** Offsets in the PEB and RTL_USER_PROCESS_PARAMETERS (winternl.h / phnt), [x64, x86]. */
const OFFSETS = POINTER_SIZE === 8
  ? { parameters: 0x20, flags: 0x8, stdin: 0x20, stdout: 0x28, stderr: 0x30, commandLine: 0x70, runtimeData: 0xe0 }
  : { parameters: 0x10, flags: 0x8, stdin: 0x18, stdout: 0x1c, stderr: 0x20, commandLine: 0x40, runtimeData: 0x88 };

/** RTL_USER_PROCESS_PARAMETERS.Flags: its strings' Buffer fields are pointers, not offsets. */
const PARAMETERS_NORMALIZED = 0x1;

const PARAMETER_RETRIES = 50;
const PARAMETER_RETRY_MS = 10;

/** The largest lpReserved2 block read: libuv's holds 3 to a few dozen descriptors. */
const MAX_RUNTIME_DATA = 64 * 1024;

/** What a process's parameters say it was started with. */
interface StartupFacts {
  commandLine: string;
  /** hStdInput, hStdOutput, hStdError, then every handle of the C runtime's block. */
  stdio: number[];
  runtime: number[];
}

/** The ProcessReader of the Windows tracer; the debug loop tells it of each process's handle. */
export class WindowsTraceReader implements ProcessReader {
  private readonly processes = new Map<number, Handle>();
  private readonly typeNames = new Map<number, string>();
  private readonly startup = new Map<number, StartupFacts>();
  private snapshot: Map<number, HandleEntry[]> | undefined;
  /** `pid:handle` -> object address, from the held snapshot (empty where class 64 hides them). */
  private readonly objects = new Map<string, bigint>();
  private readonly troubles: string[] = [];

  /** `pid`'s process handle from its creation event (the system closes it after its exit event). */
  track(pid: number, process: Handle): void {
    this.processes.set(pid, process);
  }

  forget(pid: number): void {
    this.processes.delete(pid);
    this.startup.delete(pid);
  }

  /** Read the handles of `pids` at one instant; table() answers from it until release(). */
  hold(pids: number[]): void {
    this.snapshot = readSystemHandles(pids);
    for (const [pid, entries] of this.snapshot) for (const e of entries) if (e.object) this.objects.set(`${pid}:${e.handle}`, e.object);
  }

  release(): void {
    this.snapshot = undefined;
    this.objects.clear();
  }

  table(pid: number): TableRead {
    let entries: HandleEntry[];
    try {
      entries = this.snapshot?.get(pid) ?? readSystemHandles([pid]).get(pid) ?? [];
    } catch (error) {
      if (!(error instanceof FdscanError)) throw error;
      return { rows: [], error: `cannot read the handle table: ${error.message}`, errno: 'EIO' };
    }
    const self = pid === process.pid;
    const handle = self ? getCurrentProcess() : this.processes.get(pid);
    if (handle === undefined) return { rows: [], error: `no handle to process ${pid}: it is not a process of the traced tree` };
    const target: Target = { pid, self, process: handle, close() {} };
    const rows: Descriptor[] = [];
    for (const entry of entries) {
      const row = readHandle(target, entry, this.typeNames, { fileType: true });
      if (row) rows.push(row);
    }
    if (!self && !alive(handle)) return { rows, error: `process ${pid} ended before its handle table was read` };
    const failed = rows.filter((row) => row.error !== undefined);
    if (failed.length > 0) return { rows, error: `${failed.length} handle(s) could not be read (${failed[0]!.error})` };
    return { rows };
  }

  argv(pid: number): string[] {
    const facts = this.facts(pid);
    return facts ? splitCommandLine(facts.commandLine) : [];
  }

  exe(pid: number): string {
    const handle = this.processes.get(pid);
    const path = handle === undefined ? '' : queryFullProcessImageName(handle);
    return path || '(unreadable: QueryFullProcessImageNameW failed)';
  }

  /**
   * One object, or not: the snapshot's object addresses when it has them, else NtCompareObjects on
   * copies of both handles; undefined when either is gone. (Bound: the recorder passes it on alone.)
   */
  readonly sameOpenFile = (pidA: number, fdA: number, pidB: number, fdB: number): boolean | undefined => {
    // Class 64's object addresses, where the system gives them (not wine, nor Windows 11 24H2
    // without admin), name the objects of one snapshot: equal addresses, one object.
    const objectA = this.objects.get(`${pidA}:${fdA}`);
    const objectB = this.objects.get(`${pidB}:${fdB}`);
    if (objectA && objectB) return objectA === objectB;
    const a = this.copy(pidA, fdA);
    if (a === undefined) return undefined;
    const b = this.copy(pidB, fdB);
    try {
      if (b === undefined) return undefined;
      return ntCompareObjects(a.handle, b.handle) === STATUS_SUCCESS;
    } finally {
      a.close();
      b?.close();
    }
  };

  problems(): string[] {
    return this.troubles.splice(0);
  }

  /** The standard handles and the C runtime's block: passed on purpose, never blamed. */
  startupPasses(pid: number, received: readonly Descriptor[]): ProtocolPass[] {
    const facts = this.facts(pid);
    if (!facts) return [];
    const held = new Set(received.map((d) => d.fd));
    const fds = [...new Set([...facts.stdio, ...facts.runtime])].filter((fd) => fd !== 0 && held.has(fd)).sort((a, b) => a - b);
    return fds.length > 0 ? [{ protocol: 'windows-stdio', variable: 'STARTUPINFO', fds }] : [];
  }

  private copy(pid: number, value: number): { handle: Handle; close(): void } | undefined {
    if (pid === process.pid) return { handle: BigInt(value), close() {} };
    const source = this.processes.get(pid);
    if (source === undefined) return undefined;
    const out: [Handle | null] = [null];
    if (!duplicateHandle(source, BigInt(value), getCurrentProcess(), out, 0, false, DUPLICATE_SAME_ACCESS) || !out[0]) return undefined;
    const handle = out[0];
    return { handle, close: () => { closeHandle(handle); } };
  }

  /** The process parameters, read once (at creation: the process has not run its own code yet). */
  private facts(pid: number): StartupFacts | undefined {
    const known = this.startup.get(pid);
    if (known) return known;
    const handle = this.processes.get(pid);
    if (handle === undefined) return undefined;
    let facts = readStartupFacts(handle);
    // A process announced by a job (sampling) may not have set up its parameters yet (wine's
    // loader writes them as it starts): wait for them a little, on this tracer thread.
    for (let i = 0; !facts && i < PARAMETER_RETRIES && alive(handle); i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PARAMETER_RETRY_MS);
      facts = readStartupFacts(handle);
    }
    if (!facts) {
      this.troubles.push(`pid ${pid}: its process parameters could not be read (command line and standard handles unknown)`);
      facts = { commandLine: '', stdio: [], runtime: [] };
    }
    this.startup.set(pid, facts);
    return facts;
  }
}

function alive(process: Handle): boolean {
  const code: [number] = [0];
  return getExitCodeProcess(process, code) && code[0] === STILL_ACTIVE;
}

/** A pointer-sized value at `address` of `process`, undefined when unreadable. */
function readPointer(process: Handle, address: bigint): bigint | undefined {
  const into = Buffer.alloc(POINTER_SIZE);
  if (!readProcessMemory(process, address, into)) return undefined;
  return POINTER_SIZE === 8 ? into.readBigUInt64LE(0) : BigInt(into.readUInt32LE(0));
}

/**
 * A UNICODE_STRING's bytes at `address` of `process`. In parameters not yet normalized (a process
 * that has not finished starting) its Buffer is an offset from `base`, the parameters' address.
 */
function readUnicodeString(process: Handle, address: bigint, limit: number, base = 0n): Buffer | undefined {
  const header = Buffer.alloc(2 * POINTER_SIZE);
  if (!readProcessMemory(process, address, header)) return undefined;
  const length = Math.min(header.readUInt16LE(0), limit);
  const offset = POINTER_SIZE === 8 ? header.readBigUInt64LE(8) : BigInt(header.readUInt32LE(4));
  const buffer = offset === 0n ? 0n : offset + base;
  if (length === 0 || buffer === 0n) return Buffer.alloc(0);
  const into = Buffer.alloc(length);
  return readProcessMemory(process, buffer, into) ? into : undefined;
}

function readStartupFacts(process: Handle): StartupFacts | undefined {
  const peb = pebOf(process);
  if (peb === undefined) return undefined;
  const parameters = readPointer(process, peb + BigInt(OFFSETS.parameters));
  if (parameters === undefined || parameters === 0n) return undefined;
  const stdio: number[] = [];
  for (const offset of [OFFSETS.stdin, OFFSETS.stdout, OFFSETS.stderr]) {
    const value = readPointer(process, parameters + BigInt(offset));
    if (value !== undefined) stdio.push(Number(value));
  }
  const flags = Buffer.alloc(4);
  if (!readProcessMemory(process, parameters + BigInt(OFFSETS.flags), flags)) return undefined;
  const base = (flags.readUInt32LE(0) & PARAMETERS_NORMALIZED) !== 0 ? 0n : parameters;
  const commandLine = readUnicodeString(process, parameters + BigInt(OFFSETS.commandLine), 65534, base);
  if (commandLine === undefined) return undefined;
  const runtime = runtimeHandles(readUnicodeString(process, parameters + BigInt(OFFSETS.runtimeData), MAX_RUNTIME_DATA, base));
  return { commandLine: commandLine.toString('utf16le'), stdio, runtime };
}

/**
 * The handles of the C runtime's block (lpReserved2): a 32-bit count N, N flag bytes, then N
 * pointer-sized handles (the UCRT's and libuv's layout). INVALID_HANDLE_VALUE and 0 are skipped.
 */
export function runtimeHandles(block: Buffer | undefined): number[] {
  if (!block || block.length < 4) return [];
  const count = block.readUInt32LE(0);
  const handles: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + count + i * POINTER_SIZE;
    if (at + POINTER_SIZE > block.length) break;
    const value = POINTER_SIZE === 8 ? block.readBigInt64LE(at) : BigInt(block.readInt32LE(at));
    if (value > 0n) handles.push(Number(value));
  }
  return handles;
}

/** A command line split as the C runtime splits it (backslashes before a quote, doubled quotes). */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\') {
      let n = 0;
      while (line[i + n] === '\\') n++;
      if (line[i + n] === '"') {
        current += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) { current += '"'; i += n; } else { i += n - 1; }
      } else {
        current += '\\'.repeat(n);
        i += n - 1;
      }
      started = true;
    } else if (ch === '"') {
      if (inQuotes && line[i + 1] === '"') { current += '"'; i++; } else inQuotes = !inQuotes;
      started = true;
    } else if ((ch === ' ' || ch === '\t') && !inQuotes) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}

/** One argument quoted so that splitCommandLine (and the C runtime) gives it back unchanged. */
export function quoteArgument(arg: string): string {
  if (arg !== '' && !/[ \t\n\v"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') { backslashes++; continue; }
    out += ch === '"' ? `${'\\'.repeat(backslashes * 2 + 1)}"` : `${'\\'.repeat(backslashes)}${ch}`;
    backslashes = 0;
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}
