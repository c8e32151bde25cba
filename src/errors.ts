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

/** What rebuilds an error of a class: its prototype (the constructor itself is not run). */
type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes that cross a thread as themselves, by name (see crossesThreads). */
const threadClasses = new Map<string, ErrorClass>();

/**
 * Join the table of classes that cross threads as themselves: every FdscanError class calls it in
 * a static block, `static { crossesThreads(this); }`, or deserializeError cannot rebuild it.
 */
export function crossesThreads(errorClass: ErrorClass): void {
  threadClasses.set(errorClass.name, errorClass);
}

/** Base class: every error fdscan throws on purpose is one of these. */
export class FdscanError extends Error {
  static { crossesThreads(this); }
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The process does not exist (or exited before it could be read). */
export class NoSuchProcess extends FdscanError {
  static { crossesThreads(this); }
  readonly pid: number;
  constructor(pid: number, options?: { cause?: unknown }) {
    super('ENOPROCESS', `no process with pid ${pid}`, options);
    this.pid = pid;
  }
}

/** The process exists but this user may not read its descriptors. */
export class AccessDenied extends FdscanError {
  static { crossesThreads(this); }
  readonly pid: number;
  constructor(pid: number, detail: string, options?: { cause?: unknown }) {
    super('EACCESS_DENIED', `cannot read descriptors of pid ${pid}: ${detail}`, options);
    this.pid = pid;
  }
}

/** A system call failed for a reason that is neither "no such process" nor "access denied" (EMFILE, ENOMEM, ...). */
export class OsError extends FdscanError {
  static { crossesThreads(this); }
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
  static { crossesThreads(this); }
  constructor(platform: string, what = 'probe') {
    // The message follows "fdscan: " on the command line: it does not name fdscan again.
    super('EUNSUPPORTED', `no ${what} for platform '${platform}'${what === 'probe' ? ' (supported: linux, darwin, win32)' : ''}`);
  }
}

/** Text from the kernel did not have the expected form. */
export class ParseError extends FdscanError {
  static { crossesThreads(this); }
  constructor(what: string, detail: string) {
    super('EPARSE', `cannot parse ${what}: ${detail}`);
  }
}

/** The command line, or a library call's arguments, were not understood. */
export class UsageError extends FdscanError {
  static { crossesThreads(this); }
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

/** A reading given a time limit (a metrics scrape's) did not finish within it. */
export class TimeLimitExceeded extends FdscanError {
  static { crossesThreads(this); }
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

/** What crosses a thread boundary: enough to rebuild the error, with its class, on the other side. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** An FdscanError: one of a class this side does not know is still rebuilt as an FdscanError. */
  typed: boolean;
  /** Its own enumerable fields (code, pid, call, errno, status, ...) that a structured clone can carry. */
  fields: Record<string, unknown>;
  cause?: SerializedError;
}

/** An error as plain data (structured clone keeps no classes); its cause too, a few levels deep. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), typed: false, fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    try {
      fields[key] = structuredClone(value);
    } catch { /* a function or a handle: it cannot cross, and postMessage would throw for all */ }
  }
  const data: SerializedError = { name: error.name, message: error.message, stack: error.stack, typed: error instanceof FdscanError, fields };
  if (error.cause !== undefined && depth < 4) data.cause = serializeError(error.cause, depth + 1);
  return data;
}

/**
 * The error back from `serializeError`: of its class, with its fields, when the class joined
 * (crossesThreads), else a FdscanError; a bug on the other side stays a plain Error with its
 * message and stack only.
 */
export function deserializeError(data: SerializedError): Error {
  const known = threadClasses.get(data.name) ?? (data.typed ? FdscanError : undefined);
  // Error's own constructor with the class as new.target: a real Error of that class, whose
  // constructor (with its own arguments and message) is not run; the fields are put back instead.
  const error = Reflect.construct(Error, [data.message], known ?? Error) as Error;
  if (known) Object.assign(error, data.fields);
  if (data.stack) error.stack = data.stack;
  if (data.cause) Object.defineProperty(error, 'cause', { value: deserializeError(data.cause), writable: true, configurable: true });
  return error;
}
