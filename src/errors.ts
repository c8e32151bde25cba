/** Typed errors of fdscan, each with a stable `code` that scripts may test. */
import { constants } from 'node:os';

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

/** No probe exists for this operating system. */
export class UnsupportedPlatform extends FdscanError {
  constructor(platform: string) {
    super('EUNSUPPORTED', `fdscan has no probe for platform '${platform}' (supported: linux, darwin, win32)`);
  }
}

/** Text from the kernel did not have the expected form. */
export class ParseError extends FdscanError {
  constructor(what: string, detail: string) {
    super('EPARSE', `cannot parse ${what}: ${detail}`);
  }
}

/** The command line was not understood. */
export class UsageError extends FdscanError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** `EPERM` for 1, and so on; the number as text when unknown. */
export function osErrorName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** Narrow an unknown error to a Node system error with `code`. */
export function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
