/** What the commands that wrap a traced CMD share: running it, and where their report goes. */
import { heeded } from '../launch/caller-state.js';
import { exactCommand } from '../launch/invocation.js';
import { traceCommand } from '../trace/trace-command.js';
import { SharedGroupJob, TerminalJob } from '../launch/job-control.js';
import type { TraceResult } from '../probe-kit/trace-result.js';
import { styleFor, type Style } from '../render/style.js';
import { openReportFile, openReportStream } from '../files/report-file.js';
import { perfettoTrace, type PerfettoOptions } from '../render/perfetto-trace.js';
import { FORWARDED_SIGNALS, reportCommandNotFound } from './wrapping.js';

/**
 * Trace CMD with fdscan's signals forwarded; undefined (exit 127 set) when CMD does not exist.
 * No exit tables: neither the gate nor inherit-diff reports what a process held as it exited.
 * `origins`: record where descriptors were made (TraceOptions.origins). `fullStdio`: only a report that shows 0, 1 and 2 of each exec (inherit-diff's JSON) needs them read in full.
 */
export async function traceWrapped(command: string[], options: { method?: 'auto' | 'sampling'; fullStdio?: boolean; origins?: boolean } = {}): Promise<TraceResult | undefined> {
  const job = TerminalJob.forWrappedCommand() ?? SharedGroupJob.forTracedCommand();
  try {
    return await traceCommand(command, {
      exact: exactCommand(command),
      method: options.method ?? 'auto', forwardSignals: heeded(FORWARDED_SIGNALS), exitTables: false, fullStdio: options.fullStdio ?? false, job,
      origins: options.origins ?? true,
    });
  } catch (error) {
    if (!reportCommandNotFound(error)) throw error;
    return undefined;
  } finally {
    // Also when the command never started (not found): SharedGroupJob holds SIGTSTP from its start.
    job?.ended();
  }
}

/** The style of a report: plain in a file, the terminal's on stderr (stdout belongs to CMD). */
export function reportStyle(output: string | undefined): Style {
  return output ? { color: false } : styleFor(process.stderr);
}

/** The option of gate and inherit-diff that writes the tree as a Chrome/Perfetto trace. */
export const PERFETTO_OPTION = {
  type: 'string', requiresArg: true,
  describe: 'Also write the process tree as a Chrome/Perfetto trace (JSON, Trace Event Format) to FILE: a track per process, a slice per program with its argv and the descriptors it received beyond 0, 1, 2; open it in ui.perfetto.dev',
} as const;

// Chunks are gathered up to this size before each write: few system calls, little held at once.
const WRITE_SIZE = 1 << 16;

/**
 * `--perfetto FILE`: opened now (before CMD runs, so a path that cannot be written refuses at
 * once), written once the tree has exited, a process at a time.
 */
export function perfettoSink(path: string | undefined): ((trace: TraceResult, options?: PerfettoOptions) => void) | undefined {
  if (path === undefined) return undefined;
  const file = openReportStream(path, '--perfetto');
  return (trace, options) => {
    const out = file.begin();
    try {
      let pending = '';
      for (const chunk of perfettoTrace(trace, options)) {
        pending += chunk;
        if (pending.length >= WRITE_SIZE) {
          out.write(pending);
          pending = '';
        }
      }
      out.write(pending);
    } finally {
      out.end();
    }
  };
}

/** Where a report goes: the file of `-o FILE`, opened now (before CMD runs), or stderr. */
export function reportSink(output: string | undefined): (report: string) => void {
  if (!output) return (report) => { process.stderr.write(report); };
  const file = openReportFile(output, '-o');
  return (report) => file.write(report);
}
