/**
 * What the gate may let through: `--allow SPEC` and the `allow` list of fdscan.config.json or of the
 * `"fdscan"` key of package.json. A SPEC is a descriptor number (`3`), a type (`SOCK`, `eventfd`),
 * or a path glob (`/tmp/*.log`, `/tmp/*.{log,lock}`, `**\/coverage/**`); `fd:`, `type:` and `path:`
 * prefixes say which. `exe:GLOB` (or `program:GLOB`) allows whatever a program receives: the glob
 * is matched against the receiving program's executable and the argv[0] it was started as, and a
 * glob without `/` against their last component (`exe:make`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import type { Descriptor } from '../probe-kit/contract.js';
import { UsageError } from '../errors.js';
import { readInputFile } from '../files/input-file.js';

/** One parsed allow rule. */
export type AllowRule =
  | { kind: 'fd'; fd: number; spec: string }
  | { kind: 'type'; type: string; spec: string }
  | { kind: 'path'; glob: RegExp; spec: string }
  | { kind: 'program'; glob: RegExp; basename: boolean; spec: string };

/** The program that received a descriptor, for `exe:` rules. */
export interface AllowReceiver {
  exe: string;
  argv: readonly string[];
}

/** Parse `--allow` values and config entries. */
export function parseAllow(specs: string[]): AllowRule[] {
  return specs.map((raw) => {
    const spec = String(raw).trim();
    const prefixed = /^(fd|type|path|exe|program):(.*)$/.exec(spec);
    const [kind, value] = prefixed ? [prefixed[1]!, prefixed[2]!] : [/^\d+$/.test(spec) ? 'fd' : /[/*?[{]/.test(spec) ? 'path' : 'type', spec];
    if (value === '') throw new UsageError(`empty --allow rule '${spec}'`);
    if (kind === 'fd') {
      if (!/^\d+$/.test(value)) throw new UsageError(`--allow fd:N takes a number, not '${value}'`);
      return { kind: 'fd', fd: Number(value), spec };
    }
    if (kind === 'type') return { kind: 'type', type: value.toLowerCase(), spec };
    if (kind === 'exe' || kind === 'program') return { kind: 'program', glob: globToRegExp(value), basename: !value.includes('/'), spec };
    return { kind: 'path', glob: globToRegExp(value), spec };
  });
}

/** The first rule that allows `d`, received by `receiver` (without one, `exe:` rules match nothing), or undefined. */
export function allowedBy(rules: AllowRule[], d: Descriptor, receiver?: AllowReceiver): AllowRule | undefined {
  return rules.find((rule) => {
    switch (rule.kind) {
      case 'fd': return rule.fd === d.fd;
      case 'type': return rule.type === d.type.toLowerCase();
      case 'path': return rule.glob.test(d.target);
      case 'program': return receiver !== undefined && programMatches(rule, receiver);
    }
  });
}

function programMatches(rule: { glob: RegExp; basename: boolean }, receiver: AllowReceiver): boolean {
  const names = [receiver.exe, receiver.argv[0]].filter((name): name is string => name !== undefined && name !== '');
  return names.some((name) => rule.glob.test(rule.basename ? name.slice(name.lastIndexOf('/') + 1) : name));
}

/**
 * A glob as a RegExp, matched by picomatch: `*` any run of characters but `/`, `**` any run
 * including `/`, `?` one character but `/`, `{a,b}` and `{1..3}` alternatives, `[ab]`, `[a-z]` and
 * `[!ab]` one character of a class (never `/`), `\` makes the next character literal. Dotfiles
 * match like other files. The rest is literal, as fdscan documented before picomatch: `!`,
 * parentheses and `|` (targets hold `(deleted)`, `(LISTEN)`); a bracket holding `*`, so `pipe:[*]`
 * matches every pipe (targets bracket inode numbers); and a `**` inside a path segment
 * (`/srv/**.log`) still crosses directories, where picomatch would read it as `*`.
 */
export function globToRegExp(glob: string): RegExp {
  return picomatch.makeRe(asPicomatchGlob(glob), GLOB_OPTIONS);
}

// makeRe (unlike picomatch()) never guesses Windows separators: targets are matched as they are shown.
const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true };

/** fdscan's glob in picomatch's syntax (see globToRegExp). */
function asPicomatchGlob(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\') {
      out += glob.slice(i, i + 2);
      i++;
    } else if (c === '(' || c === ')' || c === '|' || c === ']') {
      // A `]` that closes a class was consumed with it: any other is literal.
      out += `\\${c}`;
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      const body = close === -1 ? '' : glob.slice(i + 1, close);
      if (close === -1 || body.includes('/') || body.includes('*')) {
        // Literal: what follows (a star of `[*]`) keeps its own meaning.
        out += '\\[';
      } else {
        // picomatch negates a class with `^` only.
        out += `[${body.replace(/^!/, '^')}]`;
        i = close;
      }
    } else if (c === '*') {
      let end = i;
      while (glob[end + 1] === '*') end++;
      const whole = end > i && (i === 0 || glob[i - 1] === '/') && (end + 1 === glob.length || glob[end + 1] === '/');
      out += end === i ? '*' : whole ? '**' : '{*,*/**/*}';
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

/** Allow specs from `configFile`, else from fdscan.config.json or package.json's "fdscan" key in `cwd`. */
export function loadAllowConfig(cwd: string | undefined, configFile?: string): { specs: string[]; source?: string } {
  const read = (file: string): unknown => {
    const text = readInputFile(file, configFile ? '--config' : 'config');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
  };
  const specsOf = (value: unknown, file: string): string[] => {
    const allow = (value as { allow?: unknown } | undefined)?.allow;
    if (allow === undefined) return [];
    if (!Array.isArray(allow)) throw new UsageError(`${file}: "allow" must be an array of rules`);
    return allow.map(String);
  };
  if (configFile) return { specs: specsOf(read(configFile), configFile), source: configFile };
  // A deleted working directory holds no configuration.
  if (cwd === undefined) return { specs: [] };
  const own = join(cwd, 'fdscan.config.json');
  if (existsSync(own)) return { specs: specsOf(read(own), own), source: own };
  const pkg = join(cwd, 'package.json');
  if (existsSync(pkg)) {
    const section = (read(pkg) as { fdscan?: unknown }).fdscan;
    if (section !== undefined) return { specs: specsOf(section, `${pkg} "fdscan"`), source: pkg };
  }
  return { specs: [] };
}
