/**
 * The name helper: a short-lived node process that describes File handles of another process.
 *
 * Reads `{"pid":N,"handles":[h,...]}` on stdin; for each handle duplicates it from pid, describes
 * it (file-objects.ts) and writes one JSON line at once, so the parent keeps every answer given
 * before a query hung and the helper was killed. Run by file-names.ts with a timeout.
 */
import { readFileSync, writeSync } from 'node:fs';
import { describeFileObject } from './file-objects.js';
import {
  DUPLICATE_SAME_ACCESS, ERROR_INVALID_HANDLE, PROCESS_DUP_HANDLE, closeHandle, duplicateHandle,
  getCurrentProcess, lastError, openProcess,
} from './kernel32.js';

interface Request {
  pid: number;
  handles: number[];
}

function main(): void {
  const request = JSON.parse(readFileSync(0, 'utf8')) as Request;
  const source = openProcess(PROCESS_DUP_HANDLE, false, request.pid);
  if (!source) {
    emit({ fatal: `OpenProcess: error ${lastError()}` });
    return;
  }
  const self = getCurrentProcess();
  try {
    for (const handle of request.handles) {
      const copy: [bigint | null] = [null];
      if (!duplicateHandle(source, BigInt(handle), self, copy, 0, false, DUPLICATE_SAME_ACCESS) || !copy[0]) {
        const error = lastError();
        emit(error === ERROR_INVALID_HANDLE ? { handle, closed: true } : { handle, error: `DuplicateHandle: error ${error}` });
        continue;
      }
      emit({ handle, started: true }); // so a hang is blamed on the right handle
      try {
        emit(describeFileObject(handle, copy[0]));
      } catch (error) {
        emit({ handle, error: (error as Error).message });
      } finally {
        closeHandle(copy[0]);
      }
    }
  } finally {
    closeHandle(source);
  }
}

/** One line, written synchronously: the parent may kill us at any moment. */
function emit(value: object): void {
  writeSync(1, `${JSON.stringify(value)}\n`);
}

main();
