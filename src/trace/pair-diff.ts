/**
 * `fdscan inherit-diff PARENT CHILD`: which of a child's descriptors share an open file description
 * with a parent's. Candidates are found by object identity (device+inode+type), then kcmp(KCMP_FILE)
 * tells whether they are the very same open file description. kcmp needs ptrace-read access to both
 * processes (and a kernel with CONFIG_KCMP); without it the identity match is reported as a guess.
 */
import type { Descriptor } from '../probe-contract.js';
import { errno, kcmp } from '../../probes/linux/libc.js';
import { listDescriptors } from '../audit.js';
import { identityOf } from './lineage.js';
import { osErrorName } from '../errors.js';

const KCMP_FILE = 0;

/** A child descriptor that is (or may be) a copy of one of the parent's. */
export interface SharedDescriptor extends Descriptor {
  /** The parent's descriptor number for the same open file description. */
  parentFd: number;
  /** `kcmp`: the kernel confirmed it; `identity`: same device+inode+type, a guess. */
  match: 'kcmp' | 'identity';
}

/** The comparison of two live processes' tables. */
export interface PairDiff {
  parent: number;
  child: number;
  /** The child's descriptors that share an open file description with the parent's. */
  shared: SharedDescriptor[];
  /** The child's other descriptors: opened by the child, or from elsewhere. */
  childOnly: Descriptor[];
  /** Why some matches are only guesses (kcmp refused), and other problems. */
  warnings: string[];
}

/** Compare the tables of `parent` and `child` now. Throws NoSuchProcess / AccessDenied. */
export function diffProcessPair(parent: number, child: number): PairDiff {
  const parentRows = listDescriptors(parent, { peers: false }).fds;
  const childRows = listDescriptors(child, { peers: false }).fds;
  const candidates = new Map<string, Descriptor[]>();
  for (const d of parentRows) {
    if (d.error) continue;
    const list = candidates.get(identityOf(d)) ?? [];
    list.push(d);
    candidates.set(identityOf(d), list);
  }
  const result: PairDiff = { parent, child, shared: [], childOnly: [], warnings: [] };
  let refused: string | undefined;
  for (const d of childRows) {
    const options = d.error ? [] : (candidates.get(identityOf(d)) ?? []);
    // The same number first: the usual case of a descriptor inherited unchanged.
    options.sort((a, b) => Number(b.fd === d.fd) - Number(a.fd === d.fd));
    let match: SharedDescriptor | undefined;
    for (const p of options) {
      const verdict = refused ? undefined : kcmp(child, parent, KCMP_FILE, d.fd, p.fd);
      if (verdict === 0) { match = { ...d, parentFd: p.fd, match: 'kcmp' }; break; }
      if (verdict === undefined || verdict < 0) {
        refused ??= verdict === undefined ? `no kcmp syscall number for ${process.arch}` : osErrorName(errno());
        match = { ...d, parentFd: p.fd, match: 'identity' };
        break;
      }
    }
    if (match) result.shared.push(match);
    else result.childOnly.push(d);
  }
  if (refused) result.warnings.push(`kcmp unavailable (${refused}): matches by device+inode are guesses`);
  return result;
}
