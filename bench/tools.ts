/**
 * The programs fdscan is measured against (lsof, lsfd, strace) and the ones the rows need (make),
 * installed with apt-get when missing and the bench runs as root on Debian, as CI does.
 */
import { spawnSync } from 'node:child_process';

export interface Tools {
  lsof?: string;
  lsfd?: string;
  strace?: string;
  make?: string;
  notes: string[];
}

/** The first line a tool prints about its version matching `pattern`, or undefined when it is not installed. */
export function versionOf(command: string, args: string[], pattern: RegExp): string | undefined {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.error) return undefined;
  const match = pattern.exec(`${run.stdout}\n${run.stderr}`);
  return match ? match[0].trim() : undefined;
}

const PROBES = {
  lsof: { args: ['-v'], pattern: /revision: *[\d.]+/, format: (v: string) => `lsof ${v.replace(/revision: */, '')}`, apt: 'lsof' },
  lsfd: { args: ['--version'], pattern: /util-linux [\d.]+/, format: (v: string) => `lsfd (${v})`, apt: 'util-linux' },
  strace: { args: ['-V'], pattern: /strace -- version [\d.]+/, format: (v: string) => v.replace(' -- version', ''), apt: 'strace' },
  make: { args: ['--version'], pattern: /GNU Make [\d.]+/, format: (v: string) => v, apt: 'make' },
} as const;

type Name = keyof typeof PROBES;

function probe(name: Name): string | undefined {
  const p = PROBES[name];
  const version = versionOf(name, [...p.args], p.pattern);
  return version === undefined ? undefined : p.format(version);
}

/** Find each tool; with `install`, apt-get the missing ones first (root on a Debian-like system only). */
export function ensureTools(install: boolean): Tools {
  const names = Object.keys(PROBES) as Name[];
  const missing = names.filter((name) => probe(name) === undefined);
  const notes: string[] = [];
  if (missing.length > 0 && install) {
    const packages = [...new Set(missing.map((name) => PROBES[name].apt))];
    if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).error) {
      notes.push(`not installed: ${missing.join(', ')} (install ${packages.join(', ')} as root for their rows)`);
    } else {
      process.stderr.write(`bench: installing ${packages.join(', ')} with apt-get...\n`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
      const run = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
      if (run.status !== 0) notes.push(`apt-get install ${packages.join(' ')} failed: ${run.stderr.trim().split('\n').pop() ?? ''}`);
    }
  }
  const tools: Tools = { notes };
  for (const name of names) {
    const version = probe(name);
    if (version !== undefined) tools[name] = version;
    else notes.push(`${name} not installed: its rows are skipped`);
  }
  return tools;
}
