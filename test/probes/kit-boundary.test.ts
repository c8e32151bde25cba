/**
 * The probe kit is the boundary between fdscan and OS code: a file under probes/ imports from src/
 * only src/probe-kit/index.ts (as lsof's dialects include one common header; a tracer thread's
 * entry also src/tracer-thread/recorder.ts, the recorder it builds), nothing the kit
 * reaches imports back into it, and src/ has no import cycle at all. Read from the TypeScript
 * sources, type-only imports included: a type cycle is a cycle for whoever reads or ports the code.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from '../helpers/fixture.js';

const KIT = join(repoRoot, 'src', 'probe-kit', 'index.ts');
/** The recorder class, for a tracer thread's entry (a worker builds its own). */
const THREAD_KIT = join(repoRoot, 'src', 'tracer-thread', 'recorder.ts');
const CONTRACT = join(repoRoot, 'src', 'probe-kit', 'contract.ts');

/** Every .ts file under `dir` (sources only, no declaration files). */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

// A statement that names a module: import/export ... from '...', a bare import '...', import('...').
const STATIC = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]|^[ \t]*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The modules `file` imports (type-only included), as written. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(STATIC)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/** A relative specifier as the .ts file it names (ESM spells the compiled .js); undefined for a package. */
function resolved(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return resolve(dirname(from), spec).replace(/\.js$/, '.ts');
}

/** The import graph of `files`: each file to the files of `files` it imports. */
function graph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(files.map((f) => [f, specifiers(f).map((s) => resolved(f, s)).filter((t): t is string => t !== undefined && known.has(t))]));
}

/** Strongly connected components of more than one file (or a file importing itself): the import cycles. */
function cycles(edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter); low.set(v, counter); counter++;
    stack.push(v); onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); component.push(w); } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Everything `start` reaches through `edges`, itself included. */
function closure(edges: Map<string, string[]>, start: string): Set<string> {
  const seen = new Set([start]);
  const todo = [start];
  for (let v = todo.pop(); v !== undefined; v = todo.pop()) {
    for (const w of edges.get(v) ?? []) if (!seen.has(w)) { seen.add(w); todo.push(w); }
  }
  return seen;
}

const name = (file: string): string => relative(repoRoot, file).split(sep).join('/');

test('a probe imports from src/ only the probe kit', (t) => {
  const probes = join(repoRoot, 'probes');
  const src = join(repoRoot, 'src');
  const outside: string[] = [];
  let kitImports = 0;
  for (const file of sources(probes)) {
    for (const spec of specifiers(file)) {
      const target = resolved(file, spec);
      if (target === undefined || target.startsWith(probes + sep)) continue;
      if (target === KIT) kitImports++;
      else if (target === THREAD_KIT && file.endsWith('-worker.ts')) continue;
      else outside.push(`${name(file)} imports ${target.startsWith(src + sep) ? name(target) : spec}`);
    }
  }
  t.deepEqual(outside, [], 'probes/ may import from src/ nothing but src/probe-kit/index.ts (and a thread entry src/tracer-thread/recorder.ts)');
  t.true(kitImports > 0, 'the walk sees the probes\' imports of the kit');
});

test('no import cycle in src/ runs through the probe contract or the kit', (t) => {
  const edges = graph(sources(join(repoRoot, 'src')));
  t.true(edges.has(CONTRACT) && edges.has(KIT));
  const kitFiles = new Set(sources(join(repoRoot, 'src', 'probe-kit')));
  const through = cycles(edges).filter((c) => c.includes(CONTRACT) || c.some((f) => kitFiles.has(f)));
  t.deepEqual(through.map((c) => c.map(name).sort()), []);
});

test('no import cycle anywhere in src/', (t) => {
  const edges = graph(sources(join(repoRoot, 'src')));
  t.true([...edges.values()].some((targets) => targets.length > 0), 'the walk sees the imports of src/');
  t.deepEqual(cycles(edges).map((c) => c.map(name).sort()), []);
});

test('the kit reaches nothing of src/ but its own folder and the typed errors; a tracer thread\'s kit adds only the recorder', (t) => {
  const edges = graph(sources(join(repoRoot, 'src')));
  // What every probe module loads: the contract's own shapes, never the library that uses them.
  t.deepEqual([...closure(edges, KIT)].map(name).filter((f) => !f.startsWith('src/probe-kit/') && f !== 'src/errors.ts'), []);
  // A thread's entry builds the recorder (src/trace/ and the identity it matches by); a kit that
  // reached src/platform/probe.ts would load a second probe in the tracer thread.
  const thread = [...closure(edges, THREAD_KIT)].map(name);
  t.deepEqual(thread.filter((f) => /^src\/(cli|render|gate|metrics|lifecycle|watch|track|launch|files|platform)\//.test(f)), [], name(THREAD_KIT));
  t.true(thread.includes('src/trace/trace-recorder.ts'), 'the thread kit builds the recorder');
  t.true([...closure(edges, KIT)].map(name).includes('src/probe-kit/contract.ts'), 'the kit holds the contract');
});
