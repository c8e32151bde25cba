/**
 * Where the descriptor an exec received was made: the newest origin record of its number in the
 * receiving process before that exec, else in its parent before the fork, and so on up to the root
 * (a fork copies the table, so a number a child never re-made is its parent's as it was then).
 * Nothing found up to the root: the tree received it from outside (`before-trace`).
 *
 * A stack recorded unnamed (its frames carry `unnamed`: object and offset only) is named here, when
 * its origin is returned, by the tracer's OriginTracing.nameStack: a trace of 2,000 stops whose
 * report shows no origin reads no symbol table.
 */
import type { DescriptorOrigin, OriginCall, OriginRecord, StackFrame, TraceResult } from '../probe-kit/trace-result.js';

/** Looks origins up in one trace; indexes each process's records on first use. */
export class OriginIndex {
  private readonly byProcess = new Map<number, Map<number, OriginRecord[]>>();

  constructor(private readonly trace: TraceResult) {}

  /**
   * The origin of descriptor `fd` of process `processId` as an event of seq `beforeSeq` found it
   * (an exec received it); `inode`, when known, is checked against the record's.
   */
  at(processId: number, fd: number, beforeSeq: number, inode?: number): DescriptorOrigin {
    const tracing = this.trace.origins;
    if (!tracing) return { unknown: 'no-origins' };
    if (!tracing.traced) return { unknown: tracing.reason ?? 'no-origins' };
    let process = this.trace.processes[processId];
    let limit = beforeSeq;
    while (process) {
      const records = this.records(process.id).get(fd);
      if (records) {
        for (let i = records.length - 1; i >= 0; i--) {
          const record = records[i]!;
          if (record.seq > limit) continue;
          // Another open file at the same number: it was replaced by a call fdscan did not stop at.
          if (inode !== undefined && record.inode !== undefined && record.inode !== inode) return { unknown: 'unseen' };
          return this.named(record.origin);
        }
      }
      if (process.parent === undefined) return { unknown: 'before-trace' };
      limit = process.seq;
      process = this.trace.processes[process.parent];
    }
    return { unknown: 'before-trace' };
  }

  /** `origin` with the frames of its calls named (in place: the records are the trace's own). */
  private named(origin: DescriptorOrigin): DescriptorOrigin {
    const name = this.trace.origins?.nameStack;
    if (!name) return origin;
    if (origin.unknown === undefined) nameCall(origin, name);
    if (origin.madeInheritable) nameCall(origin.madeInheritable, name);
    return origin;
  }

  private records(processId: number): Map<number, OriginRecord[]> {
    let index = this.byProcess.get(processId);
    if (!index) {
      index = new Map();
      for (const record of this.trace.processes[processId]?.origins ?? []) {
        const list = index.get(record.fd);
        if (list) list.push(record);
        else index.set(record.fd, [record]);
      }
      this.byProcess.set(processId, index);
    }
    return index;
  }
}

/** Stacks named so far, by the recorded array (one array is shared by every call with the same frames). */
const namedStacks = new WeakMap<StackFrame[], { frames: StackFrame[] } | { reason: string }>();

function nameCall(call: OriginCall, name: NonNullable<NonNullable<TraceResult['origins']>['nameStack']>): void {
  if (!call.stack.some((frame) => 'unnamed' in frame)) return;
  let stack = namedStacks.get(call.stack);
  if (!stack) {
    stack = name(call.stack);
    namedStacks.set(call.stack, stack);
  }
  if ('frames' in stack) {
    call.stack = stack.frames;
    return;
  }
  call.stack = [];
  // stackUnknown follows stack, as in a call recorded without frames.
  const { madeInheritable } = call as OriginCall & { madeInheritable?: OriginCall };
  if (madeInheritable) delete (call as { madeInheritable?: OriginCall }).madeInheritable;
  call.stackUnknown = stack.reason;
  if (madeInheritable) (call as { madeInheritable?: OriginCall }).madeInheritable = madeInheritable;
}
