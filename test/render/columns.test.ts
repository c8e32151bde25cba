/**
 * The column model (src/render/columns.ts) on a real process: every documented field is in the
 * schema's section of docs/json.md, every column's field is in the JSON; the JSON writer writes the documented
 * fields only, in the data's order; a column added to a field table shows in the audit's table, in
 * top's and in the JSON.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDescriptors } from '../../src/audit/audit.js';
import type { Descriptor, ProcessAudit } from '../../src/probe-kit/contract.js';
import { auditDocument } from '../../src/render/audit-json.js';
import { renderAuditTable } from '../../src/render/audit-table.js';
import { DESCRIPTOR_FIELDS, PROCESS_FIELDS, TOP_FIELDS, columnsOf, type FieldTable } from '../../src/render/columns.js';
import { renderTop, topDocument } from '../../src/render/top-text.js';
import { topProcesses, type TopProcess } from '../../src/audit/top.js';
import { repoRoot, startFixture, type RunningFixture } from '../helpers/fixture.js';
import { gridCells } from '../helpers/terminal-text.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
let fixture: RunningFixture<{ pid: number }>;

test.before(async () => {
  if (process.platform === 'linux') fixture = await startFixture('hold-descriptors.py');
});
test.after.always(async () => fixture?.stop());

/** The sections of docs/json.md (heading to next heading, code blocks skipped for headings) that name `schema`. */
function schemaSections(schema: string): string {
  const sections: string[][] = [[]];
  let fenced = false;
  for (const line of readFileSync(join(repoRoot, 'docs', 'json.md'), 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (!fenced && /^#{1,6} /.test(line)) sections.push([]);
    sections.at(-1)!.push(line);
  }
  return sections.map((lines) => lines.join('\n')).filter((text) => text.includes(schema)).join('\n');
}

/** Every documented key of a table and of the tables of its fields, with the path that reaches it. */
function documentedKeys(table: FieldTable<object>, path = ''): string[] {
  return Object.entries(table.fields as Record<string, { fields?: FieldTable<object>; internal?: true }>).flatMap(([key, field]) =>
    field.internal ? [] : [`${path}${key}`, ...(field.fields ? documentedKeys(field.fields, `${path}${key}.`) : [])]);
}

/** `key` as docs/json.md writes a field: `"key"`, `` `key` ``, `` `key: true` ``, `{key, ...}`. */
const named = (key: string): RegExp => new RegExp(`(?:["\`{]|, )${key}(?=["\`:,})\\s])`);

test('every documented field of fdscan/audit@1 and fdscan/top@1 is named in the section of its schema in docs/json.md', (t) => {
  for (const [schema, table] of [['fdscan/audit@1', PROCESS_FIELDS], ['fdscan/top@1', TOP_FIELDS]] as const) {
    const text = schemaSections(schema);
    t.true(text.length > 0, `no section of docs/json.md names ${schema}`);
    const keys = documentedKeys(table as FieldTable<object>);
    t.true(keys.length > 8, schema);
    for (const path of keys) t.regex(text, named(path.split('.').at(-1)!), `${schema}: ${path} is written to JSON but not documented`);
  }
});

/** The audit of the fixture, peers named. */
const auditOf = (pid: number): ProcessAudit => listDescriptors(pid, { peers: true });

linux('each column shows a field of the JSON: the headers are the columns\' and every row of a real process has each column\'s key', (t) => {
  const audit = auditOf(fixture.pid);
  const doc = JSON.parse(JSON.stringify(auditDocument(audit))) as { fds: Array<Record<string, unknown>> };
  const columnKeys = Object.entries(DESCRIPTOR_FIELDS.fields).filter(([, field]) => field.column).map(([key]) => key);
  t.deepEqual(columnKeys, ['fd', 'type', 'access', 'inheritable', 'offset', 'target']);
  t.true(doc.fds.length >= 18);
  for (const row of doc.fds) for (const key of columnKeys) t.true(key in row, `fd ${String(row.fd)} has no ${key}`);
  const head = renderAuditTable(audit, { color: false }).split('\n').map(gridCells).find((cells) => cells?.[0]?.trim() === 'FD')!;
  t.deepEqual(head.map((cell) => cell.trim()), columnsOf(DESCRIPTOR_FIELDS).map((column) => column.head));

  const first = topProcesses({ pids: [fixture.pid] });
  const top = topDocument(topProcesses({ pids: [fixture.pid], previous: first })) as { processes: Array<Record<string, unknown>> };
  t.deepEqual(Object.keys(top.processes[0]!), ['pid', 'command', 'user', 'uid', 'open', 'inheritable', 'limits', 'usage', 'growth'], 'every field of the fixture known, in the documented order');
  for (const key of TOP_FIELDS.columns!) t.true(key in top.processes[0]!, key);
  const lines = renderTop(first, 'usage', { color: false }, { interval: true }).split('\n');
  t.deepEqual(lines[1]!.trim().split(/\s+/), columnsOf(TOP_FIELDS).map((column) => column.head));
});

linux('the JSON writes the documented fields only: a field the process, a descriptor, a socket, a holder or the limits carry beside them is left out, the rest byte for byte', (t) => {
  const audit = auditOf(fixture.pid);
  const asItWas = JSON.stringify({ schema: 'fdscan/audit@1', ...audit });
  t.is(JSON.stringify(auditDocument(audit)), asItWas, 'documented fields in the order the probe gave them');
  const withMore = structuredClone(audit) as ProcessAudit & Record<string, unknown>;
  withMore.cache = { internal: true };
  (withMore.limits as unknown as Record<string, unknown>).source = '/proc/PID/limits';
  const socket = withMore.fds.find((d) => d.socket && d.peers && d.peers.length > 0);
  t.truthy(socket, 'the fixture holds a unix socket pair, each end naming the other');
  (socket!.socket as unknown as Record<string, unknown>).diagInode = 1;
  (socket!.peers![0] as unknown as Record<string, unknown>).starttime = 2;
  for (const row of withMore.fds) (row as Descriptor & Record<string, unknown>).statx = { mask: 0x7ff };
  t.is(JSON.stringify(auditDocument(withMore)), asItWas);

  const result = topProcesses({ pids: [fixture.pid] });
  const before = JSON.stringify(topDocument(result));
  for (const p of result.processes) (p as TopProcess & Record<string, unknown>).tallyMethod = 'getdents64';
  t.is(JSON.stringify(topDocument(result)), before);
});

linux('a column is one entry of a field table: added, it shows in the audit\'s table, in top\'s and in the JSON', (t) => {
  // A field the data does not have yet (as a probe would add it), made a column by one entry each.
  const audit = auditOf(fixture.pid);
  const links = new Map(audit.fds.map((d, i) => [d.fd, i % 3]));
  for (const row of audit.fds) (row as Descriptor & { links?: number }).links = links.get(row.fd);
  const result = topProcesses({ pids: [fixture.pid] });
  for (const p of result.processes) (p as TopProcess & { threads?: number }).threads = 7;
  t.false(JSON.stringify(auditDocument(audit)).includes('"links"'), 'not documented yet: not written');

  const descriptorFields = DESCRIPTOR_FIELDS.fields;
  const topFields = TOP_FIELDS.fields;
  const topColumns = TOP_FIELDS.columns;
  type Loose = { fields: unknown; columns?: unknown };
  try {
    (DESCRIPTOR_FIELDS as Loose).fields = { ...descriptorFields, links: { column: { head: 'LINKS', align: 'left', cell: (d: { links?: number }) => String(d.links ?? '?') } } };
    (TOP_FIELDS as Loose).fields = { ...topFields, threads: { column: { head: 'THREADS', align: 'right', cell: (p: { threads?: number }) => String(p.threads ?? '?') } } };
    (TOP_FIELDS as Loose).columns = [...topColumns!, 'threads'];

    const grid = renderAuditTable(audit, { color: false }).split('\n').map(gridCells).filter((cells) => cells !== undefined);
    t.deepEqual(grid[0]!.map((cell) => cell.trim()), ['FD', 'TYPE', 'MODE', 'INHERIT', 'OFFSET', 'TARGET', 'LINKS']);
    t.deepEqual(grid.slice(1).map((cells) => [Number(cells[0]), Number(cells[6])]), audit.fds.map((d) => [d.fd, links.get(d.fd)]));
    const fds = (JSON.parse(JSON.stringify(auditDocument(audit))) as { fds: Array<{ fd: number; links: number }> }).fds;
    t.deepEqual(fds.map((d) => [d.fd, d.links]), audit.fds.map((d) => [d.fd, links.get(d.fd)]));

    const lines = renderTop(result, 'usage', { color: false }).split('\n');
    t.deepEqual(lines[1]!.trim().split(/\s+/).slice(-2), ['INHERIT', 'THREADS']);
    t.is(lines[2]!.trim().split(/\s+/).at(-1), '7');
    t.is((topDocument(result) as { processes: Array<{ threads: number }> }).processes[0]!.threads, 7);
  } finally {
    (DESCRIPTOR_FIELDS as Loose).fields = descriptorFields;
    (TOP_FIELDS as Loose).fields = topFields;
    (TOP_FIELDS as Loose).columns = topColumns;
  }
  t.false(renderAuditTable(audit, { color: false }).includes('LINKS'), 'restored');
});
