/**
 * The Windows exec tracer's loop: fdscan is the debugger of the command's whole tree.
 *
 * CreateProcessW(DEBUG_PROCESS) from the tracer thread (the debugger is the thread that created
 * the process: WaitForDebugEvent and ContinueDebugEvent must be called from it). Each process of
 * the tree reports CREATE_PROCESS_DEBUG_EVENT before it runs its own code, and stays suspended
 * until ContinueDebugEvent: its table and its creator's are read then, in one snapshot.
 * Every exception is passed on (DBG_EXCEPTION_NOT_HANDLED) as if no debugger were there, except
 * the loader's first breakpoint, raised only for a debugger (DBG_CONTINUE). The file handles the
 * events hand over (CREATE_PROCESS and LOAD_DLL hFile) are closed here; hProcess and hThread
 * belong to the system, which closes them after the exit events.
 * DebugSetProcessKillOnExit(FALSE): if fdscan dies, the tree is detached and runs on, as a tree
 * traced by ptrace does when its tracer dies.
 *
 * What differs from a bare run: IsDebuggerPresent() is true in each process; the heap would be the
 * debug heap, which `_NO_DEBUG_HEAP=1` (added to the tree's environment unless set) turns off;
 * OutputDebugString reaches fdscan, which drops it; a process of the tree cannot attach a debugger
 * of its own to another (DebugActiveProcess fails: the tree already has one).
 */
import { koffi, winTypes, type Handle } from './types.js';
import {
  CREATE_SUSPENDED, CREATE_UNICODE_ENVIRONMENT, DBG_CONTINUE, DBG_EXCEPTION_NOT_HANDLED, DEBUG_PROCESS, DUPLICATE_SAME_ACCESS,
  EXTENDED_STARTUPINFO_PRESENT, STARTF_USESTDHANDLES, STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
  ERROR_ACCESS_DENIED, ERROR_ELEVATION_REQUIRED, ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_SEM_TIMEOUT, closeHandle, continueDebugEvent, createProcessW,
  debugSetProcessKillOnExit, deleteProcThreadAttributeList, duplicateHandle, getCurrentProcess, getStdHandle,
  initializeProcThreadAttributeList, lastError, updateProcThreadAttribute, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
  INVALID_HANDLE_VALUE, terminateProcess, waitForDebugEvent,
} from './kernel32.js';
import { creatorOf } from './ntdll.js';
import { quoteArgument } from './trace-reader.js';
import { FdscanError, OsError } from '../../src/probe-kit/index.js';

const CREATE_PROCESS_DEBUG_EVENT = 3;
const EXCEPTION_DEBUG_EVENT = 1;
const EXIT_PROCESS_DEBUG_EVENT = 5;
const LOAD_DLL_DEBUG_EVENT = 6;
const EXCEPTION_BREAKPOINT = 0x80000003;
/** The second initial breakpoint of a 32-bit process on 64-bit Windows (WOW64). */
const STATUS_WX86_BREAKPOINT = 0x4000001f;

/** A process started by startProcess. */
export interface Started {
  pid: number;
  process: Handle;
  thread: Handle;
}

/** How to start the command. */
export interface StartOptions {
  argv: readonly Uint8Array[];
  env: readonly Uint8Array[];
  /** Under the debugger (the tracer), or bare (`run --close-fds`). */
  debug: boolean;
  /** Created with its first thread suspended (the job-object tracer assigns it to its job first). */
  suspended?: boolean;
  /** Pass only the standard handles and these (PROC_THREAD_ATTRIBUTE_HANDLE_LIST); absent: every inheritable handle. */
  onlyHandles?: readonly number[];
}

/** The UTF-16 command line CreateProcessW parses back into argv (writable: CreateProcessW may change it). */
export function commandLine(argv: readonly Uint8Array[]): Buffer {
  return Buffer.from(`${argv.map((a) => quoteArgument(Buffer.from(a).toString('utf8'))).join(' ')}\0`, 'utf16le');
}

