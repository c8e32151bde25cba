/** Facts about a Linux process from /proc/PID/stat, cmdline, environ and status. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { NoSuchProcess, ParseError, osFailure, statusSignals, type ProcessInfo } from '../../src/probe-kit/index.js';
import { readProcText, tryReadProcText } from './procfs.js';

export interface ProcStat {
  /** The command name (comm), decoded as UTF-8 like argv: a byte that is not UTF-8 becomes U+FFFD. */
  command: string;
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot: with the pid, names one process for good. */
  startTime: number;
  /**
   * PF_EXITING is set in the kernel flags: the process is in exit(), its descriptor table may
   * already be gone while it is not yet a zombie.
   */
  exiting: boolean;
  /** PF_KTHREAD is set: a kernel thread, which has no descriptor table at all. */
  kernelThread: boolean;
}

/** PF_EXITING and PF_KTHREAD in include/linux/sched.h, field 9 (`flags`) of /proc/PID/stat. */
const PF_EXITING = 0x4;
const PF_KTHREAD = 0x200000;

/**
 * Parse /proc/PID/stat as read (latin1: one character per byte); the command sits in parentheses
 * and may itself hold ')' or spaces.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) throw new ParseError('/proc/PID/stat', JSON.stringify(text.slice(0, 80)));
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const flags = Number(rest[6]);
  const startTime = Number(rest[19]);
  if (!rest[0] || Number.isNaN(ppid) || Number.isNaN(flags) || Number.isNaN(startTime)) {
    throw new ParseError('/proc/PID/stat', JSON.stringify(text.slice(0, 80)));
  }
  return {
    // comm is bytes, and names are UTF-8 now: `café` had read `cafÃ©`, and `-c café` missed it.
    command: Buffer.from(text.slice(open + 1, close), 'latin1').toString('utf8'), state: rest[0], ppid, startTime,
    exiting: (flags & PF_EXITING) !== 0, kernelThread: (flags & PF_KTHREAD) !== 0,
  };
}

/** /proc/PID/stat of a live process, or undefined when it is gone. */
export function readProcStat(pid: number): ProcStat | undefined {
  const text = tryReadProcText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcStat(text);
}

/**
 * The thread group (process) `pid` belongs to: `pid` itself for a process, another pid when `pid`
 * is a thread id, which /proc answers for although it does not list it. Undefined when gone.
 */
export function threadGroupOf(pid: number): number | undefined {
  const text = tryReadProcText(`/proc/${pid}/status`);
  const match = text === undefined ? null : /^Tgid:\s*(\d+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * A kernel thread has no descriptor table (PF_KTHREAD). Failing that flag, as the kernel's own
 * helpers look: kthreadd (pid 2) or one of its children, without a command line, not a zombie.
 */
export function isKernelThread(pid: number, stat: ProcStat): boolean {
  if (stat.kernelThread) return true;
  return (pid === 2 || stat.ppid === 2) && stat.state !== 'Z' && readArgv(pid).length === 0;
}

/**
 * The argv of a running process (empty for kernel threads and zombies), its empty entries at the
 * end dropped: a program that sets its title over its argv's memory (redis, nginx, postgres'
 * setproctitle) pads the rest with NULs, which read as empty arguments and showed as trailing
 * spaces after the title.
 */
export function readArgv(pid: number): string[] {
  const argv = readExecArgv(pid);
  while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  return argv;
}

/** The argv exactly as cmdline gives it, empty arguments at the end kept: read at an exec, before any title is set. */
export function readExecArgv(pid: number): string[] {
  const text = tryReadUtf8(`/proc/${pid}/cmdline`);
  if (!text) return [];
  const argv = text.split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  return argv;
}

/**
 * The wanted variables of /proc/PID/environ (the first of a name): at the exec stop it holds the
 * environment the new program was given. Read as latin1 (any byte is one character; the protocol
 * values are ASCII). Undefined when unreadable: not dumpable or gone, its table is unreadable too.
 */
export function readEnvironment(pid: number, wanted: (name: string) => boolean): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return undefined;
  }
  const found = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0 && wanted(entry.slice(0, eq)) && !found.has(entry.slice(0, eq))) found.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return found;
}

/** Signals pending for a process (SigPnd of the thread and ShdPnd of the group); none when unreadable. */
export function pendingSignals(pid: number): number[] {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return [];
  }
  return statusSignals(status, ['SigPnd', 'ShdPnd']);
}

/** TracerPid of a process, or of the calling thread (`thread-self`): 0 when not traced, undefined when unreadable. */
export function tracerOf(pid: number | 'thread-self'): number | undefined {
  try {
    const match = /^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function tryReadUtf8(path: string): string | undefined {
  const text = tryReadProcText(path);
  return text === undefined ? undefined : Buffer.from(text, 'latin1').toString('utf8');
}

/** Name, parent and owner of a process; NoSuchProcess when it does not exist. */
export function linuxProcessInfo(pid: number): ProcessInfo {
  let uid: number | undefined;
  try {
    uid = statSync(`/proc/${pid}`).uid;
  } catch (error) {
    throw osFailure(error, pid, `stat /proc/${pid}`, () => readProcStat(pid) === undefined);
  }
  const stat = readProcStat(pid);
  if (!stat) throw new NoSuchProcess(pid);
  const info: ProcessInfo = { pid, ppid: stat.ppid, command: stat.command, argv: readArgv(pid), uid, state: stat.state };
  if (isKernelThread(pid, stat)) info.kernelThread = true;
  return info;
}

/** Every pid under /proc. */
export function listLinuxPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}
