/**
 * Runs the name helper (name-helper.ts) for the File handles of one process, off the main thread
 * and with a timeout: a query of a synchronous pipe with a pending read can block forever, and a
 * blocked thread cannot be abandoned inside node (worker threads are joined at exit), but a helper
 * process can be killed. A handle whose query hangs is reported with an error and the helper is
 * started again for the handles after it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FileObjectFacts } from './file-objects.js';

const HELPER = fileURLToPath(new URL('./name-helper.js', import.meta.url));

/** Milliseconds one helper run may take before it is killed (node start-up included). */
export const HELPER_TIMEOUT_MS = Number(process.env.FDSCAN_WIN32_NAME_TIMEOUT_MS) || 10_000;
const MAX_RUNS = 4;

export type FileAnswer = FileObjectFacts | { handle: number; closed: true } | { handle: number; error: string };

export interface FileNames {
  answers: Map<number, FileAnswer>;
  /** Problems of the helper itself (could not start, could not open the process). */
  problems: string[];
}

/** Describe `handles` of `pid` through the helper; every handle gets an answer or an error. */
export function describeFileHandles(pid: number, handles: number[]): FileNames {
  const answers = new Map<number, FileAnswer>();
  const problems: string[] = [];
  let remaining = handles;
  for (let run = 0; run < MAX_RUNS && remaining.length > 0; run++) {
    const result = spawnSync(process.execPath, [HELPER], {
      input: JSON.stringify({ pid, handles: remaining }),
      encoding: 'utf8',
      timeout: HELPER_TIMEOUT_MS,
      windowsHide: true,
      maxBuffer: 64 * 1024 * 1024,
    });
    let started: number | undefined;
    for (const line of String(result.stdout ?? '').split('\n')) {
      if (!line.trim()) continue;
      let message: Record<string, unknown>;
      try { message = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
      if (typeof message.fatal === 'string') problems.push(`name helper: ${message.fatal}`);
      if (typeof message.handle !== 'number') continue;
      if (message.started) { started = message.handle; continue; }
      answers.set(message.handle, message as unknown as FileAnswer);
      started = undefined;
    }
    const timedOut = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    if (timedOut && started !== undefined) {
      answers.set(started, { handle: started, error: `name query timed out after ${HELPER_TIMEOUT_MS} ms (a synchronous pipe with a pending read?)` });
    } else if (result.error || result.status !== 0) {
      const why = result.error ? result.error.message : `exit ${result.status}: ${String(result.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`;
      problems.push(`name helper failed (${why})`);
      break;
    }
    remaining = remaining.filter((h) => !answers.has(h));
  }
  for (const handle of remaining) {
    if (!answers.has(handle)) answers.set(handle, { handle, error: 'not described: the name helper did not answer' });
  }
  return { answers, problems };
}
