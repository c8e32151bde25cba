/** test/fixtures/hold-near-limit.py: a process holding a known number of descriptors under a soft limit of its choosing. */
import { startFixture, type FixtureOptions, type RunningFixture } from './fixture.js';

/** Its manifest, found with fcntl and fstat in the process itself, not from /proc. */
export interface NearLimit {
  pid: number;
  soft: number;
  hard: number;
  open: number;
  inheritable: number;
  byType: Record<string, number>;
  comm: string;
}

/** Hold `open` descriptors under a soft limit of `soft`; `name` becomes its comm; with `growMs` it opens one more every so often. */
export function startNearLimit(soft: number, open: number, name = '', growMs?: number, options: FixtureOptions = {}): Promise<RunningFixture<NearLimit>> {
  return startFixture<NearLimit>('hold-near-limit.py', [String(soft), String(open), name, ...(growMs ? [String(growMs)] : [])], options);
}
