/**
 * The Windows exec tracer (the debug API) and `run --close-fds` against real node.exe trees. Runs on
 * Windows and under wine in the Windows lane (.ci/windows-lane.sh); skipped visibly elsewhere.
 * Under wine 8 class 64 gives no object addresses, so identity is NtCompareObjects's: that path ran.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessAudit } from '../../../src/index.js';
import * as kernel32 from '../../../probes/win32/kernel32.js';
import { repoRoot } from '../../helpers/fixture.js';
import { runCli } from '../../helpers/cli.js';

const skip = process.platform !== 'win32';
const win = skip ? test.skip : test.serial;
const tree = join(repoRoot, 'test', 'fixtures', 'win-spawn-tree.mjs');

interface Generation { pid: number; event: number }

/** The `{"pid","event"}` lines the fixture's generations printed, in order. */
function generations(stdout: string): Generation[] {
  return stdout.split(/\r?\n/).filter((line) => line.startsWith('{"pid"')).map((line) => JSON.parse(line) as Generation);
}

interface GateDocument {
  schema: string;
  passed: boolean;
  method: string;
  findings: Array<{ kind: string; fd: number; type: string; opener: { pid: number }; receivers: Array<{ pid: number; fd: number }> }>;
}

/** The report's JSON: on stderr (stdout is CMD's), its last line. */
function gateDocument(stderr: string): GateDocument {
  return JSON.parse(stderr.trim().split(/\r?\n/).pop()!) as GateDocument;
}

win('debug API: a node.exe that marks an event inheritable and starts a node.exe child fails the gate, naming both', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-gate-'));
  const junit = join(dir, 'gate.xml');
  const result = runCli(['gate', '--json', '--junit', junit, '--', process.execPath, tree, 'inheritable', '1']);
  t.is(result.code, 1, result.stderr);
  const [parent, child] = generations(result.stdout);
  const document = gateDocument(result.stderr);
  const xml = readFileSync(junit, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  t.regex(xml, /<failure/);
  t.true(xml.includes(`fd ${parent!.event} Event`), xml);
  t.is(document.schema, 'fdscan/gate@2');
  t.is(document.method, 'debug-api');
  const finding = document.findings.find((f) => f.fd === parent!.event);
  t.truthy(finding, JSON.stringify(document.findings));
  t.is(finding?.type, 'Event');
  t.is(finding?.opener.pid, parent!.pid);
  t.deepEqual(finding?.receivers.map((r) => [r.pid, r.fd]), [[child!.pid, parent!.event]]);
  t.is(document.findings.length, 1, 'the standard handles are a protocol, not findings');
});

win('debug API: the same parent without HANDLE_FLAG_INHERIT passes the gate with 0', (t) => {
  const result = runCli(['gate', '--', process.execPath, tree, 'plain', '1']);
  t.is(result.code, 0, `${result.stdout}\n${result.stderr}`);
  t.is(generations(result.stdout).length, 2, 'both generations ran');
  t.regex(result.stderr, /fdscan gate: passed/);
});

win('debug API: a fourth stdio pipe passed in the C runtime\'s lpReserved2 block is a protocol, not a leak', (t) => {
  const result = runCli(['gate', '--json', '--', process.execPath, tree, 'plain', '1', 'pipe3']);
  t.is(result.code, 0, result.stderr);
  const document = gateDocument(result.stderr) as GateDocument & { protocol: Array<{ protocol: string; type: string }> };
  t.deepEqual(document.findings, []);
  t.true(document.protocol.some((p) => p.protocol === 'windows-stdio' && p.type === 'FIFO'), JSON.stringify(document.protocol));
});

win('debug API: inherit-diff --json shows the event the child received, from its creator', (t) => {
  const result = runCli(['inherit-diff', '--json', '--', process.execPath, tree, 'inheritable', '1']);
  t.is(result.code, 0, result.stderr);
  const [parent, child] = generations(result.stdout);
  const document = JSON.parse(result.stderr.trim().split(/\r?\n/).pop()!) as {
    schema: string; method: string;
    processes: Array<{ pid: number; inherited: Array<{ fd: number; type: string; via: string; from?: { pid: number; fd: number; match: string } }> }>;
  };
  t.is(document.schema, 'fdscan/inherit-diff@1');
  t.is(document.method, 'debug-api');
  const received = document.processes.find((p) => p.pid === child!.pid)?.inherited.find((d) => d.fd === parent!.event);
  t.like(received, { type: 'Event', via: 'parent', from: { pid: parent!.pid, fd: parent!.event, match: 'kcmp' } });
  const own = document.processes.find((p) => p.pid === parent!.pid)?.inherited ?? [];
  t.false(own.some((d) => d.fd === parent!.event), 'the root did not receive the event it made');
});

