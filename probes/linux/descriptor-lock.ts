/**
 * One lock, shared by every tracer thread of the process, between spawning a command and calling
 * the unwinders. Why: libdw and libunwind open files without O_CLOEXEC (native-stack.ts marks them
 * close-on-exec right after each call), so a command spawned by another thread during that call
 * would inherit them. Two traces at once in one process (the library, a test suite) otherwise leak
 * fdscan's own files into each other's commands.
 */

/** The lock: one Int32 in shared memory (0 free, 1 held), made once by the main thread (tracer.ts). */
export type DescriptorLock = Int32Array;

/** A new lock, for tracer.ts. */
export function newDescriptorLock(): DescriptorLock {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Run `body` holding `lock` (none: unlocked). */
export function withDescriptorLock<T>(lock: DescriptorLock | undefined, body: () => T): T {
  if (!lock) return body();
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1, 50);
  try {
    return body();
  } finally {
    Atomics.store(lock, 0, 0);
    Atomics.notify(lock, 0, 1);
  }
}
