// Bundles the command line into dist/fdscan.js, the file bin/fdscan.js loads: one file to read and
// compile instead of ~60 ES modules, which start-up spent ~30 ms resolving and loading (issue 13),
// and which at a low descriptor limit (ulimit -n 32) failed to load with EMFILE. yargs and its
// dependencies (~25 more modules) are bundled apart, into dist/yargs.js, loaded only for what the
// fast path does not take (src/cli/fast-path.ts). The input is tsc's output (run `tsc -p
// tsconfig.json` first: `npm run build` does both), so the bundle holds the code that was
// type-checked. The library entry (dist/src/index.js) stays tsc's.
//
// koffi, a native module whose .node binary is found relative to its own files, stays outside and
// loads from node_modules as before.
// The tracer thread's entry is bundled too, into dist/tracer-worker.js. The other worker entries
// (the metrics scraper's, the Windows name helper) stay tsc's output: a `new URL('./x.js',
// import.meta.url)` in the bundled code is rewritten to point from the bundle to that file in dist/.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const nodeRequire = createRequire(import.meta.url);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(root, 'dist');
const outfile = resolve(dist, 'fdscan.js');
const yargsOutfile = resolve(dist, 'yargs.js');
/**
 * Worker entries bundled too, each into one file beside the bundle: the tracer thread loaded its
 * ~20 modules in ~80 ms, the critical path of `gate` and `inherit-diff` once it starts while the
 * command line is parsed. A `new URL` naming the entry in the bundle points at its bundle.
 */
const bundledWorkers = new Map([
  [resolve(dist, 'probes/linux/tracer-worker.js'), resolve(dist, 'tracer-worker.js')],
  [resolve(dist, 'probes/linux/spawn-thread.js'), resolve(dist, 'spawn-thread.js')],
]);

/** `new URL('./file.js', import.meta.url)`: a file beside the module, found at run time. */
const SIBLING_URL = /new URL\((['"])(\.{1,2}\/[^'"]+)\1, import\.meta\.url\)/g;

const siblingUrls = {
  name: 'sibling-urls',
  setup(plugin) {
    plugin.onLoad({ filter: /\.js$/ }, async ({ path }) => {
      if (!path.startsWith(dist)) return undefined;
      const text = await readFile(path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const rewritten = text.replace(SIBLING_URL, (_, quote, target) => {
        const file = resolve(dirname(path), target);
        const fromBundle = relative(dirname(outfile), bundledWorkers.get(file) ?? file).split('\\').join('/');
        return `new URL(${quote}./${fromBundle}${quote}, import.meta.url)`;
      });
      // Any other use of import.meta would now see the bundle's location instead of the module's.
      const other = rewritten.replace(/new URL\((['"])\.\/[^'"]+\1, import\.meta\.url\)/g, '').replace(/createRequire\(import\.meta\.url\)/g, '');
      if (other.includes('import.meta')) throw new Error(`${relative(root, path)}: import.meta used in a way the bundle cannot keep`);
      return { contents: rewritten, loader: 'js', resolveDir: dirname(path) };
    });
  },
};

/** Node's own modules the audit itself uses: loaded with the bundle (see eagerBuiltins). */
const EAGER_BUILTINS = new Set(['node:fs', 'node:os', 'node:path', 'node:url', 'node:module', 'node:buffer']);

/**
 * An ES import of a Node module makes Node build an ES facade of it, which reads every export:
 * node:fs's ReadStream and promises are getters that load Node's streams and fs/promises, 4 ms on
 * Node 20 and 8 ms on Node 26 of every run (require('node:fs') takes 0.2 ms). So the bundle
 * requires them and exports under their own names the values fdscan's modules import, found in
 * tsc's output (`import { a, b as c } from 'node:fs'`, the one form they use: another fails the
 * build). Only those: a list of everything the building Node has would hold names another Node
 * lacks (Node 26 has no buffer.SlowBuffer); test/cli/other-packages.test.ts checks each name on
 * the Node that runs the tests.
 */
async function importedNames() {
  const names = new Map([...EAGER_BUILTINS].map((name) => [name, new Set()]));
  const files = (await readdir(dist, { recursive: true })).filter((file) => /^(src|probes)[\\/].*\.js$/.test(file));
  for (const file of files) {
    const text = await readFile(resolve(dist, file), 'utf8');
    for (const [statement, module] of text.matchAll(/^import\b[^;]*?from '(node:[\w/]+)';$/gm)) {
      if (!names.has(module)) continue;
      const list = /^import \{([^}]*)\} from /.exec(statement)?.[1];
      if (list === undefined) throw new Error(`dist/${file}: ${statement}: import ${module}'s names as import { a, b } (see eagerBuiltins)`);
      for (const entry of list.split(',')) if (entry.trim()) names.get(module).add(entry.trim().split(/\s+as\s+/)[0]);
    }
  }
  return names;
}

const eagerNames = await importedNames();

const eagerBuiltins = {
  name: 'eager-builtins',
  setup(plugin) {
    plugin.onResolve({ filter: /^node:/ }, ({ path, kind }) =>
      kind === 'import-statement' && EAGER_BUILTINS.has(path) ? { path, namespace: 'eager-builtin' } : undefined);
    plugin.onLoad({ filter: /.*/, namespace: 'eager-builtin' }, ({ path }) => {
      const names = [...eagerNames.get(path)];
      const contents = `const m = require(${JSON.stringify(path)});\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`;
      return { contents, loader: 'js' };
    });
  },
};

/**
 * Every other Node module is required where the module that imports it starts. esbuild hoists an
 * external import to the top of the bundle, so the commands' Node modules (node:http for serve,
 * node:net, node:child_process, node:worker_threads...) would load on every run, ~10 ms; as
 * CommonJS they load with the code that uses them, when main.ts imports that command. Not for all
 * of them: each such import costs a copy of the module's properties (esbuild's __toESM), ~1 ms
 * for node:fs, imported by 25 modules.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(plugin) {
    plugin.onResolve({ filter: /^node:/ }, ({ path, kind }) =>
      kind === 'import-statement' && !EAGER_BUILTINS.has(path) ? { path, namespace: 'lazy-builtin' } : undefined);
    plugin.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, ({ path }) => ({ contents: `module.exports = require(${JSON.stringify(path)});`, loader: 'js' }));
  },
};

/**
 * src/platform/probe.ts loads the platform's probe with a require made by createRequire (a top-level await
 * would keep the library from being required). Made esbuild's own `require(`, the probes are
 * bundled (each initialised only when required) rather than loaded from dist/ at run time.
 */
const bundledProbes = {
  name: 'bundled-probes',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]src[\\/]platform[\\/]probe\.js$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      const made = 'const requireProbe = createRequire(import.meta.url);';
      if (!text.includes(made) || !text.includes("requireProbe('../../probes/")) throw new Error(`${relative(root, path)}: no "${made}" and requireProbe('../../probes/...') calls to bundle (a new loader?)`);
      return { contents: text.replace(made, '').replaceAll('requireProbe(', 'require('), loader: 'js', resolveDir: dirname(path) };
    });
  },
};

/** import('yargs') in the command line loads the yargs bundle beside it. */
const yargsApart = {
  name: 'yargs-apart',
  setup(plugin) {
    plugin.onResolve({ filter: /^yargs$/ }, () => ({ path: './yargs.js', external: true }));
  },
};

/**
 * yargs takes the folder above node_modules (its "main filename", else process.cwd()) and its
 * locales from the path of its own file (lib/platform-shims/esm.mjs), when it loads. Bundled into
 * a checkout's dist/ there is no node_modules on that path, and process.cwd() throws in a deleted
 * working directory: fdscan could not start there. The bundled copy takes the path of the
 * installed yargs instead (still a dependency), as unbundled. Pinned by
 * test/cli/other-packages.test.ts (the bundled yargs loads in a deleted directory).
 */
const yargsOwnPath = {
  name: 'yargs-own-path',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      const own = 'const __dirname = fileURLToPath(import.meta.url);';
      if (!text.includes(own)) throw new Error(`${relative(root, path)}: no "${own}" to point at the installed yargs (a new yargs?)`);
      const installed = "const __dirname = join(dirname(createRequire(import.meta.url).resolve('yargs/package.json')), 'lib/platform-shims/esm.mjs');";
      return { contents: text.replace(own, installed), loader: 'js', resolveDir: dirname(path) };
    });
  },
};

