/** Matches a freshly read descriptor table against the table a process had before (see trace-result.ts). */
import type { Descriptor } from '../probe-kit/contract.js';
import { objectKey } from '../audit/descriptor-identity.js';
import type { Holder, ProcessRef, TracedDescriptor } from '../probe-kit/trace-result.js';

/**
 * Tells open file descriptions apart where device+inode cannot (two opens of one file, eventfds
 * sharing the anonymous inode): kcmp against a process that holds the candidate.
 */
export interface DescriptionCheck {
  /** Is `fd` of `pid` the same open file description as `otherFd` of `otherPid`? undefined: cannot tell. */
  same(pid: number, fd: number, otherPid: number, otherFd: number): boolean | undefined;
  /** The tracing process: it holds every ambient descriptor for the whole trace. */
  tracerPid: number;
  /** The tracing process's descriptors with this identity (see objectKey). */
  ambientFds(identity: string): readonly number[];
}

/** true if any witness says same, false if every witness says different, else undefined. */
function anyOf(verdicts: Array<boolean | undefined>): boolean | undefined {
  if (verdicts.includes(true)) return true;
  return verdicts.length > 0 && verdicts.every((v) => v === false) ? false : undefined;
}

/**
 * Give each descriptor of `fresh` its lineage from `before` (the process's previous table).
 * Candidates are the same object (objectKey) at the same number first, then at other numbers (a
 * dup); none: `self` opened it. An ambient candidate counts only if the tracer's own
 * descriptor is the same open file description (it is held all along, so a "no" is final), and a
 * parent's only if kcmp confirms it, else it stays a guess (`match: identity`): the parent may
 * have replaced its own descriptor since.
 */
export function resolveTable(
  fresh: Descriptor[],
  before: readonly TracedDescriptor[],
  self: Holder,
  check: DescriptionCheck,
): TracedDescriptor[] {
  const byIdentity = new Map<string, TracedDescriptor[]>();
  for (const d of before) {
    const key = objectKey(d);
    const list = byIdentity.get(key);
    if (list) list.push(d);
    else byIdentity.set(key, [d]);
  }
  return fresh.map((d) => {
    const key = objectKey(d);
    const sameObject = byIdentity.get(key);
    let chosen: TracedDescriptor | undefined;
    let confirmed = false;
    if (sameObject) {
      // The one at the same number first, then the others in table order; a row whose target
      // could not be read matches only at its own number.
      const atNumber = sameObject.find((c) => c.fd === d.fd);
      let best = Number.NEGATIVE_INFINITY;
      const consider = (c: TracedDescriptor): boolean => {
        const score = scoreCandidate(d, key, c, self, check);
        if (score > best) { chosen = c; best = score; confirmed = score === CONFIRMED; }
        return score === CONFIRMED;
      };
      if (!(atNumber && consider(atNumber)) && !d.error) {
        for (const c of sameObject) if (c !== atNumber && consider(c)) break;
      }
    }
    if (!chosen) return withLineage(d, 'self', self);
    const { via, firstHolder, ambient, from } = chosen as TracedDescriptor;
    const row = withLineage(d, via, firstHolder);
    if (ambient) row.ambient = true;
    if (from) row.from = { ...from, match: confirmed ? 'kcmp' : 'identity' };
    return row;
  });
}

const CONFIRMED = 2;
const AMBIENT_CONFIRMED = 1;
const UNKNOWN = 0;
const DOUBTFUL = -1;

/**
 * How well candidate `c` explains `d`: CONFIRMED (kcmp: same description as its source), AMBIENT_CONFIRMED
 * (same as the tracer's), UNKNOWN, DOUBTFUL (the process's own earlier row, or the parent's
 * descriptor is now another description); -Infinity: certainly not (ambient, and the tracer says no).
 */
function scoreCandidate(d: Descriptor, key: string, c: TracedDescriptor, self: ProcessRef, check: DescriptionCheck): number {
  if (c.via === 'self') return DOUBTFUL;
  const fromSource = c.from ? check.same(self.pid, d.fd, c.from.pid, c.from.fd) : undefined;
  if (fromSource === true) return CONFIRMED;
  if (c.ambient) {
    const tracer = anyOf(check.ambientFds(key).map((fd) => check.same(self.pid, d.fd, check.tracerPid, fd)));
    if (tracer === false) return Number.NEGATIVE_INFINITY;
    if (tracer === true) return AMBIENT_CONFIRMED;
  }
  return fromSource === false ? DOUBTFUL : UNKNOWN;
}

/** The table a child starts with: a copy of its parent's, each descriptor now `via: parent`. */
export function inheritAtFork(parentTable: readonly TracedDescriptor[], parent: ProcessRef): TracedDescriptor[] {
  return parentTable.map((d) => {
    const row = Object.assign({}, d);
    row.via = 'parent';
    row.from = { process: parent.process, pid: parent.pid, fd: d.fd, match: 'identity' };
    row.firstHolder = d.firstHolder;
    return row;
  });
}

/** The root's table before its exec: the tracing process's table, every descriptor `ambient`. */
export function ambientTable(tracerTable: readonly Descriptor[], tracerPid: number, root: ProcessRef): TracedDescriptor[] {
  return tracerTable.map((d) => {
    const row = Object.assign({}, d) as TracedDescriptor;
    row.via = 'ambient';
    row.from = { pid: tracerPid, fd: d.fd, match: 'identity' };
    row.firstHolder = { process: root.process, pid: root.pid };
    row.ambient = true;
    return row;
  });
}

/**
 * A freshly read `d` with lineage. Object.assign and then setting the fields (same key order as a
 * spread; so in inheritAtFork and ambientTable) is several times faster in V8 than a spread with
 * extra properties, and this runs for every descriptor of every table of a trace.
 */
function withLineage(d: Descriptor, via: TracedDescriptor['via'], firstHolder: Holder): TracedDescriptor {
  const row = Object.assign({}, d) as TracedDescriptor;
  row.via = via;
  // Seen for the first time (`self`, no number yet): this process holds it first, at this number.
  const fd = firstHolder.fd ?? (via === 'self' ? d.fd : undefined);
  const holder: Holder = firstHolder.image ? { process: firstHolder.process, pid: firstHolder.pid, image: firstHolder.image } : { process: firstHolder.process, pid: firstHolder.pid };
  if (fd !== undefined) holder.fd = fd;
  if (firstHolder.sharedTable) holder.sharedTable = firstHolder.sharedTable;
  row.firstHolder = holder;
  return row;
}