/** A CREATE_UNICODE_ENVIRONMENT block: NAME=value entries, each ended by NUL, then one more NUL. */
export function environmentBlock(env: readonly Uint8Array[]): Buffer {
  const entries = env.map((e) => Buffer.from(e).toString('utf8')).filter((e) => e.length > 0 && !e.includes('\0'));
  return Buffer.from(`${entries.map((e) => `${e}\0`).join('')}\0${entries.length === 0 ? '\0' : ''}`, 'utf16le');
}

/**
 * CreateProcessW with this process's standard handles as the command's (inheritable copies, closed
 * once it started). Throws CommandNotFound-like FdscanError ENOCOMMAND when there is no such program.
 */
export function startProcess(options: StartOptions): Started {
  const k = koffi();
  const types = winTypes();
  const self = getCurrentProcess();
  const copies: Handle[] = [];
  const std: Array<Handle | null> = [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE].map((which) => {
    const handle = getStdHandle(which);
    if (!handle || handle === INVALID_HANDLE_VALUE) return null;
    const out: [Handle | null] = [null];
    // An inheritable copy: STARTF_USESTDHANDLES passes values, valid in the child only if inherited.
    if (!duplicateHandle(self, handle, self, out, 0, true, DUPLICATE_SAME_ACCESS) || !out[0]) return null;
    copies.push(out[0]);
    return out[0];
  });
  let list: unknown = null;
  let listBuffer: Buffer | undefined;
  let flags = CREATE_UNICODE_ENVIRONMENT | (options.debug ? DEBUG_PROCESS : 0) | (options.suspended ? CREATE_SUSPENDED : 0);
  try {
    if (options.onlyHandles) {
      const values = [...new Set([...copies.map(Number), ...options.onlyHandles])];
      listBuffer = Buffer.alloc(values.length * k.sizeof('HANDLE'));
      values.forEach((v, i) => { if (k.sizeof('HANDLE') === 8) listBuffer!.writeBigUInt64LE(BigInt(v), i * 8); else listBuffer!.writeUInt32LE(v, i * 4); });
      const size: [number] = [0];
      initializeProcThreadAttributeList(null, 1, size);
      list = k.alloc('uint8_t', size[0]);
      if (!initializeProcThreadAttributeList(list, 1, size)) throw new OsError('InitializeProcThreadAttributeList', `Windows error ${lastError()}`);
      if (values.length > 0 && !updateProcThreadAttribute(list, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, listBuffer)) {
        throw new OsError('UpdateProcThreadAttribute(PROC_THREAD_ATTRIBUTE_HANDLE_LIST)', `Windows error ${lastError()}`);
      }
      flags |= EXTENDED_STARTUPINFO_PRESENT;
    }
    const startupInfo = {
      StartupInfo: {
        cb: k.sizeof(options.onlyHandles ? types.STARTUPINFOEXW! : types.STARTUPINFOW!),
        dwFlags: STARTF_USESTDHANDLES,
        hStdInput: std[0], hStdOutput: std[1], hStdError: std[2],
      },
      lpAttributeList: list,
    };
    const info: Record<string, unknown> = {};
    const argv0 = Buffer.from(options.argv[0] ?? '').toString('utf8');
    if (!createProcessW(commandLine(options.argv), true, flags, environmentBlock(options.env), startupInfo, info)) {
      const error = lastError();
      if (error === ERROR_FILE_NOT_FOUND || error === ERROR_PATH_NOT_FOUND) throw new FdscanError('ENOCOMMAND', `${argv0}: command not found`);
      if (error === ERROR_ELEVATION_REQUIRED) throw new FdscanError('EACCES', `${argv0} requires elevation (its manifest asks for administrator rights): run fdscan elevated`);
      if (error === ERROR_ACCESS_DENIED) throw new FdscanError('EACCES', `CreateProcessW(${argv0}): access denied`);
      throw new OsError(`CreateProcessW(${argv0})`, `Windows error ${error}`);
    }
    return { pid: info.dwProcessId as number, process: info.hProcess as Handle, thread: info.hThread as Handle };
  } finally {
    if (list !== null) { deleteProcThreadAttributeList(list); k.free(list); }
    for (const copy of copies) closeHandle(copy);
  }
}

