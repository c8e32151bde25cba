/**
 * The macOS probe: libproc through koffi, bound on first use. Written from <sys/proc_info.h>;
 * its struct layouts are tested on every OS, but it has not yet run on a real Mac.
 *
 * Calls: proc_listpids(PROC_ALL_PIDS); proc_pidinfo(PROC_PIDT_SHORTBSDINFO) for name, parent and
 * uid; proc_pidinfo(PROC_PIDLISTFDS); per descriptor proc_pidfdinfo with PROC_PIDFDVNODEPATHINFO,
 * PROC_PIDFDSOCKETINFO, PROC_PIDFDPIPEINFO or PROC_PIDFDKQUEUEINFO by descriptor type;
 * getrlimit(RLIMIT_NOFILE) for fdscan's own limit (no call reads another process's).
 * Privileges: the process's own user or root (other users: EPERM, AccessDenied); SIP-protected
 * processes refuse even root.
 * Races: a descriptor closed between the list and its query (EBADF) is skipped; a process that
 * exits mid-scan makes the audit `incomplete`.
 */
import { withCapabilities, type Probe, type ProcessAudit } from '../../src/probe-kit/index.js';
import { DARWIN_TYPES, auditDarwinProcess, listFds } from './descriptors.js';
import { darwinProcessInfo, listDarwinPids } from './process-info.js';
import { darwinDescriptorLimits } from './limits.js';

const darwinProbe: Probe = withCapabilities({
  name: 'darwin-libproc',
  platform: 'darwin',
  capabilities: ['inheritable', 'offset', 'access', 'flags', 'sockets', 'allProcesses'],
  descriptorTypes: DARWIN_TYPES,
  listDescriptors(pid: number): ProcessAudit {
    return auditDarwinProcess(pid);
  },
  countDescriptors(pid: number): number {
    return listFds(pid).length;
  },
  processInfo: darwinProcessInfo,
  listPids: listDarwinPids,
  descriptorLimits: darwinDescriptorLimits,
});

export default darwinProbe;