win('debug API: three generations: the inherited event stays inheritable and reaches the grandchild too', (t) => {
  const result = runCli(['gate', '--json', '--', process.execPath, tree, 'inheritable', '2']);
  t.is(result.code, 1, result.stderr);
  const [root, child, grandchild] = generations(result.stdout);
  t.truthy(grandchild, 'three generations ran');
  const finding = gateDocument(result.stderr).findings.find((f) => f.fd === root!.event);
  t.is(finding?.opener.pid, root!.pid);
  t.deepEqual(finding?.receivers.map((r) => r.pid), [child!.pid, grandchild!.pid]);
});

win('debug API: a child that exits at once is still read at its creation (held until read), and fdscan\'s own handles are ambient', (t) => {
  const result = runCli(['gate', '--json', '--', process.execPath, tree, 'inheritable', '1', 'quick']);
  t.is(result.code, 1, result.stderr);
  const [parent] = generations(result.stdout);
  const finding = gateDocument(result.stderr).findings.find((f) => f.fd === parent!.event);
  t.is(finding?.receivers.length, 1, JSON.stringify(gateDocument(result.stderr)));
  t.not(finding?.receivers[0]?.pid, parent!.pid, 'the receiver is the child that exited at once');
  // An inheritable handle fdscan itself holds reaches the root: ambient, never blamed.
  const event = kernel32.createEventW(kernel32.securityAttributes(true), true, false, null)!;
  try {
    const quick = runCli(['gate', '--json', '--', process.execPath, '-e', '0']);
    t.is(quick.code, 0, quick.stderr);
    t.deepEqual(gateDocument(quick.stderr).findings, []);
  } finally {
    kernel32.closeHandle(event);
  }
});

win('job object (--sample, method sampling): the child is read once it runs, and still holds the event', (t) => {
  // The child holds 5 s: sampled, it is read once it runs, and a child that exits at once can be gone
  // by then on a loaded machine (seen in CI: the child's entry had no event).
  const result = runCli(['inherit-diff', '--sample', '--json', '--', process.execPath, tree, 'inheritable', '1', 'hold']);
  t.is(result.code, 0, result.stderr);
  const [parent, child] = generations(result.stdout);
  const document = JSON.parse(result.stderr.trim().split(/\r?\n/).pop()!) as {
    method: string; warnings: string[]; processes: Array<{ pid: number; sampled?: boolean; inherited: Array<{ fd: number; type: string; via: string }> }>;
  };
  t.is(document.method, 'sampling');
  t.true(document.warnings.some((w) => w.includes('job object')));
  const received = document.processes.find((p) => p.pid === child!.pid)?.inherited.find((d) => d.fd === parent!.event);
  t.like(received, { type: 'Event', via: 'parent' });
  t.true(document.processes.find((p) => p.pid === child!.pid)?.sampled, 'read after it started, and said so');
});

win('run --close-fds: the child receives only its standard handles and --keep ones (PROC_THREAD_ATTRIBUTE_HANDLE_LIST)', (t) => {
  const event = kernel32.createEventW(kernel32.securityAttributes(true), true, false, null)!;
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-closefds-'));
  try {
    const report = join(repoRoot, 'dist', 'src', 'cli', 'report-own-descriptors.js');
    const bare = join(dir, 'bare.json');
    const closed = join(dir, 'closed.json');
    t.is(runCli(['run', '--', process.execPath, report, bare]).code, 0);
    const result = runCli(['run', '--close-fds', '--', process.execPath, report, closed]);
    t.is(result.code, 0, result.stderr);
    const inheritable = (file: string): number[] => (JSON.parse(readFileSync(file, 'utf8')) as ProcessAudit).fds.filter((d) => d.inheritable).map((d) => d.fd);
    t.true(inheritable(bare).includes(Number(event)), `without --close-fds the event reaches the child: ${JSON.stringify(inheritable(bare))}`);
    const left = inheritable(closed);
    t.false(left.includes(Number(event)), `with --close-fds it does not: ${JSON.stringify(left)}`);
    t.true(left.length <= 3, `only standard handles are left: ${JSON.stringify(left)}`);
    const kept = join(dir, 'kept.json');
    const keep = runCli(['run', '--close-fds', '--keep', String(Number(event)), '--', process.execPath, report, kept]);
    t.is(keep.code, 0, keep.stderr);
    t.true(inheritable(kept).includes(Number(event)), `--keep ${Number(event)} passes it: ${JSON.stringify(inheritable(kept))}`);
  } finally {
    kernel32.closeHandle(event);
    rmSync(dir, { recursive: true, force: true });
  }
});
