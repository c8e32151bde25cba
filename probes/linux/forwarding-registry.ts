/**
 * The pidfds of the traced tree's live processes, shared by the tracer thread (which adds and
 * removes them) and the main thread (which forwards signals to them), with no message per process.
 *
 * Why a lock: the main thread must never send to a pidfd the tracer has closed (the number could
 * name another file by then), and a process registered while a signal is being forwarded must get
 * it exactly once: either the forwarding sees its slot, or the registration sees the signal's count.
 * Both sides hold the lock only for a few syscalls; the tracer never waits for a tracee while holding it.
 */

const LOCK = 0;
const USED = 1;
const COUNTS = 2;
const SIGNALS = 65;
const SLOTS = COUNTS + SIGNALS;
const FREE = -1;
/** A slot holds a pidfd (>= 0), FREE, or a bare pid as -(pid + 2) when no pidfd could be spared. */
const pidEntry = (pid: number): number => -(pid + 2);
const MAX_BYTES = 64 * 1024 * 1024;

/** A growable SharedArrayBuffer (ES2024, in Node 20; this project's TypeScript lib predates it). */
interface GrowableBuffer extends SharedArrayBuffer {
  grow(byteLength: number): void;
}
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => GrowableBuffer;

/** Create the shared memory (one per trace) to hand to both threads. */
export function newRegistryBuffer(): SharedArrayBuffer {
  return new GrowableSharedArrayBuffer(SLOTS * 4, { maxByteLength: MAX_BYTES });
}

/** One side's view of the registry: Int32 lock, slots in use, a count per signal, then one pidfd per slot. */
export class ForwardingRegistry {
  private readonly words: Int32Array;
  /** Tracer side: free slot indexes, to reuse before growing. */
  private readonly free: number[] = [];

  constructor(private readonly buffer: SharedArrayBuffer) {
    // Length-tracking: the view grows with the buffer.
    this.words = new Int32Array(buffer);
  }

  /**
   * Main thread: count `signo` as forwarded, then send it to every registered process: through its
   * pidfd, or by pid for the few registered without one (see addPid).
   */
  forward(signo: number, send: (pidfd: number, signo: number) => void, sendToPid: (pid: number, signo: number) => void): void {
    Atomics.add(this.words, COUNTS + signo, 1);
    this.locked(() => {
      for (let i = SLOTS; i < SLOTS + this.words[USED]!; i++) {
        const entry = this.words[i]!;
        if (entry >= 0) send(entry, signo);
        else if (entry !== FREE) sendToPid(-entry - 2, signo);
      }
    });
  }

  /** Signal numbers forwarded at least once so far. */
  forwardedSignals(): number[] {
    const signals: number[] = [];
    for (let signo = 1; signo < SIGNALS; signo++) if (Atomics.load(this.words, COUNTS + signo) > 0) signals.push(signo);
    return signals;
  }

  /**
   * Tracer thread: add `pidfd` (no slot when it is negative) and, under the same lock, let
   * `catchUp` deliver what was forwarded before (see forwardedSignals). Returns the slot.
   */
  add(pidfd: number, catchUp: () => void): number | undefined {
    return this.locked(() => {
      let slot: number | undefined;
      if (pidfd >= 0) {
        slot = this.free.pop() ?? this.grow();
        Atomics.store(this.words, SLOTS + slot, pidfd);
      }
      catchUp();
      return slot;
    });
  }

  /**
   * Tracer thread: register a process by pid when fdscan cannot spare a descriptor for its pidfd.
   * The tracer reaps it, so its pid stays its own until the tracer removes the slot; a signal
   * forwarded in the instant between the reap and the removal could reach a new process that
   * got the same pid, which needs the pid space to wrap around in that instant.
   */
  addPid(pid: number, catchUp: () => void): number {
    return this.locked(() => {
      const slot = this.free.pop() ?? this.grow();
      Atomics.store(this.words, SLOTS + slot, pidEntry(pid));
      catchUp();
      return slot;
    });
  }

  /** Tracer thread: the slot's process is gone; returns its pidfd for the caller to close (-1: none). */
  remove(slot: number): number {
    return this.locked(() => {
      const entry = Atomics.exchange(this.words, SLOTS + slot, FREE);
      this.free.push(slot);
      return entry >= 0 ? entry : -1;
    });
  }

  /** Pidfds still registered (after the trace, when the tracer thread is gone). */
  remaining(): number[] {
    const pidfds: number[] = [];
    for (let i = SLOTS; i < SLOTS + this.words[USED]!; i++) if (this.words[i]! >= 0) pidfds.push(this.words[i]!);
    return pidfds;
  }

  private grow(): number {
    const slot = this.words[USED]!;
    const needed = (SLOTS + slot + 1) * 4;
    if (needed > this.buffer.byteLength) (this.buffer as GrowableBuffer).grow(Math.min(MAX_BYTES, Math.max(needed, this.buffer.byteLength * 2)));
    Atomics.store(this.words, SLOTS + slot, FREE);
    Atomics.store(this.words, USED, slot + 1);
    return slot;
  }

  private locked<T>(body: () => T): T {
    while (Atomics.compareExchange(this.words, LOCK, 0, 1) !== 0) Atomics.wait(this.words, LOCK, 1);
    try {
      return body();
    } finally {
      Atomics.store(this.words, LOCK, 0);
      Atomics.notify(this.words, LOCK);
    }
  }
}
