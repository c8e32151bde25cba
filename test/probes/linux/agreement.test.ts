/**
 * fdscan against the reference tools: lsof (+fg flags) and util-linux lsfd (FLAGS shows cloexec)
 * must agree on the type class and inheritability of every stable descriptor of every readable
 * process of the machine. Stable: seen identically by two fdscan runs taken around the tools.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { auditAllProcesses, type Descriptor } from '../../../src/index.js';
import { startFixture, type RunningFixture } from '../../helpers/fixture.js';

const hasTool = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined;
const linux = process.platform === 'linux';
const O_CLOEXEC_HEX = 0x80000;

/** One class per family, so tools that name sockets or anon inodes differently can be compared. */
export function typeClass(type: string): string {
  const upper = type.toUpperCase();
  if (['REG', 'DIR', 'FIFO', 'CHR', 'BLK'].includes(upper)) return upper;
  if (upper === 'MEMFD') return 'REG'; // lsof and lsfd show a memfd as the regular file it is
  if (upper === 'LNK' || upper === 'LINK') return 'LNK';
  if (/^(SOCK|IPV4|IPV6|UNIX|INET|TCP|UDP|RAW|NETLINK|PACK|PACKET|PING|AX25|IPX|X\.25|UNIX-.*|TCPV6|UDPV6|UDPLITE.*|RAWV6|PINGV6)$/.test(upper)) return 'SOCK';
  return 'anon';
}

type Key = string;
const key = (pid: number, fd: number): Key => `${pid}/${fd}`;
const fingerprint = (row: Descriptor): string => `${row.fd} ${row.type} ${row.inode} ${row.inheritable} ${row.target}`;

/** Every row of every process, by pid/fd, and each process's whole table as one string. */
function snapshot(): { rows: Map<Key, Descriptor>; tables: Map<number, string> } {
  const rows = new Map<Key, Descriptor>();
  const tables = new Map<number, string>();
  for (const { audit } of auditAllProcesses({ peers: false })) {
    if (!audit) continue;
    if (audit.incomplete || audit.fds.some((row) => row.error)) continue;
    for (const row of audit.fds) rows.set(key(audit.pid, row.fd), row);
    tables.set(audit.pid, audit.fds.map(fingerprint).join('\n'));
  }
  return { rows, tables };
}

function lsofRows(): Map<Key, { type: string; inheritable: boolean }> {
  const out = spawnSync('lsof', ['-n', '-P', '-w', '+fg', '-F', 'pftG'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }).stdout;
  const rows = new Map<Key, { type: string; inheritable: boolean }>();
  let pid = 0;
  let fd = -1;
  let type = '';
  for (const line of out.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') pid = Number(value);
    else if (tag === 'f') { fd = /^\d+$/.test(value) ? Number(value) : -1; type = ''; }
    else if (tag === 't') type = value;
    else if (tag === 'G' && fd >= 0) {
      const flags = Number.parseInt(value.split(';')[0]!, 16);
      rows.set(key(pid, fd), { type, inheritable: (flags & O_CLOEXEC_HEX) === 0 });
    }
  }
  return rows;
}

function lsfdRows(): Map<Key, { type: string; inheritable: boolean }> {
  const out = spawnSync('lsfd', ['-J', '-o', 'PID,ASSOC,TYPE,FLAGS'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }).stdout;
  const rows = new Map<Key, { type: string; inheritable: boolean }>();
  for (const row of (JSON.parse(out) as { lsfd: Array<{ pid: number; assoc: string; type: string; flags: string | null }> }).lsfd) {
    if (!/^\d+$/.test(row.assoc)) continue;
    rows.set(key(row.pid, Number(row.assoc)), { type: row.type, inheritable: !(row.flags ?? '').split(',').includes('cloexec') });
  }
  return rows;
}

let fixture: RunningFixture<{ pid: number }> | undefined;
test.before(async () => {
  // A process with one descriptor of every kind, so the machine has more than files and pipes.
  if (linux) fixture = await startFixture('hold-descriptors.py');
});
test.after.always(async () => fixture?.stop());

for (const [tool, read] of [['lsof', lsofRows], ['lsfd', lsfdRows]] as const) {
  const run = linux && hasTool(tool) ? test.serial : test.skip;
  run(`agrees with ${tool} on type class and inheritability of every stable descriptor`, (t) => {
    // Stable: a process whose whole table is the same before and after the tool ran. A process
    // that churns (other test files run meanwhile) can show one fd twice alike by chance, but
    // hardly its whole table.
    const before = snapshot();
    const reference = read();
    const after = snapshot();
    let compared = 0;
    const disagreements: string[] = [];
    for (const [k, row] of before.rows) {
      const pid = Number(k.split('/')[0]);
      if (pid === process.pid || before.tables.get(pid) !== after.tables.get(pid)) continue; // ava's own worker churns its descriptors
      const theirs = reference.get(k);
      if (!theirs) continue; // the tool could not read it, or it is not stable for the tool
      compared++;
      if (typeClass(theirs.type) !== typeClass(row.type) || theirs.inheritable !== row.inheritable) {
        disagreements.push(`${k}: fdscan ${row.type} inheritable=${row.inheritable} ${row.target} | ${tool} ${theirs.type} inheritable=${theirs.inheritable}`);
      }
    }
    t.log(`${compared} descriptors compared with ${tool}`);
    t.true(compared >= 20, `only ${compared} descriptors could be compared`);
    t.deepEqual(disagreements, []);
    // The fixture's own kinds are among the compared ones.
    t.true([...before.rows.keys()].some((k) => k.startsWith(`${fixture!.pid}/`) && reference.has(k)));
  });
}
