/** The tracer's lighter table reads key every descriptor as the full read does: lineage matches on that key. */
import test from 'ava';
import { objectKey } from '../../../src/audit/descriptor-identity.js';
import { newAuditContext, readDescriptors } from '../../../probes/linux/descriptors.js';
import { readTraceTable } from '../../../probes/linux/trace-tables.js';
import { startFixture, type RunningFixture } from '../../helpers/fixture.js';

const skip = process.platform !== 'linux';
const linux = skip ? test.skip : test;
let fixture: RunningFixture<{ pid: number }>;

test.before(async () => {
  if (!skip) fixture = await startFixture<{ pid: number }>('hold-descriptors.py');
});
test.after.always(async () => {
  await fixture?.stop();
});

linux('identity rows (one of every kind) have the full rows\' numbers and keys; with targets, their targets too', (t) => {
  const full = readDescriptors(fixture.pid, newAuditContext({ peers: false }));
  t.is(full.error, undefined);
  const keys = full.rows.map((d) => [d.fd, objectKey(d)]);
  const bare = readTraceTable(fixture.pid, newAuditContext({ peers: false }), { identityBelow: Number.POSITIVE_INFINITY, targets: false });
  t.is(bare.error, undefined);
  t.deepEqual(bare.rows.map((d) => [d.fd, objectKey(d)]), keys);
  const named = readTraceTable(fixture.pid, newAuditContext({ peers: false }), { identityBelow: Number.POSITIVE_INFINITY, targets: true });
  t.deepEqual(named.rows.map((d) => [d.fd, objectKey(d)]), keys);
  for (const row of named.rows) {
    const want = full.rows.find((d) => d.fd === row.fd)!;
    t.is(row.flags, undefined, 'no flags: not read');
    if (want.type === 'SOCK') continue; // the full read describes the socket; the identity row shows the link
    t.is(row.target, want.target, `fd ${row.fd}`);
    t.is(row.deleted, want.deleted, `fd ${row.fd}`);
  }
});

linux('from identityBelow on, the rows are the full read\'s', (t) => {
  const full = readDescriptors(fixture.pid, newAuditContext({ peers: false }));
  const mixed = readTraceTable(fixture.pid, newAuditContext({ peers: false }), { identityBelow: 3, targets: true });
  t.deepEqual(mixed.rows.map((d) => d.fd), full.rows.map((d) => d.fd));
  t.deepEqual(mixed.rows.filter((d) => d.fd >= 3), full.rows.filter((d) => d.fd >= 3));
  for (const row of mixed.rows.filter((d) => d.fd < 3)) t.is(row.flags, undefined);
});

linux('a table that cannot be read is said as the full read says it', (t) => {
  const gone = readTraceTable(2 ** 22 + 1, newAuditContext({ peers: false }), { identityBelow: 3, targets: true });
  t.deepEqual(gone.rows, []);
  t.regex(gone.error ?? '', /cannot read \/proc\/\d+\/fd: ENOENT/);
});
