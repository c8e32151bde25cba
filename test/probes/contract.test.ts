/**
 * The probe contract as every probe keeps it: an optional member is present exactly when its
 * capability says so. Importing the darwin and win32 probes here loads none of their native
 * libraries (they bind on first call), so this runs on every OS.
 */
import test from 'ava';
import { withCapabilities, type DeclaredCapabilities, type Probe, type ProbeDefinition } from '../../src/probe-kit/contract.js';
import { NoSuchProcess } from '../../src/errors.js';

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
  test(`${platform}: each optional member is present exactly when its capability says so`, async (t) => {
    const probe = (await import(`../../probes/${platform}/index.js`) as { default: Probe }).default;
    for (const [capability, members] of OPTIONAL) {
      for (const member of members) t.is(probe[member] !== undefined, probe.capabilities[capability], `${capability} / ${member}`);
    }
  });
}

const DECLARED: DeclaredCapabilities = {
  inheritable: true, offset: false, access: true, flags: false, sockets: true, peers: false,
  deleted: true, watches: false, kernelThread: true, thread: false, allProcesses: true,
};

/** A probe of no platform: the required members only, none of them called. */
function bare(): ProbeDefinition {
  const never = (): never => { throw new Error('not called'); };
  return { name: 'bare', platform: 'linux', capabilities: (Object.keys(DECLARED) as Array<keyof DeclaredCapabilities>).filter((k) => DECLARED[k]), descriptorTypes: [], listDescriptors: never, listDescriptorsOfMany: never, countDescriptors: never, processInfo: never, listPids: never };
}

test('withCapabilities: each presence flag follows its members (every one of them), the declared flags stay as given', (t) => {
  const none = withCapabilities(bare());
  t.like(none.capabilities, DECLARED);
  for (const [capability] of OPTIONAL) t.false(none.capabilities[capability], capability);
  const all = withCapabilities({ ...bare(), sameOpenFile: () => true, descriptorLimits: () => undefined, userName: () => 'root', userId: () => 0 });
  t.like(all.capabilities, { ...DECLARED, sameOpenFile: true, limits: true, userNames: true, tracer: false, remedy: false });
  t.false(withCapabilities({ ...bare(), userName: () => 'root' }).capabilities.userNames, 'one of the two user members is not the capability');
  t.is(typeof all.userId, 'function', 'the members are kept');
});

test('withCapabilities: a declared flag left out is false, and a probe without listDescriptorsOfMany reads each pid through listDescriptors', (t) => {
  const read: number[] = [];
  const probe = withCapabilities({
    ...bare(), capabilities: ['inheritable'], listDescriptorsOfMany: undefined,
    listDescriptors: (pid: number) => {
      read.push(pid);
      if (pid === 2) throw new NoSuchProcess(2);
      return { pid, command: 'x', platform: 'linux', fds: [], errors: [] };
    },
  });
  t.like(probe.capabilities, { inheritable: true, offset: false, peers: false, allProcesses: false });
  const outcomes = probe.listDescriptorsOfMany([1, 2]);
  t.deepEqual(read, [1, 2]);
  t.is(outcomes[0]?.audit?.pid, 1);
  t.true(outcomes[1]?.error instanceof NoSuchProcess);
});
