/**
 * Typed errors of fdscan, each with a stable `code` that scripts may test.
 *
 * Every error fdscan means to throw is an FdscanError; anything else that reaches the command line
 * is a bug and is reported as one (src/cli/main.ts). Probes turn OS errors into these exactly once,
 * at their edge (`osFailure` below), as psutil's wrap_exceptions does: the process gone is
 * NoSuchProcess, EACCES/EPERM is AccessDenied, anything else an OsError naming the call and errno,
 * never disguised as "no such process".
 */
import { createRequire } from 'node:module';

// node:util is required, not imported: an ES import of it evaluates every export, and one of them
// opens process.stderr, which makes Node open /dev/null before a wrapping command has listed the
// descriptors it received (src/cli/wrapping.ts).
const util = (): typeof import('node:util') => createRequire(import.meta.url)('node:util') as typeof import('node:util');

/** Base class: every error fdscan throws on purpose is one of these. */
export class FdscanError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The process does not exist (or exited before it could be read). */
export class NoSuchProcess extends FdscanError {
  readonly pid: number;
  constructor(pid: number, options?: { cause?: unknown }) {
    super('ENOPROCESS', `no process with pid ${pid}`, options);
    this.pid = pid;
  }
}

/** The process exists but this user may not read its descriptors. */
export class AccessDenied extends FdscanError {
  readonly pid: number;
  constructor(pid: number, detail: string, options?: { cause?: unknown }) {
    super('EACCESS_DENIED', `cannot read descriptors of pid ${pid}: ${detail}`, options);
    this.pid = pid;
  }
}

/** A system call failed for a reason that is neither "no such process" nor "access denied" (EMFILE, ENOMEM, ...). */
export class OsError extends FdscanError {
  /** The call that failed, as the user would look it up: `openat /proc/42/fd`, `ptrace(PTRACE_SEIZE)`. */
  readonly call: string;
  /** The errno name: EMFILE, ENOSYS, ... */
  readonly errno: string;
  constructor(call: string, errno: number | string, options?: { cause?: unknown }) {
    const name = typeof errno === 'number' ? osErrorName(errno) : errno;
    super('EOS', `${call}: ${name}${ERRNO_HINTS[name] ? ` (${ERRNO_HINTS[name]})` : ''}`, options);
    this.call = call;
    this.errno = name;
  }
}

/** No probe exists for this operating system. */
export class UnsupportedPlatform extends FdscanError {
  constructor(platform: string, what = 'probe') {
    // The message follows "fdscan: " on the command line: it does not name fdscan again.
    super('EUNSUPPORTED', `no ${what} for platform '${platform}'${what === 'probe' ? ' (supported: linux, darwin, win32)' : ''}`);
  }
}

/** Text from the kernel did not have the expected form. */
export class ParseError extends FdscanError {
  constructor(what: string, detail: string) {
    super('EPARSE', `cannot parse ${what}: ${detail}`);
  }
}

/** The command line, or a library call's arguments, were not understood. */
export class UsageError extends FdscanError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

/** A reading given a time limit (a metrics scrape's) did not finish within it. */
export class TimeLimitExceeded extends FdscanError {
  constructor(what: string) {
    super('ETIMELIMIT', `time limit reached while ${what}`);
  }
}

/** What the common errnos mean for fdscan, said once for every message that names them. */
const ERRNO_HINTS: Record<string, string> = {
  EMFILE: "fdscan's own descriptor limit is reached",
  ENFILE: "the system's descriptor limit is reached",
  ENOMEM: 'out of memory',
  ENOSYS: 'not supported by this kernel',
};

/** `EPERM` for 1, and so on; `errno N` when Node does not know the number. */
export function osErrorName(errno: number): string {
  try {
    // libuv's convention: negative numbers are errnos.
    return util().getSystemErrorName(-Math.abs(errno));
  } catch {
    return `errno ${errno}`;
  }
}

/** The errno name of a Node system error (`error.code`), or undefined for anything else. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || error instanceof FdscanError || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * The one mapping of an OS error for a whole-process operation on `pid`: EACCES/EPERM ->
 * AccessDenied; ENOENT/ESRCH -> NoSuchProcess when `gone()` confirms the process is gone; anything
 * else -> OsError naming `call`. An FdscanError passes through; an error that is not an OS error
 * (a bug) is rethrown unchanged.
 */
export function osFailure(error: unknown, pid: number, call: string, gone: () => boolean, denied = 'permission denied'): FdscanError {
  if (error instanceof FdscanError) return error;
  const code = errnoOf(error);
  if (code === undefined) throw error;
  if (code === 'EACCES' || code === 'EPERM') return new AccessDenied(pid, denied, { cause: error });
  if ((code === 'ENOENT' || code === 'ESRCH') && gone()) return new NoSuchProcess(pid, { cause: error });
  return new OsError(call, code, { cause: error });
}

/**
 * A limit of the system or of the process reached (EMFILE, ENFILE, ENOMEM) by any call is OsError,
 * not a bug: `fdscan gate` under `ulimit -n 32` ran out of descriptors in its tracer thread while
 * reading /proc/self/status and said "internal error". Anything else passes through unchanged.
 */
export function limitReached(error: unknown): unknown {
  const code = errnoOf(error);
  if (code !== 'EMFILE' && code !== 'ENFILE' && code !== 'ENOMEM') return error;
  const e = error as { syscall?: unknown; path?: unknown };
  const call = [e.syscall, e.path].filter((part) => typeof part === 'string').join(' ') || 'a system call';
  return new OsError(call, code, { cause: error });
}

/** An Error with `code` set to the errno name, as Node's fs throws: what a probe's native calls throw. */
export function errnoError(call: string, errno: number): Error & { code: string; errno: number } {
  const name = osErrorName(errno);
  return Object.assign(new Error(`${call}: ${name}`), { code: name, errno });
}

/** What crosses a thread boundary: enough to rebuild the typed error on the other side. */
export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  pid?: number;
  call?: string;
  errno?: string;
  stack?: string;
}

/** An error as plain data (structured clone keeps no classes). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const e = error as Error & Partial<SerializedError>;
  return { name: e.name, code: e.code, message: e.message, pid: e.pid, call: e.call, errno: e.errno, stack: e.stack };
}

/** The typed error back from `serializeError`; a bug on the other side stays a plain Error. */
export function deserializeError(data: SerializedError): Error {
  let error: Error;
  switch (data.name) {
    case 'NoSuchProcess': error = new NoSuchProcess(data.pid ?? 0); break;
    case 'AccessDenied': error = Object.assign(new AccessDenied(data.pid ?? 0, ''), { message: data.message }); break;
    case 'OsError': error = new OsError(data.call ?? '?', data.errno ?? '?'); break;
    default:
      error = data.code !== undefined && data.name !== 'Error' ? new FdscanError(data.code, data.message) : new Error(data.message);
      if (error instanceof FdscanError) error.name = data.name;
  }
  error.message = data.message;
  if (data.stack) error.stack = data.stack;
  return error;
}
