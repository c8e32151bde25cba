/**
 * The JSON examples of the docs are what fdscan reads and writes: every ```json block parses; the
 * `fdscan/audit@1` example of docs/json.md holds only fields the JSON writer documents (the column
 * model's field tables, src/render/columns.ts); the baseline example of docs/gate-rules.md is a
 * baseline the gate reads, entry for entry.
 */
import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBaseline } from '../src/gate/baseline.js';
import { PROCESS_FIELDS, type FieldTable } from '../src/render/columns.js';
import { docText } from './helpers/doc-examples.js';
import { repoRoot } from './helpers/fixture.js';
import { withTempDir } from './helpers/temp-dir.js';

/** The ```json blocks of a page, their list indentation removed. */
const jsonBlocks = (page: string): string[] =>
  [...docText(page).matchAll(/^( *)```json\n([\s\S]*?)^ *```$/gm)].map((m) => m[2]!.split('\n').map((line) => line.slice(m[1]!.length)).join('\n'));

const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

test('every ```json block of the docs is JSON', (t) => {
  const blocks = pages.flatMap((page) => jsonBlocks(page).map((text) => ({ page, text })));
  t.true(blocks.length >= 2);
  for (const { page, text } of blocks) t.notThrows(() => JSON.parse(text), `${page}: ${text.slice(0, 80)}`);
});

/** Every key of a table and of the tables of its fields, with the path that reaches it. */
function documentedKeys(table: FieldTable<object>, path = ''): string[] {
  return Object.entries(table.fields as Record<string, { fields?: FieldTable<object>; internal?: true }>).flatMap(([key, field]) =>
    field.internal ? [] : [`${path}${key}`, ...(field.fields ? documentedKeys(field.fields, `${path}${key}.`) : [])]);
}

/** Every key path of a JSON value (an array's items under the array's own path). */
function keyPaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => keyPaths(item, path));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${path}${key}`, ...keyPaths(inner, `${path}${key}.`)]);
}

test('the fdscan/audit@1 example of docs/json.md holds only documented fields', (t) => {
  const example = jsonBlocks('docs/json.md').map((text) => JSON.parse(text) as { schema?: string }).find((doc) => doc.schema === 'fdscan/audit@1');
  if (!t.truthy(example)) return;
  const documented = new Set(['schema', ...documentedKeys(PROCESS_FIELDS as FieldTable<object>)]);
  const paths = keyPaths(example);
  t.true(paths.length > 20);
  for (const path of paths) t.true(documented.has(path), `docs/json.md: ${path} is not a field fdscan/audit@1 writes`);
});

test('the baseline example of docs/gate-rules.md is a baseline the gate reads', (t) => {
  const text = jsonBlocks('docs/gate-rules.md').find((block) => block.includes('fdscan/gate-baseline@2'));
  if (!t.truthy(text)) return;
  withTempDir('fdscan-doc-baseline', (dir) => {
    writeFileSync(join(dir, 'baseline.json'), text!);
    const entries = readBaseline(join(dir, 'baseline.json'));
    t.is(entries.length, (JSON.parse(text!) as { entries: unknown[] }).entries.length);
    t.like(entries[0], { kind: 'inherited', opener: 'python leak-logs.py', receiver: 'true', count: 1 });
  });
});
