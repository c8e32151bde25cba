/**
 * Hostile input: the /proc parsers get random and mutated real text (fast-check) and may only
 * throw ParseError; valid text, fixed or read from a process that knows what it holds, parses to
 * what it says.
 */
import test from 'ava';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParseError } from '../../src/errors.js';
import { parseFdInfo } from '../../probes/linux/fdinfo.js';
import { decodeInetAddress, parseInetTable, parseNetlinkTable, parsePacketTable, parseUnixTable, type SocketTable } from '../../probes/linux/net-tables.js';
import type { SocketInfo } from '../../src/probe-kit/contract.js';
import { parseProcStat } from '../../probes/linux/process-info.js';
import { runCli } from '../helpers/cli.js';
import { fixturesDir, startFixture } from '../helpers/fixture.js';

const RUNS = 400;

const SAMPLES = {
  fdinfo: 'pos:\t1234\nflags:\t02100002\nmnt_id:\t25\nino:\t9876543\ntfd:        3 events:       19 data:                3  pos:0 ino:0 sdev:0\n',
  stat: '4242 (my (odd) cmd) S 1 4242 4242 34816 4242 4194560 1021 0 0 0 2 1 0 0 20 0 1 0 98765 9867264 870 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n',
  tcp: '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0\n' +
    '   1: 0100007F:A2B4 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 31338 1 0000000000000000 20 4 30 10 -1\n',
  tcp6: '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
    '   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4141 1 0000000000000000 100 0 0 10 0\n',
  unix: 'Num       RefCount Protocol Flags    Type St Inode Path\n' +
    '00000000ae3ced77: 00000002 00000000 00010000 0001 01 1680 /run/a path with spaces.sock\n' +
    '00000000944af2e4: 00000003 00000000 00000000 0001 03 1681\n' +
    '00000000944af2e5: 00000002 00000000 00000000 0002 01 1682 @abstract\n',
  netlink: 'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n' +
    '00000000053d2b92 0   0          00000000 0        0        0     2        0        4\n' +
    '000000007c879b39 4   812        00000000 0        0        0     2        0        1593\n',
  packet: 'sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n' +
    '000000001e2f0c3a 3      3    0003   2     1 0      0      55123\n',
};

/** Real text of this machine too, when readable (the fixed samples cover the rest). */
function real(path: string): string | undefined {
  try { return readFileSync(path, 'latin1'); } catch { return undefined; }
}

const PARSERS: Array<[string, (text: string) => unknown, string[]]> = [
  ['parseFdInfo', (s) => parseFdInfo(Buffer.from(s, 'latin1')), [SAMPLES.fdinfo, real('/proc/self/fdinfo/0')].filter((s): s is string => !!s)],
  ['parseProcStat', parseProcStat, [SAMPLES.stat, real('/proc/self/stat')].filter((s): s is string => !!s)],
  ['parseInetTable', (s) => parseInetTable(s, 'tcp'), [SAMPLES.tcp, real('/proc/self/net/tcp')].filter((s): s is string => !!s)],
  ['parseInetTable (v6)', (s) => parseInetTable(s, 'tcp6'), [SAMPLES.tcp6, real('/proc/self/net/tcp6')].filter((s): s is string => !!s)],
  ['parseInetTable (udp)', (s) => parseInetTable(s, 'udp'), [real('/proc/self/net/udp') ?? SAMPLES.tcp]],
  ['parseUnixTable', (s) => parseUnixTable(s), [SAMPLES.unix, real('/proc/self/net/unix')].filter((s): s is string => !!s)],
  ['parseNetlinkTable', (s) => parseNetlinkTable(s), [SAMPLES.netlink, real('/proc/self/net/netlink')].filter((s): s is string => !!s)],
  ['parsePacketTable', (s) => parsePacketTable(s), [SAMPLES.packet]],
];

