/**
 * `fdscan inherit-diff PARENT CHILD`: which of a child's descriptors share an open file description
 * with a parent's. Candidates are found by object identity (device+inode+type), then the probe's
 * sameOpenFile (kcmp on Linux) tells whether they are the very same open file description. Without
 * it (no permission, a kernel without CONFIG_KCMP, a platform without the call) the identity match is
 * reported as a guess.
 */
import type { Descriptor } from '../probe-kit/contract.js';
import { listDescriptors } from '../audit/audit.js';
import { objectKey } from '../audit/descriptor-identity.js';
import { FdscanError } from '../errors.js';
import { probeFor } from '../platform/probe.js';

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
  const probe = probeFor();
  const candidates = new Map<string, Descriptor[]>();
  for (const d of parentRows) {
    if (d.error) continue;
    const list = candidates.get(objectKey(d)) ?? [];
    list.push(d);
    candidates.set(objectKey(d), list);
  }
  const result: PairDiff = { parent, child, shared: [], childOnly: [], warnings: [] };
  let refused: string | undefined = probe.sameOpenFile ? undefined : `no kcmp on ${process.platform}`;
  for (const d of childRows) {
    const options = d.error ? [] : (candidates.get(objectKey(d)) ?? []);
    // The same number first: the usual case of a descriptor inherited unchanged.
    options.sort((a, b) => Number(b.fd === d.fd) - Number(a.fd === d.fd));
    let match: SharedDescriptor | undefined;
    for (const p of options) {
      let same: boolean | undefined;
      if (!refused) {
        try {
          same = probe.sameOpenFile!(child, d.fd, parent, p.fd);
        } catch (error) {
          if (!(error instanceof FdscanError)) throw error;
          refused = error.message;
        }
      }
      if (same === true) { match = { ...d, parentFd: p.fd, match: 'kcmp' }; break; }
      if (same === undefined) { match = { ...d, parentFd: p.fd, match: 'identity' }; break; }
    }
    if (match) result.shared.push(match);
    else result.childOnly.push(d);
  }
  if (refused) result.warnings.push(`kcmp unavailable (${refused}): matches by device+inode are guesses`);
  return result;
}
