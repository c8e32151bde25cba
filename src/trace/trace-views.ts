/** What the reports of a trace read off it: the tree by parent, and the ambient descriptors the tree passed on. */
import type { TracedDescriptor, TracedProcess, TraceResult } from '../probe-kit/trace-result.js';
import { objectKey } from '../audit/descriptor-identity.js';

const STDIO = 3;

/** Each ambient descriptor some exec received beyond 0, 1, 2, once (by number and object), with how many execs received it. */
export function ambientReceived(trace: TraceResult): Array<{ d: TracedDescriptor; execs: number }> {
  const seen = new Map<string, { d: TracedDescriptor; execs: number }>();
  for (const p of trace.processes) {
    for (const exec of p.execs) {
      for (const d of exec.received) {
        if (d.fd < STDIO || !d.ambient) continue;
        const key = `${d.fd}|${objectKey(d)}`;
        const entry = seen.get(key);
        if (entry) entry.execs++;
        else seen.set(key, { d, execs: 1 });
      }
    }
  }
  return [...seen.values()];
}

/** Each process's children (by the parent's id), in the order they were born. */
export function childrenByParent(trace: TraceResult): Map<number, TracedProcess[]> {
  const children = new Map<number, TracedProcess[]>();
  for (const p of trace.processes) {
    if (p.parent === undefined) continue;
    const list = children.get(p.parent) ?? [];
    list.push(p);
    children.set(p.parent, list);
  }
  return children;
}
