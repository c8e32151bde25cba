/**
 * The probe of the running operating system, chosen once at import. Only that platform's module
 * is loaded: the other probes would cost start-up time (~16 ms on Linux) for nothing.
 */
import type { Probe } from './probe-contract.js';
import { UnsupportedPlatform } from './errors.js';

const LOADERS: Partial<Record<NodeJS.Platform, () => Promise<{ default: Probe }>>> = {
  linux: () => import('../probes/linux/index.js'),
  win32: () => import('../probes/win32/index.js'),
  darwin: () => import('../probes/darwin/index.js'),
};

const load = LOADERS[process.platform];
const current: Probe | undefined = load ? (await load()).default : undefined;

/** This platform's probe; UnsupportedPlatform where fdscan has none. */
export function probeFor(): Probe {
  if (!current) throw new UnsupportedPlatform(process.platform);
  return current;
}
