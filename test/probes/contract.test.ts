/**
 * The probe contract as every probe keeps it: an optional member is present exactly when its
 * capability says so. Importing the darwin and win32 probes here loads none of their native
 * libraries (they bind on first call), so this runs on every OS.
 */
import test from 'ava';
import type { Probe } from '../../src/probe-contract.js';

const OPTIONAL: Array<[keyof Probe['capabilities'], Array<keyof Probe>]> = [
  ['sameOpenFile', ['sameOpenFile']],
  ['remedy', ['markAllNonInheritable']],
  ['tracer', ['tracer']],
  ['limits', ['descriptorLimits']],
  ['tally', ['tallyDescriptors']],
  ['userNames', ['userName', 'userId']],
  ['jobControl', ['jobControl']],
  ['passingOnly', ['startPassingOnly']],
  ['origins', ['watchOrigins']],
];

for (const platform of ['linux', 'darwin', 'win32']) {
  test(`${platform}: each optional member is present exactly when its capability is declared`, async (t) => {
    const probe = (await import(`../../probes/${platform}/index.js`) as { default: Probe }).default;
    for (const [capability, members] of OPTIONAL) {
      for (const member of members) t.is(probe[member] !== undefined, probe.capabilities[capability], `${capability} / ${member}`);
    }
  });
}
