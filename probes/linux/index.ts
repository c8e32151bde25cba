/**
 * The Linux probe: descriptors from /proc (libc calls through koffi where they are faster, Node's fs
 * otherwise), unix socket peers through NETLINK_SOCK_DIAG, kcmp for "same open file?", close_range
 * or fcntl for the remedy, and the ptrace exec tracer.
 *
 * Calls: readdir /proc/PID/fd; per descriptor read /proc/PID/fdinfo/N, readlink and stat
 * /proc/PID/fd/N; /proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,udplite,udplite6,icmp,icmp6,unix,
 * netlink,packet} once per network namespace; readlink of every process's descriptors for peers;
 * /proc/PID/status for the thread group of a pid (a thread id is audited as its process).
 * Limits: /proc/PID/limits. Tallies: fdinfo flags and the link (stat for paths) per descriptor.
 * User names: getpwuid_r and getpwnam_r of libc (NSS). Job control of a wrapped command: a process
 * group of its own and the terminal's foreground group (job-control.ts). Origins of the descriptors
 * a running process makes: ptrace of its every thread, syscall by syscall, from a thread of its own
 * (syscall-watch.ts), detached when the watch ends.
 * Privileges: the fd and fdinfo files of a process are readable by root and by its own user
 * (ptrace access mode read); others raise AccessDenied. /proc/PID/limits and the size of
 * /proc/PID/fd (the open count, Linux 6.2+) are readable by every user.
 * Races: a descriptor closed mid-read is skipped; one reused mid-read is re-read (inode check);
 * a process that exits mid-scan gives NoSuchProcess or an audit marked incomplete.
 * Errors are mapped once, here and in descriptors.ts, with src/errors.ts's osFailure.
 */
import { readdirSync, statSync } from 'node:fs';
import {
  auditEach, withCapabilities, osFailure, type AuditOutcome, type ListOptions, type Probe,
  type ProcessAudit,
} from '../../src/probe-kit/index.js';
import { LINUX_TYPES, auditLinuxProcess, finishPeers, newAuditContext, type AuditContext } from './descriptors.js';
import { markAllNonInheritable, restoreReceived } from './inheritance.js';
import { noteReceived } from './received.js';
import { startedWith } from './invocation.js';
import { linuxProcessInfo, listLinuxPids, readProcStat } from './process-info.js';
import { sameOpenFile } from './same-open-file.js';
import { blockingStdio } from './stdio-mode.js';
import { assertOwnProc } from './procfs.js';
import { linuxTracer } from './tracer.js';
import { linuxJobControl } from './job-control.js';
import { watchLinuxOrigins } from './syscall-watch.js';
import { linuxDescriptorLimits } from './limits.js';
import { tallyLinuxDescriptors } from './tally.js';
import { linuxUserId, linuxUserName } from './users.js';

const linuxProbe: Probe = withCapabilities({
  name: 'linux-procfs',
  platform: 'linux',
  capabilities: [
    'inheritable', 'offset', 'access', 'flags', 'sockets', 'peers',
    'deleted', 'watches', 'kernelThread', 'thread', 'allProcesses',
  ],
  descriptorTypes: LINUX_TYPES,
  listDescriptors(pid: number, options?: ListOptions): ProcessAudit {
    assertOwnProc();
    return auditLinuxProcess(pid, newAuditContext(options));
  },
  listDescriptorsOfMany(pids: number[], options?: ListOptions): AuditOutcome[] {
    assertOwnProc();
    // One context: socket tables and the peer index are read once for all pids, peers once all are read.
    const context: AuditContext = newAuditContext(options, true);
    const outcomes = auditEach(pids, (pid) => auditLinuxProcess(pid, context));
    finishPeers(context);
    return outcomes;
  },
  countDescriptors(pid: number): number {
    assertOwnProc();
    const dir = `/proc/${pid}/fd`;
    try {
      // Since Linux 6.2 the size of the fd directory is the number of open descriptors.
      const size = statSync(dir).size;
      if (size > 0) return size;
      return readdirSync(dir).length;
    } catch (error) {
      throw osFailure(error, pid, `read ${dir}`, () => readProcStat(pid) === undefined);
    }
  },
  processInfo: (pid) => {
    assertOwnProc();
    return linuxProcessInfo(pid);
  },
  listPids: () => {
    assertOwnProc();
    return listLinuxPids();
  },
  sameOpenFile,
  markAllNonInheritable: (keep) => markAllNonInheritable(keep),
  restoreReceived,
  noteReceived,
  startedWith,
  blockingStdio,
  tracer: {
    trace: (request, job) => {
      assertOwnProc();
      return linuxTracer.trace(request, job);
    },
    prepare: () => linuxTracer.prepare!(),
  },
  jobControl: linuxJobControl,
  watchOrigins: (pid) => {
    assertOwnProc();
    return watchLinuxOrigins(pid);
  },
  descriptorLimits: (pid) => {
    assertOwnProc();
    return linuxDescriptorLimits(pid);
  },
  tallyDescriptors: (pid, request) => {
    assertOwnProc();
    return tallyLinuxDescriptors(pid, request);
  },
  userName: linuxUserName,
  userId: linuxUserId,
});

export default linuxProbe;
