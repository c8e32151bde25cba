/**
 * The Linux probe's fleet members on real processes: descriptor limits from /proc/PID/limits,
 * tallies by inheritability and type, user names through libc; and the /proc/PID/limits parser on
 * hostile text.
 */
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { AccessDenied, NoSuchProcess, ParseError, descriptorLimits, listDescriptors, tallyDescriptors, TimeLimitExceeded } from '../../../src/index.js';
import { parseLimits } from '../../../probes/linux/limits.js';
import { linuxUserId, linuxUserName } from '../../../probes/linux/users.js';
import { startNearLimit } from '../../helpers/near-limit.js';
import { procLimits, procTruth } from '../../helpers/proc-truth.js';
import { createOtherUser, otherUserUnavailable } from '../../helpers/other-user.js';

const linux = process.platform === 'linux' ? test : test.skip;
const noOtherUser = otherUserUnavailable();

const HEADER = 'Limit                     Soft Limit           Hard Limit           Units     \n';
const line = (name: string, soft: string, hard: string, units: string): string =>
  `${name.padEnd(25)} ${soft.padEnd(20)} ${hard.padEnd(20)} ${units.padEnd(10)}\n`;

test('parseLimits reads the open-files line, unlimited as null, and nothing else', (t) => {
  const text = HEADER + line('Max cpu time', 'unlimited', 'unlimited', 'seconds') + line('Max open files', '50', '524288', 'files')
    + line('Max locked memory', '8388608', '8388608', 'bytes');
  t.deepEqual(parseLimits(text), { soft: 50, hard: 524288 });
  t.deepEqual(parseLimits(HEADER + line('Max open files', 'unlimited', 'unlimited', 'files')), { soft: null, hard: null });
  t.throws(() => parseLimits(HEADER + line('Max processes', '50', '50', 'processes')), { instanceOf: ParseError });
  t.throws(() => parseLimits(''), { instanceOf: ParseError });
});

test('parseLimits on random and mutated text throws only ParseError, and valid lines round-trip', (t) => {
  const real = HEADER + line('Max open files', '1024', '4096', 'files');
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.nat(real.length), (noise, at) => {
    for (const text of [noise, real.slice(0, at) + noise + real.slice(at)]) {
      try {
        parseLimits(text);
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
      }
    }
  }), { numRuns: 400 });
  const limit = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 ** 31 }));
  fc.assert(fc.property(limit, limit, (soft, hard) => {
    const text = HEADER + line('Max open files', String(soft ?? 'unlimited'), String(hard ?? 'unlimited'), 'files');
    const parsed = parseLimits(text);
    return parsed.soft === soft && parsed.hard === hard;
  }), { numRuns: 200 });
  t.pass();
});

linux('descriptorLimits and the audit give a process\'s soft and hard limits as /proc and the process say', async (t) => {
  const fixture = await startNearLimit(50, 45);
  try {
    const truth = procTruth(fixture.pid);
    t.deepEqual(descriptorLimits(fixture.pid), { soft: 50, hard: fixture.manifest.hard });
    t.deepEqual(descriptorLimits(fixture.pid), { soft: truth.soft, hard: truth.hard });
    t.deepEqual(listDescriptors(fixture.pid, { peers: false }).limits, { soft: 50, hard: fixture.manifest.hard });
    t.deepEqual(descriptorLimits(), procLimits(process.pid));
  } finally {
    await fixture.stop();
  }
  t.throws(() => descriptorLimits(fixture.pid), { instanceOf: NoSuchProcess });
});

linux('tallyDescriptors counts open, inheritable and per type exactly as the process and /proc say', async (t) => {
  const fixture = await startNearLimit(200, 120);
  try {
    const m = fixture.manifest;
    const tally = tallyDescriptors(fixture.pid, { inheritable: true, types: true });
    t.is(tally.open, m.open);
    t.is(tally.inheritable, m.inheritable);
    t.deepEqual(tally.byType, m.byType);
    const truth = procTruth(fixture.pid);
    t.deepEqual(tally, { open: truth.open, inheritable: truth.inheritable, byType: truth.byType });
    t.deepEqual(tallyDescriptors(fixture.pid), { open: m.open });
    t.deepEqual(tallyDescriptors(fixture.pid, { inheritable: true }), { open: m.open, inheritable: m.inheritable });
    // The audit agrees with the tally row for row.
    const audit = listDescriptors(fixture.pid, { peers: false });
    t.is(audit.fds.filter((d) => d.inheritable).length, m.inheritable);
    // A deadline already past stops the tally with its own error.
    t.throws(() => tallyDescriptors(fixture.pid, { inheritable: true, deadline: Date.now() - 1 }), { instanceOf: TimeLimitExceeded });
  } finally {
    await fixture.stop();
  }
});

linux('user names come from the user database (NSS) both ways, as id(1) sees them', (t) => {
  t.is(linuxUserName(0), 'root');
  t.is(linuxUserId('root'), 0);
  const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
  if (nobody.status === 0) {
    t.is(linuxUserId('nobody'), Number(nobody.stdout.trim()));
    t.is(linuxUserName(Number(nobody.stdout.trim())), 'nobody');
  }
  t.is(linuxUserId('no-such-user-fdscan'), undefined);
  t.is(linuxUserId('a\0b'), undefined);
  t.is(linuxUserName(2 ** 32 - 2), undefined);
});

(noOtherUser ? test.skip : test)(`as another user, limits and the open count of root's process are read, its descriptors are not${noOtherUser ? ` (skipped: ${noOtherUser})` : ''}`, async (t) => {
  const fixture = await startNearLimit(50, 45);
  const user = createOtherUser();
  try {
    const script = `import('${user.library}').then((m) => {
      const out = { limits: m.descriptorLimits(${fixture.pid}), open: m.countDescriptors(${fixture.pid}) };
      try { m.tallyDescriptors(${fixture.pid}, { inheritable: true }); } catch (e) { out.tally = e.constructor.name; }
      console.log(JSON.stringify(out));
    })`;
    const result = user.run(user.node, ['-e', script]);
    t.is(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { limits: unknown; open: number; tally: string };
    t.deepEqual(out.limits, { soft: 50, hard: fixture.manifest.hard });
    t.is(out.open, fixture.manifest.open);
    t.is(out.tally, AccessDenied.name);
  } finally {
    user.remove();
    await fixture.stop();
  }
});
