/**
 * What the recorder reads of a Linux process stopped by the tracer (trace-recorder.ts's
 * ProcessReader): its table from /proc (a fuller one at the exec stop, trace-tables.ts), its argv,
 * image and wanted environment variables, kcmp for "same open file?" and "same table?", and the
 * privilege its program lost because it is traced.
 *
 * Calls: as descriptors.ts for tables; readlink /proc/PID/exe; /proc/PID/cmdline and environ;
 * kcmp (same-open-file.ts); stat of /proc/PID/exe and its security.capability attribute, only
 * when fdscan lacks CAP_SYS_PTRACE (with it, a traced setuid program keeps its privilege).
 */
import { constants, readlinkSync, statSync } from 'node:fs';
import { FdscanError, errnoOf, type ProcessReader } from '../../src/probe-kit/index.js';
import { hasCapability } from './capabilities.js';
import { newAuditContext, readDescriptors } from './descriptors.js';
import { fileCapabilities } from './libc-process.js';
import { readEnvironment, readExecArgv } from './process-info.js';
import { sameDescriptorTable, sameOpenFile } from './same-open-file.js';
import { readTraceTable } from './trace-tables.js';

/** Set-user-ID and set-group-ID mode bits (<sys/stat.h>; not in Node's fs.constants). */
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

/** The reader of one trace: its socket tables are read once and its problems collected. */
export function linuxTraceReader(): ProcessReader {
  const context = newAuditContext({ peers: false });
  return {
    table: (pid, options) => (options ? readTraceTable(pid, context, options) : readDescriptors(pid, context)),
    argv: readExecArgv,
    exe: (pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`);
      } catch (error) {
        return `(unreadable: ${errnoOf(error) ?? (error as Error).message})`;
      }
    },
    sameOpenFile: (pidA, fdA, pidB, fdB) => {
      try {
        return sameOpenFile(pidA, fdA, pidB, fdB);
      } catch (error) {
        if (error instanceof FdscanError) return undefined;
        throw error;
      }
    },
    sameTable: sameDescriptorTable,
    problems: () => context.sockets.problems.splice(0),
    droppedPrivilege: hasCapability('CAP_SYS_PTRACE', 'self') ? undefined : droppedPrivilege,
    environment: readEnvironment,
  };
}

/** setuid, setgid or file capabilities of the program `pid` runs: what the kernel dropped because it is traced. */
function droppedPrivilege(pid: number): string | undefined {
  const exe = `/proc/${pid}/exe`;
  let mode: number;
  try {
    mode = statSync(exe).mode;
  } catch {
    return undefined; // unreadable: the exec is unverified, said elsewhere
  }
  if (mode & S_ISUID) return 'setuid privilege';
  if (mode & S_ISGID && mode & constants.S_IXGRP) return 'setgid privilege';
  return fileCapabilities(exe) ? 'file capabilities' : undefined;
}
