/** Chooses the probe for this operating system, once. Probes bind native code lazily, so
 * importing all of them is harmless on any OS. */
import type { Probe } from './probe-contract.js';
import { UnsupportedPlatform } from './errors.js';
import linuxProbe from '../probes/linux/index.js';
import win32Probe from '../probes/win32/index.js';
import darwinProbe from '../probes/darwin/index.js';

const PROBES: Partial<Record<NodeJS.Platform, Probe>> = {
  linux: linuxProbe,
  win32: win32Probe,
  darwin: darwinProbe,
};

/** The probe of `platform` (default: this one); UnsupportedPlatform where there is none. */
export function probeFor(platform: NodeJS.Platform = process.platform): Probe {
  const probe = PROBES[platform];
  if (!probe) throw new UnsupportedPlatform(platform);
  return probe;
}
