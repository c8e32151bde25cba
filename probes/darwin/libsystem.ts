/**
 * libSystem calls fdscan makes on macOS besides libproc's, bound on first call. They return 0 or
 * -1 with errno set; `errno()` (libproc.ts) right after the call reads it.
 */
import { lazyLibrary } from '../native-library.js';

const fn = lazyLibrary<number>((k) => k.load('/usr/lib/libSystem.B.dylib'));

/** RLIMIT_NOFILE of <sys/resource.h> on macOS (8; Linux's is 7). */
export const RLIMIT_NOFILE = 8;
/** RLIM_INFINITY of <sys/resource.h>: (1 << 63) - 1. */
export const RLIM_INFINITY = (1n << 63n) - 1n;

/** getrlimit(2) into `into`: struct rlimit, two rlim_t (uint64_t): rlim_cur then rlim_max. */
export const getrlimit = (resource: number, into: Buffer): number =>
  fn('int getrlimit(int resource, _Out_ void *rlp)')(resource, into);
