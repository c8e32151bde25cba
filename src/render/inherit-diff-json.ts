/** The versioned JSON document of `fdscan inherit-diff -- CMD`. */
import type { DescriptorOrigin, TraceResult, TracedDescriptor } from '../probe-kit/trace-result.js';
import type { ProtocolPass } from '../trace/descriptor-protocols.js';
import { receivedExtra } from './inherit-diff-text.js';
import { OriginIndex } from '../trace/origins.js';

export const INHERIT_DIFF_SCHEMA = 'fdscan/inherit-diff@1';

/** One exec of the tree, as the JSON document lists it. */
export interface InheritDiffExec {
  /** Index of the process in `tree` (stable when pids are reused). */
  process: number;
  pid: number;
  ppid: number;
  argv: string[];
  exe: string;
  /**
   * Every descriptor the new program received, 0, 1 and 2 included, each with its lineage; those
   * beyond 0, 1, 2 that the tree passed on (not ambient, not by a protocol) with their `origin`.
   */
  inherited: Array<TracedDescriptor & { origin?: DescriptorOrigin }>;
  sampled?: boolean;
  /** Descriptors received by a known protocol (make's jobserver, socket activation, ...). */
  protocols?: ProtocolPass[];
  error?: string;
}

/**
 * `{"schema":"fdscan/inherit-diff@1","command":[...],"exitCode":N,"method","warnings",
 * "processes":[one entry per exec, in order],"tree":[every process: id,pid,ppid,parent,createdBy,exit],
 * "ambient":[fdscan's own table]}`. With `onlyExtra`, `processes` lists only the execs that received
 * something beyond 0, 1, 2 and the ambient descriptors (or could not be read); `tree` stays whole.
 */
export function inheritDiffDocument(trace: TraceResult, options: { onlyExtra?: boolean } = {}): Record<string, unknown> {
  const execs: Array<InheritDiffExec & { seq: number }> = [];
  const origins = new OriginIndex(trace);
  for (const p of trace.processes) {
    for (const exec of p.execs) {
      if (options.onlyExtra && !receivedExtra(exec)) continue;
      // Each descriptor the tree passed on beyond 0, 1, 2 (not ambient, not by a protocol) gets its origin.
      const passed = new Set((exec.protocols ?? []).flatMap((pass) => pass.fds));
      const inherited = trace.origins === undefined ? exec.received : exec.received.map((d) => (d.fd < 3 || d.ambient || passed.has(d.fd)
        ? d
        : { ...d, origin: origins.at(p.id, d.fd, exec.seq, d.inode) }));
      execs.push({
        seq: exec.seq, process: p.id, pid: p.pid, ppid: p.ppid, argv: exec.argv, exe: exec.exe, inherited,
        ...(exec.sampled ? { sampled: true } : {}), ...(exec.protocols ? { protocols: exec.protocols } : {}),
        ...(exec.error ? { error: exec.error } : {}),
      });
    }
  }
  execs.sort((a, b) => a.seq - b.seq);
  return {
    schema: INHERIT_DIFF_SCHEMA,
    command: trace.command,
    exitCode: trace.exitCode,
    ...(trace.signal ? { signal: trace.signal } : {}),
    method: trace.method,
    warnings: trace.warnings,
    processes: execs.map(({ seq: _seq, ...exec }) => exec),
    tree: trace.processes.map((p) => ({
      id: p.id, pid: p.pid, ppid: p.ppid, ...(p.parent !== undefined ? { parent: p.parent } : {}), createdBy: p.createdBy,
      execs: p.execs.length, ...(p.exit ? { exit: { status: p.exit.status, signal: p.exit.signal } } : {}),
    })),
    ambient: trace.ambient,
  };
}
