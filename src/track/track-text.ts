/** The message of DescriptorLeakError: what trackDescriptors found, as a test runner prints it. */
import type { TrackResult } from './track-result.js';
import { describeDescriptor, escapeText } from '../render/text.js';

/** `fn leaked [1, 1, 1] file descriptors` and one line per descriptor left open, names escaped. */
export function renderTrackResult(result: TrackResult, name?: string): string {
  const lines = [`${name === undefined ? 'the function' : escapeText(name)} leaked [${result.leakedPerRun.join(', ')}] file descriptors`];
  for (const run of result.runs) {
    for (const d of run.leaked) lines.push(`  run ${run.run}: ${describeDescriptor(d)}${d.inheritable ? ' (inheritable)' : ''}`);
  }
  return lines.join('\n');
}
