/**
 * The README and docs/ hold together: every relative link names a file of the repository (and,
 * with `#anchor`, a heading of it, as GitHub makes anchors), and every example block that runs
 * fdscan (a `$ ` line naming it) is run by test/readme-examples.test.ts (listed in
 * test/helpers/doc-examples.ts) or marked `<!-- illustrative: why -->` on a line above it. Lists
 * the docs give of the code's tables are the code's (the forwarded signals), and every option a
 * command's page names is one its --help lists. The library the docs show is the package's: what
 * they import from 'fdscan' and call is exported, and each error class has the code they give it.
 * Every file of the checkout they name exists.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { FORWARDED_SIGNALS } from '../src/cli/wrapping.js';
import * as library from '../src/index.js';
import { TESTED_EXAMPLES, blockAfter, docText } from './helpers/doc-examples.js';
import { fdscanBin, repoRoot } from './helpers/fixture.js';

/** README.md and every page of docs/, as paths from the repository's root. */
const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];

/** A page's lines, each with whether it is inside a ``` block. */
function linesOf(file: string): Array<{ text: string; fenced: boolean; number: number }> {
  let fenced = false;
  return docText(file).split('\n').map((text, i) => {
    const fence = text.trimStart().startsWith('```');
    if (fence) fenced = !fenced;
    return { text, fenced: fenced || fence, number: i + 1 };
  });
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of linesOf(file)) {
    const heading = /^#{1,6} (.*)$/.exec(line.text);
    if (!heading || line.fenced) continue;
    const slug = heading[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

test('the README points to every page of docs/, and each page back to the README', (t) => {
  const readme = docText('README.md');
  for (const page of pages.slice(1)) {
    t.true(readme.includes(`](${page})`) || readme.includes(`](${page}#`), `README.md does not link ${page}`);
    t.true(docText(page).includes('](../README.md)'), `${page} does not link the README`);
  }
});

test('every relative link of the README and docs/ names a file of the repository, and its anchor a heading there', (t) => {
  let links = 0;
  for (const page of pages) {
    for (const line of linesOf(page)) {
      if (line.fenced) continue;
      // Inline code is not a link: `[x](y)` inside backticks is left out.
      for (const match of line.text.replace(/`[^`]*`/g, '``').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        links++;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? page : normalize(join(dirname(page), path));
        const where = `${page}:${line.number}: ${target}`;
        if (!t.true(existsSync(join(repoRoot, file)), `${where}: no such file`)) continue;
        if (anchor !== undefined) {
          t.true(file.endsWith('.md') && statSync(join(repoRoot, file)).isFile(), `${where}: an anchor into what is not a page`);
          t.true(anchorsOf(file).has(anchor), `${where}: no heading with that anchor in ${file} (${[...anchorsOf(file)].join(' ')})`);
        }
      }
    }
  }
  t.true(links > 40, `only ${links} links found`);
});

/** The line a fenced block opens on, for each block that has a `$ ` line naming fdscan. */
function fdscanBlocks(file: string): number[] {
  const starts: number[] = [];
  let open: number | undefined;
  let runsFdscan = false;
  for (const line of docText(file).split('\n').map((text, i) => ({ text, number: i + 1 }))) {
    if (line.text.trimStart().startsWith('```')) {
      if (open === undefined) {
        open = line.number;
        runsFdscan = false;
      } else {
        if (runsFdscan) starts.push(open);
        open = undefined;
      }
    } else if (open !== undefined && /^\$ .*\bfdscan\b/.test(line.text)) runsFdscan = true;
  }
  return starts;
}

test('every example block that runs fdscan is run by a test or marked illustrative', (t) => {
  const tested = new Set(Object.values(TESTED_EXAMPLES).flat().map((place) => `${place.file}:${blockAfter(place).line - 1}`));
  let illustrative = 0;
  for (const page of pages) {
    const lines = docText(page).split('\n');
    for (const start of fdscanBlocks(page)) {
      if (tested.has(`${page}:${start}`)) continue;
      // The marker is on one of the three lines above the fence, with a reason.
      const marked = lines.slice(Math.max(0, start - 4), start - 1).some((line) => /^<!-- illustrative: \S.* -->$/.test(line));
      if (marked) illustrative++;
      t.true(marked, `${page}:${start}: an example running fdscan that no test runs and that is not marked <!-- illustrative: why -->`);
    }
  }
  t.true(illustrative > 0);
});

test('every example a test runs is a block that runs fdscan', (t) => {
  for (const place of Object.values(TESTED_EXAMPLES).flat()) {
    const { line } = blockAfter(place);
    t.true(fdscanBlocks(place.file).includes(line - 1), `${place.file}: the block after ${place.heading} runs no fdscan`);
  }
});

/** The signals a page's sentence says are forwarded: the SIG names from `start` up to the word `forwarded`. */
function forwardedIn(file: string, start: string): string[] {
  const text = docText(file);
  const at = text.indexOf(start);
  if (at === -1) throw new Error(`${file}: no ${start}`);
  const sentence = text.slice(at, text.indexOf('forwarded', at));
  return [...sentence.matchAll(/\bSIG[A-Z0-9]+\b/g)].map((m) => m[0]).sort();
}

(process.platform === 'win32' ? test.skip : test)('the forwarded signals the docs list are the ones fdscan forwards', (t) => {
  const real = [...FORWARDED_SIGNALS].sort();
  t.true(real.length >= 15);
  t.deepEqual(forwardedIn('docs/wrapping.md', '- **Signals.**'), real);
  t.deepEqual(forwardedIn('docs/inherit-diff.md', 'Every signal a program may be sent from outside'), real);
});

/** Each command's page, and the options it names that are another program's (or command's), with whose. */
const COMMAND_PAGES: Array<{ page: string; command: string[]; others?: Record<string, string> }> = [
  { page: 'docs/audit.md', command: [] },
  { page: 'docs/inherit-diff.md', command: ['inherit-diff'] },
  { page: 'docs/run.md', command: ['run'] },
  { page: 'docs/gate.md', command: ['gate'], others: { '--close-fds': 'fdscan run' } },
  { page: 'docs/gate-rules.md', command: ['gate'], others: { '--jobserver-auth': 'GNU make', '--jobserver-fds': 'GNU make' } },
  { page: 'docs/lifecycle.md', command: ['lifecycle'] },
  { page: 'docs/watch.md', command: ['watch'] },
  { page: 'docs/top.md', command: ['top'] },
  { page: 'docs/metrics.md', command: ['metrics'] },
  { page: 'docs/serve.md', command: ['serve'] },
];

test('every option a command\'s page names in code is one its --help lists (--no-X as X)', (t) => {
  for (const { page, command, others = {} } of COMMAND_PAGES) {
    const help = spawnSync(process.execPath, [fdscanBin, ...command, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
    t.is(help.status, 0, help.stderr);
    const listed = new Set([...help.stdout.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
    const named = new Set<string>();
    for (const line of linesOf(page)) {
      if (line.fenced) continue;
      for (const code of line.text.matchAll(/`([^`]+)`/g)) for (const option of code[1]!.matchAll(/(?:^|[\s[])(--[a-z][a-z-]*)/g)) named.add(option[1]!);
    }
    t.true(named.size > 0, `${page} names no option`);
    for (const option of named) {
      if (option in others) continue;
      t.true(listed.has(option) || listed.has(option.replace(/^--no-/, '--')), `${page} names ${option}, which \`fdscan ${command.join(' ')} --help\` does not list`);
    }
    for (const option of Object.keys(others)) t.true(named.has(option), `${page}: ${option} is listed as another program's but the page does not name it`);
  }
});

test('what the docs import from fdscan and the library page calls is exported, and each error class has its documented code', (t) => {
  const exported = library as Record<string, unknown>;
  const imported = pages.flatMap((page) => [...docText(page).matchAll(/import \{([^}]*)\} from 'fdscan'/g)].flatMap((m) => m[1]!.split(',').map((name) => name.trim())));
  const page = docText('docs/library.md');
  // `ignore(descriptor)` is an option of trackDescriptors, not an export.
  const called = [...page.matchAll(/`(?:new )?([A-Za-z_]\w*)\(/g)].map((m) => m[1]!).filter((name) => name !== 'ignore');
  t.true(imported.length >= 10 && called.length >= 10, `${imported.length} imported, ${called.length} called`);
  for (const name of new Set([...imported, ...called])) t.true(name in exported, `the docs use ${name}, which fdscan does not export`);
  const classes = [...page.matchAll(/`([A-Z]\w+)` \(`(E[A-Z_]+)`/g)].map((m) => [m[1]!, m[2]!] as const);
  t.true(classes.length >= 6);
  for (const [name, code] of classes) {
    const Class = exported[name] as (new (...args: never[]) => Error) | undefined;
    if (!t.is(typeof Class, 'function', `${name} is not exported`)) continue;
    // Each constructor takes a pid, a call or a word first and a detail second: any values make one.
    t.is((new Class!(1 as never, 'x' as never) as Error & { code?: string }).code, code, name);
  }
});


/** Where a path the docs write may start, and where else a short one of the reliability table lives. */
const ROOTS = /^(?:\.ci|bench|bin|dist|docs|examples|probes|snapshots|src|test|fixtures|cli|render|reliability)\//;

/** A path of the checkout for one the docs write: built files as their sources, test-relative ones under test/. */
function checkoutPaths(path: string): string[] {
  const source = path.replace(/^dist\//, '').replace(/\.js$/, '.ts');
  return [path, source, path.replace(/\.js$/, '.ts'), `test/${path}`, `test/reliability/${path}`];
}

test('every file of the checkout the docs name in code exists (a built file as its source)', (t) => {
  let named = 0;
  for (const page of pages) {
    for (const line of linesOf(page)) {
      if (line.fenced) continue;
      for (const code of line.text.matchAll(/`([^`\s]+)`/g)) {
        const path = code[1]!.replace(/[),.:;]+$/, '');
        // Globs, folders named by their trailing slash, and `dist/.compile-cache` (made at run time) are not files to find.
        if (!ROOTS.test(path) || /[*<>]|\/$/.test(path) || path.includes('.compile-cache') || path === 'dist/fdscan.js' || path.startsWith('dist/') && !/\.(js|ts)$/.test(path)) continue;
        named++;
        t.true(checkoutPaths(path).some((candidate) => existsSync(join(repoRoot, candidate))), `${page}:${line.number}: ${path} is not in the checkout`);
      }
    }
  }
  t.true(named > 30, `only ${named} paths named`);
});

test('every module docs/internals.md names by its file name alone is a file of probes/ or src/', (t) => {
  const files = new Set(['probes', 'src'].flatMap((root) => readdirSync(join(repoRoot, root), { recursive: true }).map((path) => String(path).split('/').at(-1)!)));
  const named = [...docText('docs/internals.md').matchAll(/`([\w-]+\.ts)`/g)].map((m) => m[1]!);
  t.true(named.length > 15, `only ${named.length} named`);
  for (const name of named) t.true(files.has(name), `docs/internals.md names ${name}, which no folder of probes/ or src/ holds`);
});
