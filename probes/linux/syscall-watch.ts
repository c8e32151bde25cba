/**
 * The live origin watcher (`fdscan watch PID --origins`): a thread of its own (syscall-watch-worker.ts)
 * follows every thread of a running process with ptrace and tells this side, as they happen, the
 * call, flags and stack that made each descriptor; stop() detaches and resolves once the process
 * is left as it was.
 */
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import {
  FdscanError, deserializeError, type Descriptor, type OriginWatch, type DescriptorOrigin,
  type OriginCall,
} from '../../src/probe-kit/index.js';
import type { SyscallWatchMessage, SyscallWatchRequest } from './syscall-watch-worker.js';

// node:worker_threads loads Node's streams: required when a watch starts, not by every audit.
const require = createRequire(import.meta.url);

/** Follow `pid` until stop(); see OriginWatch. */
export function watchLinuxOrigins(pid: number): OriginWatch {
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const control = new SharedArrayBuffer(4);
  const request: SyscallWatchRequest = { pid, control };
  const worker: Worker = new threads.Worker(new URL('./syscall-watch-worker.js', import.meta.url), {
    workerData: request, env: threads.SHARE_ENV, resourceLimits: { maxYoungGenerationSizeMb: 2 },
  });
  /** The last call that made each descriptor number, with the inode it then had. */
  const made = new Map<number, { inode?: number; origin: OriginCall & { madeInheritable?: OriginCall } }>();
  let held = new Set<string>();
  let onAttached: { resolve: () => void; reject: (e: Error) => void };
  const attached = new Promise<void>((resolve, reject) => { onAttached = { resolve, reject }; });
  const detached = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: SyscallWatchMessage) => {
      switch (message.type) {
        case 'attached':
          held = new Set(message.held.map(([fd, inode]) => `${fd}|${inode}`));
          onAttached.resolve();
          break;
        case 'made':
          made.set(message.fd, { inode: message.inode, origin: message.call });
          break;
        case 'inheritable': {
          const record = made.get(message.fd);
          if (record && message.inheritable) record.origin.madeInheritable = message.call;
          else if (record) delete record.origin.madeInheritable;
          break;
        }
        case 'detached':
          resolve();
          break;
        case 'error': {
          const error = deserializeError(message.error);
          onAttached.reject(error);
          reject(error);
        }
      }
    });
    worker.once('error', (error) => { onAttached.reject(error); reject(error); });
    worker.once('exit', (code) => {
      const error = new FdscanError('ETRACE', `origin watcher thread ended (code ${code}) before it detached`);
      onAttached.reject(error);
      reject(error);
    });
  });
  // Whoever awaits only one of the two must not see the other's rejection as unhandled.
  attached.catch(() => undefined);
  detached.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    attached,
    originOf(d: Descriptor): DescriptorOrigin {
      const record = made.get(d.fd);
      if (record && (record.inode === undefined || d.inode === undefined || record.inode === d.inode)) return record.origin;
      return { unknown: held.has(`${d.fd}|${d.inode}`) ? 'before-attach' : 'unseen' };
    },
    stop() {
      stopping ??= (async () => {
        const word = new Int32Array(control);
        Atomics.store(word, 0, 1);
        Atomics.notify(word, 0);
        try {
          await detached;
        } finally {
          await worker.terminate();
        }
      })();
      return stopping;
    },
  };
}