/** Text that is a real sample with a few random edits: chars replaced, inserted, lines cut. */
function mutated(samples: string[]): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('replace', 'insert', 'delete', 'truncate', 'duplicate-line'),
    text: fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(':', ' ', '\n', '\t', '(', ')', '-', '0x', '99999999999999999999', 'ZZ', '\0', '\u00ff'),
    ),
  });
  return fc.tuple(fc.constantFrom(...samples), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([sample, edits]) => {
    let text = sample;
    for (const e of edits) {
      const at = text.length === 0 ? 0 : e.at % text.length;
      if (e.kind === 'replace') text = text.slice(0, at) + e.text + text.slice(at + e.text.length);
      else if (e.kind === 'insert') text = text.slice(0, at) + e.text + text.slice(at);
      else if (e.kind === 'delete') text = text.slice(0, at) + text.slice(at + 1 + (e.text.length % 8));
      else if (e.kind === 'truncate') text = text.slice(0, at);
      else {
        const lines = text.split('\n');
        const i = at % lines.length;
        lines.splice(i, 0, lines[i]!);
        text = lines.join('\n');
      }
    }
    return text;
  });
}

const anyText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:() \t\n'.split('')), maxLength: 80 }), { maxLength: 8 }).map((l) => l.join('\n')),
);

function onlyParseErrors(parse: (text: string) => unknown): (text: string) => void {
  return (text) => {
    try {
      parse(text);
    } catch (error) {
      if (!(error instanceof ParseError)) throw new Error(`threw ${(error as Error)?.name}: ${(error as Error)?.message} for ${JSON.stringify(text)}`);
    }
  };
}

for (const [name, parse, samples] of PARSERS) {
  test(`${name}: random text throws only ParseError`, (t) => {
    fc.assert(fc.property(anyText, onlyParseErrors(parse)), { numRuns: RUNS });
    t.pass();
  });
  test(`${name}: mutated real text throws only ParseError`, (t) => {
    fc.assert(fc.property(mutated(samples), onlyParseErrors(parse)), { numRuns: RUNS });
    t.pass();
  });
}

test('the fixed samples parse to the values they hold', (t) => {
  t.deepEqual(parseFdInfo(Buffer.from(SAMPLES.fdinfo, 'latin1')), { pos: 1234, flags: 0o2100002, mntId: 25, ino: 9876543 });
  t.like(parseProcStat(SAMPLES.stat), { command: 'my (odd) cmd', state: 'S', ppid: 1, startTime: 98765 });
  t.deepEqual([...parseInetTable(SAMPLES.tcp, 'tcp').keys()], [31337, 31338]);
  t.deepEqual([...parseInetTable(SAMPLES.tcp6, 'tcp6')], [[4141, { protocol: 'tcp6', local: '[::1]:22', state: 'LISTEN' }]]);
  t.deepEqual([...parseUnixTable(SAMPLES.unix).keys()], [1680, 1681, 1682]);
  t.deepEqual([...parseNetlinkTable(SAMPLES.netlink)], [
    [4, { protocol: 'netlink', local: 'ROUTE portid 0' }],
    [1593, { protocol: 'netlink', local: 'SOCK_DIAG portid 812' }],
  ]);
  t.deepEqual([...parsePacketTable(SAMPLES.packet)], [[55123, { protocol: 'packet', local: 'proto 0x0003 ifindex 2' }]]);
});

interface ProcSamples {
  pid: number;
  ppid: number;
  comm: string;
  stat: string;
  file: { fd: number; offset: number; ino: number; fdinfo: string };
  sockets: Record<string, { inode: number; local: string } | undefined>;
  tables: Record<'tcp' | 'tcp6' | 'udp' | 'unix' | 'netlink', string>;
}

