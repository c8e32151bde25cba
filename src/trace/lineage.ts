/** Matches a freshly read descriptor table against the table a process had before (see trace-result.ts). */
import type { Descriptor } from '../probe-contract.js';
import type { DescriptorSource, ProcessRef, TracedDescriptor } from './trace-result.js';

/** The object a descriptor refers to: device+inode+type, or the target when there is no inode. */
export function identityOf(descriptor: Descriptor): string {
  if (descriptor.inode !== undefined) return `${descriptor.type}|${descriptor.device ?? '?'}|${descriptor.inode}`;
  return `${descriptor.type}|${descriptor.target}`;
}

/**
 * Give each descriptor of `fresh` its lineage from `before` (the process's previous table).
 * Same object at the same number first, then at another number (a dup); otherwise `self` opened it.
 * `confirm(fd, source)` may check a `parent`/`ambient` link with kcmp: true, false or undefined (cannot tell).
 */
export function resolveTable(
  fresh: Descriptor[],
  before: readonly TracedDescriptor[],
  self: ProcessRef,
  confirm?: (fd: number, source: DescriptorSource) => boolean | undefined,
): TracedDescriptor[] {
  const byFd = new Map(before.map((d) => [d.fd, d]));
  const byIdentity = new Map<string, TracedDescriptor>();
  for (const d of before) if (!byIdentity.has(identityOf(d))) byIdentity.set(identityOf(d), d);
  return fresh.map((d) => {
    const key = identityOf(d);
    const same = byFd.get(d.fd);
    const known = same && identityOf(same) === key ? same : d.error ? undefined : byIdentity.get(key);
    if (!known) return { ...d, via: 'self', firstHolder: { ...self } };
    const row: TracedDescriptor = { ...d, via: known.via, firstHolder: { ...known.firstHolder } };
    if (known.ambient) row.ambient = true;
    if (known.from) {
      row.from = { ...known.from };
      const verdict = confirm?.(d.fd, known.from);
      if (verdict !== undefined) row.from.match = verdict ? 'kcmp' : 'identity';
    }
    return row;
  });
}

/** The table a child starts with: a copy of its parent's, each descriptor now `via: parent`. */
export function inheritAtFork(parentTable: readonly TracedDescriptor[], parent: ProcessRef): TracedDescriptor[] {
  return parentTable.map((d) => ({
    ...d,
    via: 'parent' as const,
    from: { process: parent.process, pid: parent.pid, fd: d.fd, match: 'identity' as const },
    firstHolder: { ...d.firstHolder },
  }));
}

/** The root's table before its exec: the tracing process's table, every descriptor `ambient`. */
export function ambientTable(tracerTable: readonly Descriptor[], tracerPid: number, root: ProcessRef): TracedDescriptor[] {
  return tracerTable.map((d) => ({
    ...d,
    via: 'ambient' as const,
    from: { pid: tracerPid, fd: d.fd, match: 'identity' as const },
    firstHolder: { ...root },
    ambient: true,
  }));
}
