/**
 * A worker thread's entry for test/errors-across-threads.test.ts: builds the error it is told to
 * (an exported class of a dist module, with its arguments), throws it, and posts it as every
 * fdscan thread does (serializeError).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../../src/errors.js';

/** What to throw: `new (import(moduleUrl)[exportName])(...args)`, a cause appended as its options when given. */
export interface ThrowRequest {
  moduleUrl: string;
  exportName: string;
  args: unknown[];
  /** The message of a plain Error given as `{ cause }` after the arguments. */
  cause?: string;
}

const request = workerData as ThrowRequest;
try {
  const errorClass = (await import(request.moduleUrl) as Record<string, new (...args: unknown[]) => Error>)[request.exportName]!;
  const args = request.cause === undefined ? request.args : [...request.args, { cause: new Error(request.cause) }];
  throw new errorClass(...args);
} catch (error) {
  parentPort!.postMessage(serializeError(error));
}
