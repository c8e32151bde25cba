/** The library forms of the fleet commands: descriptorLimits, topProcesses, openMetrics, selectProcesses. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { UsageError, descriptorLimits, openMetrics, selectProcesses, topProcesses } from '../../src/index.js';
import { fixtureOwner, type RunningFixture } from '../helpers/fixture.js';
import { parseExposition, valueOf } from '../helpers/exposition.js';
import { startNearLimit, type NearLimit } from '../helpers/near-limit.js';
import { procTruth } from '../helpers/proc-truth.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
const name = `fdl${randomBytes(3).toString('hex')}`;
let fixture: RunningFixture<NearLimit>;

test.before(async () => {
  if (process.platform === 'linux') fixture = await startNearLimit(50, 45, name);
});
test.after.always(async () => fixture?.stop());

linux('selectProcesses, descriptorLimits, topProcesses and openMetrics agree with /proc', (t) => {
  t.deepEqual(selectProcesses({ command: `^${name}$` }).pids, [fixture.pid]);
  t.deepEqual(selectProcesses({ command: name, user: fixtureOwner.username }).pids, [fixture.pid]);
  t.deepEqual(selectProcesses({ pids: [fixture.pid], user: 1 }).pids, []);
  t.deepEqual(descriptorLimits(fixture.pid), { soft: 50, hard: fixture.manifest.hard });
  const truth = procTruth(fixture.pid);
  const top = topProcesses({ command: `^${name}$` });
  t.like(top.processes[0], { pid: fixture.pid, command: name, open: truth.open, inheritable: truth.inheritable, usage: 0.9 });
  const text = openMetrics({ pids: [fixture.pid] });
  t.true(text.endsWith('# EOF\n'));
  t.is(valueOf(parseExposition(text), 'fdscan_process_open_fds', { pid: String(fixture.pid), command: name }), truth.open);
  t.is(valueOf(parseExposition(text), 'fdscan_process_max_fds', { pid: String(fixture.pid) }), 50);
});

test('bad options are UsageErrors', (t) => {
  t.throws(() => selectProcesses({ command: '(' }), { instanceOf: UsageError });
  t.throws(() => selectProcesses({ user: 'no-such-user-fdscan' }), { instanceOf: UsageError });
  t.throws(() => selectProcesses({ pids: [1], all: true }), { instanceOf: UsageError });
  t.throws(() => topProcesses({ sort: 'size' as never }), { instanceOf: UsageError });
  t.throws(() => topProcesses({ limit: -1 }), { instanceOf: UsageError });
  t.throws(() => descriptorLimits(0), { instanceOf: UsageError });
});