/**
 * string-width (cliui's, wrap-ansi's and yargs' own copies, v7) makes an Intl.Segmenter when it
 * is imported: ICU loads its break-iterator data, ~45 ms of every command that yargs parses, for a
 * width yargs only measures when it prints help. The bundle makes it on first use instead (the
 * same segmenter, the same widths). A string-width without that line bundles as it is; one that
 * makes its segmenter some other way fails the build, to be looked at. Pinned by
 * test/cli/other-packages.test.ts: no segmenter made by a parse, the same help text as yargs
 * unbundled.
 */
const lazySegmenter = {
  name: 'lazy-segmenter',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      const eager = 'const segmenter = new Intl.Segmenter();';
      if (!text.includes('Intl.Segmenter')) return undefined;
      if (!text.includes(eager)) throw new Error(`${relative(root, path)}: no "${eager}" to make lazy (a new string-width?)`);
      const lazy = 'let madeSegmenter;\nconst segmenter = { segment: (text) => (madeSegmenter ??= new Intl.Segmenter()).segment(text) };';
      return { contents: text.replace(eager, lazy), loader: 'js', resolveDir: dirname(path) };
    });
  },
};

const common = {
  bundle: true,
  // koffi's version, for probes/native-library.ts to load koffi's prebuilt binary directly.
  // And fdscan's own, for --version (src/cli/main.ts).
  define: {
    FDSCAN_KOFFI_VERSION: JSON.stringify(JSON.parse(await readFile(resolve(dirname(nodeRequire.resolve('koffi')), 'package.json'), 'utf8')).version),
    FDSCAN_VERSION: JSON.stringify(JSON.parse(await readFile(resolve(root, 'package.json'), 'utf8')).version),
  },
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // The bundled CommonJS packages (cli-table3, picomatch) call require() for their optional parts.
  banner: { js: "import { createRequire as __fdscanCreateRequire } from 'node:module';\nconst require = __fdscanCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: [resolve(dist, 'src/cli/main.js')], outfile, external: ['koffi'], plugins: [bundledProbes, siblingUrls, eagerBuiltins, lazyBuiltins, yargsApart] }),
  build({ ...common, entryPoints: ['yargs'], outfile: yargsOutfile, plugins: [yargsOwnPath, lazySegmenter] }),
  ...[...bundledWorkers].map(([entry, workerOutfile]) =>
    build({ ...common, entryPoints: [entry], outfile: workerOutfile, external: ['koffi'], plugins: [bundledProbes, siblingUrls, eagerBuiltins, lazyBuiltins] })),
]);