let procSamples: ProcSamples | undefined;
/** Real /proc text of a process that knows what it holds (test/fixtures/proc-samples.py), run once. */
function realSamples(): ProcSamples {
  if (procSamples) return procSamples;
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-samples-'));
  try {
    const run = spawnSync('python3', [join(fixturesDir, 'proc-samples.py'), dir], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`proc-samples.py failed (${run.status}): ${run.stderr}`);
    procSamples = JSON.parse(run.stdout) as ProcSamples;
    return procSamples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const linux = process.platform === 'linux' ? test : test.skip;
const O_ACCMODE = 0o3;
const O_RDWR = 0o2;
const O_CLOEXEC = 0o2000000;

linux('real fdinfo and stat text parse to what the process holds', (t) => {
  const real = realSamples();
  const info = parseFdInfo(Buffer.from(real.file.fdinfo, 'latin1'));
  t.is(info.pos, real.file.offset);
  t.is(info.flags & O_ACCMODE, O_RDWR);
  t.is(info.flags & O_CLOEXEC, O_CLOEXEC);
  t.true(Number.isInteger(info.mntId) && info.mntId >= 0, `mnt_id ${info.mntId}`);
  // fdinfo has ino: since Linux 5.14.
  t.is(info.ino, /^ino:/m.test(real.file.fdinfo) ? real.file.ino : undefined, real.file.fdinfo);
  t.like(parseProcStat(real.stat), { command: real.comm, state: 'R', ppid: real.ppid, exiting: false });
});

linux('real socket tables hold the process\'s TCP listener, UDP socket, unix listener and netlink socket', (t) => {
  const real = realSamples();
  const expected: Array<[string, SocketTable, Partial<SocketInfo>]> = [
    ['tcp', parseInetTable(real.tables.tcp, 'tcp'), { protocol: 'tcp', state: 'LISTEN' }],
    ['udp', parseInetTable(real.tables.udp, 'udp'), { protocol: 'udp' }],
    ['unix', parseUnixTable(real.tables.unix), { protocol: 'unix', socketType: 'STREAM', state: 'LISTEN' }],
    ['netlink', parseNetlinkTable(real.tables.netlink), { protocol: 'netlink' }],
  ];
  for (const [name, table, fields] of expected) {
    const made = real.sockets[name]!;
    t.deepEqual(table.get(made.inode), { ...fields, local: made.local }, name);
  }
});

(process.platform === 'linux' && existsSync('/proc/net/if_inet6') ? test : test.skip)('real tcp6 table holds the process\'s listener on [::1]', (t) => {
  const real = realSamples();
  const made = real.sockets.tcp6;
  t.truthy(made, 'IPv6 is enabled, yet the fixture could not listen on ::1');
  t.deepEqual(parseInetTable(real.tables.tcp6, 'tcp6').get(made!.inode), { protocol: 'tcp6', local: made!.local, state: 'LISTEN' });
});

test('parseFdInfo round-trips pos, flags, mnt_id and ino', (t) => {
  const u53 = fc.maxSafeNat();
  fc.assert(fc.property(u53, fc.nat({ max: 0o77777777 }), fc.nat({ max: 1e9 }), u53, fc.string({ maxLength: 40 }), (pos, flags, mnt, ino, tail) => {
    const text = `pos:\t${pos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${mnt}\nino:\t${ino}\n${tail.replace(/^(pos|flags|mnt_id|ino):/gm, 'x:')}`;
    const info = parseFdInfo(Buffer.from(text));
    return info.pos === pos && info.flags === flags && info.mntId === mnt && info.ino === ino;
  }), { numRuns: RUNS });
  t.pass();
});

test('parseProcStat round-trips any command name, even with ) ( spaces, newlines and UTF-8', (t) => {
  fc.assert(fc.property(fc.string({ minLength: 0, maxLength: 15, unit: 'grapheme' }), fc.nat(), fc.maxSafeNat(), fc.constantFrom('R', 'S', 'D', 'Z', 'T', 't', 'I'), (command, ppid, start, state) => {
    const fields = [state, String(ppid), ...Array(17).fill('0'), String(start), '0', '0'];
    // As the probe reads it: the kernel's bytes, one latin1 character each.
    const stat = parseProcStat(Buffer.from(`123 (${command}) ${fields.join(' ')}\n`).toString('latin1'));
    return stat.command === command && stat.ppid === ppid && stat.startTime === start && stat.state === state;
  }), { numRuns: RUNS });
  t.pass();
});

test('parseProcStat reads PF_EXITING from the kernel flags (field 9)', (t) => {
  t.false(parseProcStat(SAMPLES.stat).exiting); // 4194560 = 0x400100: PF_RANDOMIZE | PF_FORKNOEXEC
  t.true(parseProcStat(SAMPLES.stat.replace(' 4194560 ', ' 4194564 ')).exiting);
  const own = real('/proc/self/stat');
  if (own) t.false(parseProcStat(own).exiting);
});

test('inet addresses decode: IPv4 and IPv6 in kernel byte order', (t) => {
  const v4 = parseInetTable(SAMPLES.tcp, 'tcp');
  t.deepEqual(v4.get(31337), { protocol: 'tcp', local: '127.0.0.1:8080', state: 'LISTEN' });
  t.deepEqual(v4.get(31338), { protocol: 'tcp', local: '127.0.0.1:41652', remote: '127.0.0.1:8080', state: 'ESTABLISHED' });
  t.is(parseInetTable(SAMPLES.tcp6, 'tcp6').get(4141)?.local, '[::1]:22');
  fc.assert(fc.property(fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }), fc.nat({ max: 65535 }), (bytes, port) => {
    const hex = [...bytes].reverse().map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
    const line = `   0: ${hex}:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 2 0000000000000000`;
    return parseInetTable(`header\n${line}\n`, 'udp').get(77)?.local === `${bytes.join('.')}:${port}`;
  }), { numRuns: RUNS });
});

