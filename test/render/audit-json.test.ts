/** The audit's JSON written in pieces is byte for byte JSON.stringify of the document. */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditProcesses, listDescriptors } from '../../src/index.js';
import { auditDocument, auditSetDocument, jsonPieces } from '../../src/render/audit-json.js';

const whole = (document: Record<string, unknown>): string => [...jsonPieces(document)].join('');

test('a process of 1,000+ descriptors (several pieces of rows), a set, and empty ones', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-json-'));
  // Names a JSON writer must escape: a quote, a backslash, a newline, a control byte, non-ASCII.
  const names = ['plain', 'quote"d', 'back\\slash', 'new\nline', 'ctl\u0001', 'café ☃'].map((n) => join(dir, n));
  const held: number[] = [];
  try {
    for (const name of names) writeFileSync(name, '');
    for (let i = 0; i < 1000; i++) held.push(openSync(names[i % names.length]!, 'r'));
    const one = auditDocument(listDescriptors(process.pid, { peers: false }));
    t.true((one.fds as unknown[]).length >= 1000);
    t.is(whole(one), JSON.stringify(one));
    const set = auditSetDocument(auditProcesses([process.pid, 2 ** 31 - 1], { peers: false }));
    t.is(whole(set), JSON.stringify(set));
    t.is(whole({ schema: 'x', fds: [], errors: [], gone: undefined }), JSON.stringify({ schema: 'x', fds: [], errors: [] }));
    t.is(whole({ processes: [], failures: [] }), JSON.stringify({ processes: [], failures: [] }));
    t.is(whole({}), '{}');
  } finally {
    for (const fd of held) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
