/**
 * The Windows probe against a real node.exe holding a file, two events (one inheritable), an
 * inheritable anonymous pipe and a listening socket. Runs on Windows (and under wine in the
 * Windows lane, .ci/windows-lane.sh); skipped visibly elsewhere.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDescriptors, countDescriptors, type Descriptor, type ProcessAudit } from '../../../src/index.js';
import { handleTableOf } from '../../../probes/win32/descriptors.js';
import { inheritedHandles, markAllHandlesNonInheritable } from '../../../probes/win32/inheritance.js';
import * as kernel32 from '../../../probes/win32/kernel32.js';
import { repoRoot, startFixture, type RunningFixture } from '../../helpers/fixture.js';
import { runCli } from '../../helpers/cli.js';

interface Manifest {
  pid: number;
  file: string;
  inheritableEvent: number;
  plainEvent: number;
  pipeRead: number;
  pipeWrite: number;
  port: number;
}

const skip = process.platform !== 'win32';
const win = skip ? test.skip : test.serial;
let fixture: RunningFixture<Manifest>;

test.before(async () => {
  if (!skip) fixture = await startFixture<Manifest>('hold-handles.mjs');
});
test.after.always(async () => {
  await fixture?.stop();
});

/** The fixture's handles checked against an audit (from the library or the CLI's JSON). */
function checkFixtureHandles(t: import('ava').ExecutionContext, audit: Pick<ProcessAudit, 'fds'>): void {
  const m = fixture.manifest;
  const byHandle = new Map(audit.fds.map((d) => [d.fd, d]));
  const expect = (handle: number, type: string, inheritable: boolean, label: string): Descriptor | undefined => {
    const row = byHandle.get(handle);
    if (!row) { t.fail(`${label}: handle ${handle} missing`); return undefined; }
    t.is(row.type, type, `${label} type`);
    t.is(row.inheritable, inheritable, `${label} inheritable`);
    t.is(row.error, undefined, `${label} error`);
    return row;
  };
  expect(m.inheritableEvent, 'Event', true, 'inheritable event');
  expect(m.plainEvent, 'Event', false, 'plain event');
  expect(m.pipeRead, 'FIFO', true, 'pipe read end');
  expect(m.pipeWrite, 'FIFO', true, 'pipe write end');
  const files = audit.fds.filter((d) => d.type === 'REG' && d.target.toLowerCase() === m.file.toLowerCase());
  t.is(files.length, 1, `one REG row for ${m.file}: ${JSON.stringify(audit.fds.filter((d) => d.type === 'REG'))}`);
  t.is(files[0]?.inheritable, false, 'file inheritable');
  t.is(files[0]?.access, 'r', 'file access');
  const sockets = audit.fds.filter((d) => d.type === 'SOCK');
  t.true(sockets.length >= 1, 'at least one SOCK row (the listening socket)');
  t.true(sockets.every((d) => d.inheritable === false), 'libuv sockets are not inheritable');
  // Where winsock can read a duplicated socket (Windows, not wine), the listener shows its port.
  const described = sockets.filter((d) => d.socket?.protocol !== 'unknown');
  if (described.length > 0) t.true(described.some((d) => d.socket?.local === `127.0.0.1:${m.port}` && d.socket.state === 'LISTEN'));
}

win('lists the fixture handles with their type class and inheritability', (t) => {
  const audit = listDescriptors(fixture.pid);
  t.is(audit.platform, 'win32');
  t.is(audit.command.toLowerCase(), 'node.exe');
  t.deepEqual(audit.errors, []);
  checkFixtureHandles(t, audit);
});

win('fdscan PID --json prints the same handles', (t) => {
  const result = runCli([String(fixture.pid), '--json']);
  t.is(result.code, 0, result.stderr);
  const document = JSON.parse(result.stdout) as ProcessAudit & { schema: string };
  t.is(document.schema, 'fdscan/audit@1');
  t.is(document.pid, fixture.pid);
  checkFixtureHandles(t, document);
});

win('both handle enumerations agree (class 51 where present, class 64 always)', (t) => {
  const native = handleTableOf(fixture.pid);
  const system = handleTableOf(fixture.pid, { forceSystemTable: true });
  t.log(`system answered with ${native.method}`);
  t.is(system.method, 'system-extended-handle-information');
  const m = fixture.manifest;
  for (const table of [native, system]) {
    const byHandle = new Map(table.entries.map((e) => [e.handle, e]));
    t.is((byHandle.get(m.inheritableEvent)?.attributes ?? 0) & 2, 2, `${table.method}: OBJ_INHERIT on the inheritable event`);
    t.is((byHandle.get(m.plainEvent)?.attributes ?? 2) & 2, 0, `${table.method}: no OBJ_INHERIT on the plain event`);
  }
});

win('countDescriptors is the handle count', (t) => {
  const count = countDescriptors(fixture.pid);
  const listed = listDescriptors(fixture.pid).fds.length;
  t.true(count > 0);
  // The count includes handles opened or closed meanwhile; it should be of the same order.
  t.true(Math.abs(count - listed) <= Math.max(10, listed / 5), `count ${count}, listed ${listed}`);
});

win('inherit-diff: a spawned node.exe holds the inheritable handle, not the other one', (t) => {
  const inheritable = kernel32.createEventW(kernel32.securityAttributes(true), true, false, null)!;
  const plain = kernel32.createEventW(kernel32.securityAttributes(false), true, false, null)!;
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-inherit-'));
  try {
    const parent = listDescriptors(process.pid);
    const out = join(dir, 'child.json');
    const child = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'report-own-descriptors.js'), out], { encoding: 'utf8' });
    t.is(child.status, 0, child.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ProcessAudit;
    const diff = inheritedHandles(parent, report);
    const inherited = diff.inherited.map((d) => d.fd);
    t.true(inherited.includes(Number(inheritable)), `inherited ${JSON.stringify(inherited)}`);
    t.false(inherited.includes(Number(plain)));
    t.true(report.fds.find((d) => d.fd === Number(inheritable))?.inheritable === true, 'inherited handles stay inheritable in the child');
  } finally {
    kernel32.closeHandle(inheritable);
    kernel32.closeHandle(plain);
    rmSync(dir, { recursive: true, force: true });
  }
});

win('markAllHandlesNonInheritable clears HANDLE_FLAG_INHERIT on this process', (t) => {
  const event = kernel32.createEventW(kernel32.securityAttributes(true), true, false, null)!;
  try {
    t.true(listDescriptors(process.pid).fds.find((d) => d.fd === Number(event))?.inheritable);
    const result = markAllHandlesNonInheritable();
    t.true(result.cleared.includes(Number(event)));
    const flags: [number] = [0];
    t.true(kernel32.getHandleInformation(event, flags));
    t.is(flags[0] & kernel32.HANDLE_FLAG_INHERIT, 0);
    t.false(listDescriptors(process.pid, { inheritableOnly: true }).fds.some((d) => d.fd === Number(event)));
  } finally {
    kernel32.closeHandle(event);
  }
});
