/**
 * Names that stay the same from one run to the next, which the baseline keys its entries by and the
 * reports group by: a program without its version or temporary paths, a descriptor without its pipe
 * inode or mkdtemp suffix.
 */
import { tmpdir } from 'node:os';
import type { Descriptor } from '../probe-kit/contract.js';
import { linkShape, withoutDeletedSuffix } from '../probe-kit/link-text.js';

const INTERPRETERS = /^(python|pypy|node|nodejs|bun|deno|perl|ruby|php|sh|bash|dash|zsh|ksh|mksh|ash)$/;

/**
 * A program without what changes between runs: its executable's name with its version dropped
 * (`python3.11` is `python`), and for an interpreter what it runs: `python -m pytest`,
 * `python app.py`, `sh -c`.
 */
export function programName(argv: readonly string[], exe?: string): string {
  const path = exe && !exe.startsWith('(') ? exe : argv[0] ?? '?';
  const name = basename(path).replace(/[\d.]+$/, '').replace(/-?$/, '') || basename(path);
  if (!INTERPRETERS.test(name)) return name;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '-e' || arg === '--eval') return `${name} ${arg}${scriptLine(argv[i + 1])}`;
    if (arg === '-m' && argv[i + 1] !== undefined) return `${name} -m ${argv[i + 1]}`;
    if (arg === '--') continue;
    if (!arg.startsWith('-')) return `${name} ${normalisePath(basename(arg))}`;
  }
  return name;
}

/** How many characters of a `-c` script's first line name it. */
const SCRIPT_LINE = 60;

/**
 * ` LINE`: the first non-empty line of a `-c` script, trimmed, cut to SCRIPT_LINE characters, its
 * temporary paths normalised; so that `sh -c 'cat'` and `sh -c 'grep x'` are two programs.
 */
function scriptLine(script: string | undefined): string {
  const line = script?.split('\n').map((l) => l.trim()).find((l) => l !== '');
  if (line === undefined) return '';
  const words = line.split(/(\s+|['"=:;,()])/).map((word) => (word.startsWith('/') ? normalisePath(word) : word)).join('');
  return ` ${Array.from(words).slice(0, SCRIPT_LINE).join('')}`;
}

/** A descriptor without what changes between runs: `REG /tmp/*` paths, `FIFO pipe` for an anonymous pipe, a socket's protocol and state. */
export function descriptorName(d: Descriptor): string {
  if (d.socket) {
    const { protocol, state, local } = d.socket;
    const path = protocol === 'unix' && local ? ` ${normalisePath(local)}` : '';
    return `SOCK ${protocol}${path}${state ? ` ${state}` : ''}`;
  }
  const shape = linkShape(d.target);
  if (shape.kind === 'pipe') return `${d.type} pipe`;
  if (shape.kind === 'path') return `${d.type} ${normalisePath(d.target)}`;
  if (d.target.startsWith('memfd:')) return `${d.type} ${withoutDeletedSuffix(d.target)}`;
  // anon_inode:[eventfd], socket:[123] and the like: the kind is all that stays.
  return d.type;
}

const TEMP_ROOTS = [...new Set([tmpdir(), '/tmp', '/var/tmp', '/dev/shm'].map((root) => root.replace(/\/+$/, '')))];

/**
 * `path` with the randomness of temporary names replaced by `*`, under a temporary directory only:
 * mkdtemp's and mktemp's random suffixes (`fdscan-gate-Ab3dE9`, `tmp.x8Fq2LzP0a`, `pymp-6drehw5_`),
 * Python's `tmpk3j_x9a2`, and in directory names any digits (`pytest-12`, `test_leak0`); pids under /proc.
 */
export function normalisePath(path: string): string {
  if (/^\/proc\/\d+\//.test(path)) return path.replace(/^\/proc\/\d+\//, '/proc/*/');
  const root = TEMP_ROOTS.find((r) => path.startsWith(`${r}/`));
  if (!root) return path;
  const parts = path.slice(root.length + 1).split('/');
  return `${root}/${parts.map((part, i) => {
    let out = part.replace(/^tmp[a-z0-9_]{8}/, 'tmp*');
    if (i < parts.length - 1) {
      out = out.replace(/([-_.])[A-Za-z0-9_]{6,}$/, '$1*').replace(/\d+/g, '*');
    } else {
      out = out.replace(/([-_.])(?=[A-Za-z0-9_]*\d)[A-Za-z0-9_]{6,}/g, '$1*');
    }
    return out;
  }).join('/')}`;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
