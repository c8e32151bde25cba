/**
 * `run --close-fds` on Windows: CreateProcessW with EXTENDED_STARTUPINFO_PRESENT and
 * PROC_THREAD_ATTRIBUTE_HANDLE_LIST naming the standard handles and the kept ones, so that the
 * command receives exactly those even though bInheritHandles is TRUE (every other inheritable
 * handle of fdscan stays where it is, not passed). Nothing of fdscan's own is changed.
 */
import type { StartedCommand } from '../../src/probe-kit/index.js';
import { startProcess } from './debug-loop.js';
import { STILL_ACTIVE, closeHandle, getExitCodeProcess, terminateProcess } from './kernel32.js';

/** Start `argv` receiving only its standard handles and `keep`; the caller polls for its exit. */
export function startPassingOnly(argv: readonly Uint8Array[], env: readonly Uint8Array[], keep: readonly number[]): StartedCommand {
  const started = startProcess({ argv, env, debug: false, onlyHandles: keep });
  closeHandle(started.thread);
  let exitCode: number | undefined;
  return {
    pid: started.pid,
    poll() {
      if (exitCode !== undefined) return exitCode;
      const code: [number] = [0];
      if (getExitCodeProcess(started.process, code) && code[0] !== STILL_ACTIVE) {
        exitCode = code[0];
        closeHandle(started.process);
      }
      return exitCode;
    },
    terminate(code) {
      if (exitCode === undefined) terminateProcess(started.process, code);
    },
  };
}
