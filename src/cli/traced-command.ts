/** What the commands that wrap a traced CMD share: running it, and where their report goes. */
import { heeded } from '../launch/caller-state.js';
import { exactCommand } from '../launch/invocation.js';
import { traceCommand } from '../trace/trace-command.js';
import { SharedGroupJob, TerminalJob } from '../launch/job-control.js';
import type { TraceResult } from '../probe-kit/trace-result.js';
import { styleFor, type Style } from '../render/style.js';
import { openReportFile } from '../files/report-file.js';
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

/** Where a report goes: the file of `-o FILE`, opened now (before CMD runs), or stderr. */
export function reportSink(output: string | undefined): (report: string) => void {
  if (!output) return (report) => { process.stderr.write(report); };
  const file = openReportFile(output, '-o');
  return (report) => file.write(report);
}
