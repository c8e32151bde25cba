/**
 * The probe of the running operating system, chosen once at import, as psutil chooses its backend.
 * Only that platform's module is loaded: the other probes would cost start-up time (~16 ms on
 * Linux) for nothing.
 */
import { createRequire } from 'node:module';
import type { Probe } from '../probe-kit/contract.js';
import { UnsupportedPlatform } from '../errors.js';

/**
 * Loaded with require (Node 20.19+ and 22.12+ require ES modules: hence the engines field), not a top-level `await import()`: a module
 * with a top-level await cannot be required, and `require('fdscan')` from a CommonJS project failed
 * with ERR_REQUIRE_ASYNC_MODULE. Each path is a literal so that bin/bundle.js can bundle the probes
 * (it turns `requireProbe(` into esbuild's `require(`).
 */
const requireProbe = createRequire(import.meta.url);

const LOADERS: Partial<Record<NodeJS.Platform, () => { default: Probe }>> = {
  linux: () => requireProbe('../../probes/linux/index.js'),
  win32: () => requireProbe('../../probes/win32/index.js'),
  darwin: () => requireProbe('../../probes/darwin/index.js'),
};

const load = LOADERS[process.platform];
const current: Probe | undefined = load?.().default;

/** This platform's probe; UnsupportedPlatform where fdscan has none. */
export function probeFor(): Probe {
  if (!current) throw new UnsupportedPlatform(process.platform);
  return current;
}