test('an inet address of another length than 8 or 32 hex digits is a ParseError, not NaN', (t) => {
  for (const field of ['ABC:0050', '0100007F01:0050', '0000000000000000000000000100000:0016']) {
    t.throws(() => decodeInetAddress(field, 'tcp'), { instanceOf: ParseError }, field);
  }
});

test('unix table keeps paths with spaces and marks listeners', (t) => {
  const table = parseUnixTable(SAMPLES.unix);
  t.deepEqual(table.get(1680), { protocol: 'unix', socketType: 'STREAM', state: 'LISTEN', local: '/run/a path with spaces.sock' });
  t.deepEqual(table.get(1681), { protocol: 'unix', socketType: 'STREAM', state: 'CONNECTED' });
  t.is(table.get(1682)?.local, '@abstract');
  t.is(parseNetlinkTable(SAMPLES.netlink).get(1593)?.local, 'SOCK_DIAG portid 812');
  t.is(parsePacketTable(SAMPLES.packet).get(55123)?.local, 'proto 0x0003 ifindex 2');
});

interface OddNames {
  pid: number;
  files: Array<{ fd: number; name_b64: string; deleted: boolean }>;
}

linux('paths with newlines, spaces, non-UTF-8 bytes and a real " (deleted)" are shown faithfully in JSON', async (t) => {
  const fixture = await startFixture<OddNames>('hold-odd-names.py');
  try {
    const result = runCli([String(fixture.pid), '--json', '--no-peers']);
    t.is(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout) as { fds: Array<{ fd: number; target: string; targetBytes?: string; deleted?: boolean }> };
    for (const file of fixture.manifest.files) {
      const expected = Buffer.from(file.name_b64, 'base64');
      const row = document.fds.find((d) => d.fd === file.fd);
      if (!row) { t.fail(`fd ${file.fd} missing`); continue; }
      const label = JSON.stringify(expected.toString('latin1'));
      // The exact bytes: base64 when they are not UTF-8, else the UTF-8 text itself.
      const shown = row.targetBytes !== undefined ? Buffer.from(row.targetBytes, 'base64') : Buffer.from(row.target, 'utf8');
      t.true(shown.equals(expected), `${label}: shown as ${JSON.stringify(shown.toString('latin1'))}`);
      t.is(row.targetBytes !== undefined, !isUtf8(expected), `${label}: targetBytes present only for non-UTF-8`);
      t.is(row.deleted === true, file.deleted, `${label}: deleted flag`);
    }
  } finally {
    await fixture.stop();
  }
});
