/**
 * What the gate may let through: `--allow SPEC` and the `allow` list of fdscan.config.json or of the
 * `"fdscan"` key of package.json. A SPEC is a descriptor number (`3`), a type (`SOCK`, `eventfd`),
 * or a path glob (`/tmp/*.log`, `**\/coverage/**`); `fd:`, `type:` and `path:` prefixes say which.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Descriptor } from '../probe-contract.js';
import { UsageError } from '../errors.js';

/** One parsed allow rule. */
export type AllowRule = { kind: 'fd'; fd: number; spec: string } | { kind: 'type'; type: string; spec: string } | { kind: 'path'; glob: RegExp; spec: string };

/** Parse `--allow` values and config entries. */
export function parseAllow(specs: string[]): AllowRule[] {
  return specs.map((raw) => {
    const spec = String(raw).trim();
    const prefixed = /^(fd|type|path):(.*)$/.exec(spec);
    const [kind, value] = prefixed ? [prefixed[1]!, prefixed[2]!] : [/^\d+$/.test(spec) ? 'fd' : /[/*?]/.test(spec) ? 'path' : 'type', spec];
    if (value === '') throw new UsageError(`empty --allow rule '${spec}'`);
    if (kind === 'fd') {
      if (!/^\d+$/.test(value)) throw new UsageError(`--allow fd:N takes a number, not '${value}'`);
      return { kind: 'fd', fd: Number(value), spec };
    }
    if (kind === 'type') return { kind: 'type', type: value.toLowerCase(), spec };
    return { kind: 'path', glob: globToRegExp(value), spec };
  });
}

/** The first rule that allows `d`, or undefined. */
export function allowedBy(rules: AllowRule[], d: Descriptor): AllowRule | undefined {
  return rules.find((rule) =>
    rule.kind === 'fd' ? rule.fd === d.fd : rule.kind === 'type' ? rule.type === d.type.toLowerCase() : rule.glob.test(d.target));
}

/**
 * A glob as a RegExp: `*` any run of characters but `/`, `**` any run including `/`, `?` one
 * character but `/`. Own matcher because path.matchesGlob is experimental in Node 20.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` also matches no directory at all.
      if (glob[i + 2] === '/') { source += '(?:.*/)?'; i += 2; } else { source += '.*'; i += 1; }
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[\\^$.+()|{}[\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Allow specs from `configFile`, else from fdscan.config.json or package.json's "fdscan" key in `cwd`. */
export function loadAllowConfig(cwd: string, configFile?: string): { specs: string[]; source?: string } {
  const read = (file: string): unknown => {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
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
  const own = join(cwd, 'fdscan.config.json');
  if (existsSync(own)) return { specs: specsOf(read(own), own), source: own };
  const pkg = join(cwd, 'package.json');
  if (existsSync(pkg)) {
    const section = (read(pkg) as { fdscan?: unknown }).fdscan;
    if (section !== undefined) return { specs: specsOf(section, `${pkg} "fdscan"`), source: pkg };
  }
  return { specs: [] };
}