/** What the loop tells its caller. */
export interface DebugHooks {
  /** A process of the tree was created by `creator` (fdscan's pid for the root) and is held: read it now. */
  created(pid: number, creator: number, process: Handle): void;
  /** A process exited with `code`. */
  exited(pid: number, code: number): void;
  /** Polled between events: true asks that the tree be terminated (fdscan got SIGTERM or the like). */
  terminateRequested(): boolean;
}

/** Run until every process of the tree has exited; returns the root's exit code. */
export function runDebugLoop(root: Started, hooks: DebugHooks): number {
  const k = koffi();
  const types = winTypes();
  debugSetProcessKillOnExit(false);
  const event = Buffer.alloc(k.sizeof(types.DEBUG_EVENT!));
  const union = k.offsetof(types.DEBUG_EVENT!, 'u');
  const firstChance = union + k.sizeof(types.EXCEPTION_RECORD!);
  /** Live processes and their handles (from CREATE_PROCESS), and which loader breakpoints (`pid:code`) were seen. */
  const live = new Map<number, Handle>();
  const breakpointSeen = new Set<string>();
  let rootCode: number | undefined;
  let terminating = false;
  for (;;) {
    if (!terminating && hooks.terminateRequested()) {
      terminating = true;
      for (const process of live.values()) terminateProcess(process, 1);
    }
    if (!k32Wait(event)) continue;
    const code = event.readUInt32LE(0);
    const pid = event.readUInt32LE(4);
    const tid = event.readUInt32LE(8);
    let status = DBG_CONTINUE;
    if (code === CREATE_PROCESS_DEBUG_EVENT) {
      const info = k.decode(event, union, types.CREATE_PROCESS_DEBUG_INFO!) as { hFile: Handle | null; hProcess: Handle };
      if (info.hFile) closeHandle(info.hFile);
      live.set(pid, info.hProcess);
      // Unknown creator: pid 0, outside the tree, so the process is unverified rather than guessed.
      const creator = pid === root.pid ? process.pid : creatorOf(info.hProcess) ?? 0;
      hooks.created(pid, creator, info.hProcess);
    } else if (code === EXCEPTION_DEBUG_EVENT) {
      const exceptionCode = event.readUInt32LE(union);
      const initial = (exceptionCode === EXCEPTION_BREAKPOINT || exceptionCode === STATUS_WX86_BREAKPOINT) && event.readUInt32LE(firstChance) !== 0;
      // One loader breakpoint of each kind per process: a 32-bit process on 64-bit Windows raises
      // the native one, then STATUS_WX86_BREAKPOINT from its 32-bit loader. Any other is the program's.
      const key = `${pid}:${exceptionCode}`;
      if (initial && !breakpointSeen.has(key)) breakpointSeen.add(key);
      else status = DBG_EXCEPTION_NOT_HANDLED;
    } else if (code === LOAD_DLL_DEBUG_EVENT) {
      const info = k.decode(event, union, types.LOAD_DLL_DEBUG_INFO!) as { hFile: Handle | null };
      if (info.hFile) closeHandle(info.hFile);
    } else if (code === EXIT_PROCESS_DEBUG_EVENT) {
      const exitCode = event.readUInt32LE(union);
      live.delete(pid);
      breakpointSeen.delete(`${pid}:${EXCEPTION_BREAKPOINT}`);
      breakpointSeen.delete(`${pid}:${STATUS_WX86_BREAKPOINT}`);
      if (pid === root.pid) rootCode = exitCode;
      hooks.exited(pid, exitCode);
    }
    if (!continueDebugEvent(pid, tid, status)) throw new OsError('ContinueDebugEvent', `Windows error ${lastError()}`);
    if (code === EXIT_PROCESS_DEBUG_EVENT && live.size === 0 && rootCode !== undefined) break;
  }
  closeHandle(root.thread);
  closeHandle(root.process);
  return rootCode!;
}

const POLL_MS = 200;

/** WaitForDebugEvent with a short timeout, so that a termination request is seen; false on timeout. */
function k32Wait(event: Buffer): boolean {
  if (waitForDebugEvent(event, POLL_MS)) return true;
  const error = lastError();
  if (error === ERROR_SEM_TIMEOUT || error === 0) return false;
  throw new OsError('WaitForDebugEvent', `Windows error ${error}`);
}
