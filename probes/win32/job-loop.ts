/**
 * The sampled Windows tracer: a job object with a completion port. The root is created suspended,
 * put in the job, read, then resumed; every process created in the job after it is announced by
 * JOB_OBJECT_MSG_NEW_PROCESS, but only after it has started running, so its table is read late
 * (`sampled`, never exact): a process may have closed what it received, or exited, before it is
 * read (then its exec is unverified). A process created with CREATE_BREAKAWAY_FROM_JOB leaves the
 * job and is not seen. No debugger is involved: IsDebuggerPresent() stays false.
 */
import type { Handle } from './types.js';
import {
  JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS, JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO, JOB_OBJECT_MSG_EXIT_PROCESS, JOB_OBJECT_MSG_NEW_PROCESS,
  PROCESS_DUP_HANDLE, PROCESS_QUERY_INFORMATION, PROCESS_VM_READ, SYNCHRONIZE, STILL_ACTIVE,
  assignProcessToJobObject, associateCompletionPort, closeHandle, createIoCompletionPort, createJobObjectW, getExitCodeProcess,
  getQueuedCompletionStatus, lastError, openProcess, resumeThread, terminateProcess,
} from './kernel32.js';
import { creatorOf } from './ntdll.js';
import type { Started } from './debug-loop.js';
import { OsError } from '../../src/probe-kit/index.js';

const POLL_MS = 200;

/** What the loop tells its caller. */
export interface JobHooks {
  /** The root is in the job and still suspended: read it now. */
  rootHeld(): void;
  /** A process joined the job (it is running); `process` is undefined when it could not be opened (gone, or denied). */
  created(pid: number, creator: number, process: Handle | undefined, why?: string): void;
  exited(pid: number, code: number | undefined): void;
  terminateRequested(): boolean;
}

/** Run the job until no process is left in it; returns the root's exit code. */
export function runJobLoop(root: Started, hooks: JobHooks): number {
  const job = createJobObjectW();
  const port = createIoCompletionPort();
  if (!job || !port || !associateCompletionPort(job, port)) throw new OsError('CreateJobObjectW/CreateIoCompletionPort', `Windows error ${lastError()}`);
  const handles = new Map<number, Handle>([[root.pid, root.process]]);
  try {
    if (!assignProcessToJobObject(job, root.process)) {
      const error = lastError();
      terminateProcess(root.process, 1);
      throw new OsError('AssignProcessToJobObject', `Windows error ${error}`);
    }
    hooks.rootHeld();
    resumeThread(root.thread);
    let terminating = false;
    for (;;) {
      if (!terminating && hooks.terminateRequested()) {
        terminating = true;
        for (const process of handles.values()) terminateProcess(process, 1);
      }
      const message: [number] = [0];
      const key: [number | bigint] = [0];
      const id: [number | bigint] = [0];
      if (!getQueuedCompletionStatus(port, message, key, id, POLL_MS)) continue;
      const pid = Number(id[0]);
      if (message[0] === JOB_OBJECT_MSG_NEW_PROCESS && pid !== root.pid) {
        const process = openProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | SYNCHRONIZE, false, pid);
        if (process) handles.set(pid, process);
        const creator = process ? creatorOf(process) ?? 0 : 0;
        hooks.created(pid, creator, process ?? undefined, process ? undefined : `OpenProcess: error ${lastError()}`);
      } else if (message[0] === JOB_OBJECT_MSG_EXIT_PROCESS || message[0] === JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS) {
        const process = handles.get(pid);
        const code: [number] = [0];
        const known = process !== undefined && getExitCodeProcess(process, code) && code[0] !== STILL_ACTIVE;
        hooks.exited(pid, known ? code[0] : undefined);
        if (process !== undefined && pid !== root.pid) { closeHandle(process); handles.delete(pid); }
      } else if (message[0] === JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO) {
        break;
      }
    }
    const code: [number] = [0];
    getExitCodeProcess(root.process, code);
    return code[0];
  } finally {
    for (const [pid, process] of handles) if (pid !== root.pid) closeHandle(process);
    closeHandle(root.thread);
    closeHandle(root.process);
    closeHandle(port);
    closeHandle(job);
  }
}
