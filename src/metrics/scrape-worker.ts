/**
 * A reading thread of `fdscan serve`: the probe's reads are synchronous, so each reading runs
 * here, off the thread that answers HTTP. It takes `{id, deadline}` and answers `{id, reading}`
 * or `{id, error}` (a serialized error, rebuilt with its class by the server).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import { collectMetrics, type MetricsOptions } from './collect.js';

export interface ReadingRequest {
  id: number;
  deadline: number;
}

const options = workerData as MetricsOptions;
parentPort!.on('message', (request: ReadingRequest) => {
  try {
    parentPort!.postMessage({ id: request.id, reading: collectMetrics({ ...options, deadline: request.deadline }) });
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: serializeError(error) });
  }
});
