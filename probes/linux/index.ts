/**
 * The Linux probe: everything from /proc, no native code except NETLINK_SOCK_DIAG for unix peers.
 *
 * Calls: readdir /proc/PID/fd; per descriptor read /proc/PID/fdinfo/N, readlink and stat
 * /proc/PID/fd/N; /proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,udplite,udplite6,icmp,icmp6,unix,
 * netlink,packet} once per network namespace; readlink of every process's descriptors for peers.
 * Privileges: the fd and fdinfo files of a process are readable by root and by its own user
 * (ptrace access mode read); others raise AccessDenied.
 * Races: a descriptor closed mid-read is skipped; one reused mid-read is re-read (inode check);
 * a process that exits mid-scan gives NoSuchProcess or an audit marked incomplete.
 */
import { readdirSync, statSync } from 'node:fs';
import { auditEach, type ListOptions, type Probe, type ProcessAudit } from '../../src/probe-contract.js';
import { AccessDenied, NoSuchProcess, errnoOf } from '../../src/errors.js';
import { auditLinuxProcess, newAuditContext, type AuditContext } from './descriptors.js';
import { linuxProcessInfo, listLinuxPids } from './process-info.js';

const linuxProbe: Probe = {
  name: 'linux-procfs',
  platform: 'linux',
  capabilities: {
    inheritable: true,
    offset: true,
    access: true,
    flags: true,
    sockets: true,
    peers: true,
    deleted: true,
    allProcesses: true,
  },
  listDescriptors(pid: number, options?: ListOptions): ProcessAudit {
    return auditLinuxProcess(pid, newAuditContext(options));
  },
  listDescriptorsOfMany(pids: number[], options?: ListOptions): Array<ProcessAudit | Error> {
    // One context: socket tables and the peer index are read once for all pids.
    const context: AuditContext = newAuditContext(options);
    return auditEach(pids, (pid) => auditLinuxProcess(pid, context));
  },
  countDescriptors(pid: number): number {
    const dir = `/proc/${pid}/fd`;
    try {
      // Since Linux 6.2 the size of the fd directory is the number of open descriptors.
      const size = statSync(dir).size;
      if (size > 0) return size;
      return readdirSync(dir).length;
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'EACCES' || code === 'EPERM') throw new AccessDenied(pid, 'permission denied', { cause: error });
      throw new NoSuchProcess(pid, { cause: error });
    }
  },
  processInfo: linuxProcessInfo,
  listPids: listLinuxPids,
};

export default linuxProbe;
