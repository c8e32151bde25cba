/**
 * The library examples of the docs (their ```js blocks) type-check against the package as built:
 * each block is compiled by tsc, strict, importing 'fdscan' as a user's code does (the package
 * resolving itself), so a renamed export, option or result field fails here. The names a block
 * leaves to the reader (a pid, the function under test) are declared for it.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docText } from './helpers/doc-examples.js';
import { repoRoot } from './helpers/fixture.js';

/** What the examples use without defining it. */
const PRELUDE = [
  'declare const pid: number;',
  'declare function exportReport(path: string): Promise<void>;',
  'declare function openLog(): void;',
].join('\n');

const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

test('every ```js example of the docs type-checks against the built package (tsc, strict)', (t) => {
  const blocks = pages.flatMap((page) => [...docText(page).matchAll(/```js\n([\s\S]*?)```/g)].map((m, i) => ({ name: `${page.replace(/\W/g, '-')}-${i}`, code: m[1]! })));
  t.true(blocks.length >= 4, `${blocks.length} blocks`);
  // Inside the checkout, so that 'fdscan' resolves to this package and 'ava' to its dependency.
  const dir = mkdtempSync(join(repoRoot, 'dist', '.doc-examples-'));
  try {
    for (const { name, code } of blocks) writeFileSync(join(dir, `${name}.mts`), `${PRELUDE}\n${code}\nexport {};\n`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], strict: true, noEmit: true, skipLibCheck: true },
      include: ['*.mts'],
    }));
    const tsc = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    t.is(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
