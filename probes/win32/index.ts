/**
 * The Windows probe: handles through the native API, bound with koffi on first use.
 *
 * Calls: CreateToolhelp32Snapshot (processes); OpenProcess(PROCESS_DUP_HANDLE |
 * PROCESS_QUERY_INFORMATION); NtQueryInformationProcess(ProcessHandleInformation) or, where the
 * system lacks it (before Windows 8, wine 8), NtQuerySystemInformation(SystemExtendedHandleInformation)
 * filtered by pid; per handle DuplicateHandle, NtQueryObject(ObjectTypeInformation), for other
 * objects NtQueryObject(ObjectNameInformation), GetProcessId, GetThreadId; for File objects
 * GetFileType, then in the name helper process (timeout, killable) GetFinalPathNameByHandleW,
 * GetFileInformationByHandle, NtQueryObject(ObjectNameInformation) and getsockopt/getsockname.
 * Privileges: PROCESS_DUP_HANDLE on the target: processes of the same user at the same or lower
 * integrity level; other users' processes need an elevated administrator; protected processes
 * refuse even that (AccessDenied).
 * Tracer (tracer.ts, debug-loop.ts): CreateProcessW(DEBUG_PROCESS), WaitForDebugEvent,
 * ContinueDebugEvent; each new process's table read at its CREATE_PROCESS_DEBUG_EVENT.
 * Races: a handle closed between the table and DuplicateHandle is skipped; a process that exits
 * mid-scan makes the audit `incomplete`; a name query that hangs becomes a row with an error.
 */
import { withCapabilities, AccessDenied, type Probe, type ProcessAudit } from '../../src/probe-kit/index.js';
import { auditWin32Process, openTarget } from './descriptors.js';
import { readHandleTable } from './handle-table.js';
import { getProcessHandleCount, lastError } from './kernel32.js';
import { listWin32Pids, win32ProcessInfo } from './process-info.js';
import { markAllNonInheritable } from './inheritance.js';
import { win32Tracer } from './tracer.js';
import { startPassingOnly } from './start-passing-only.js';

/**
 * Object types Windows names itself, given as the type of handles that are not files (the `-t`
 * filter accepts them); File handles are typed REG, DIR, CHR, FIFO or SOCK instead.
 */
const WIN32_OBJECT_TYPES: readonly string[] = [
  'ActivationObject', 'ActivityReference', 'Adapter', 'ALPC Port', 'Callback', 'Composition', 'Controller', 'CoreMessaging',
  'DebugObject', 'Desktop', 'Device', 'Directory', 'DmaAdapter', 'Driver', 'DxgkCompositionObject', 'DxgkSharedResource',
  'DxgkSharedSyncObject', 'EnergyTracker', 'EtwConsumer', 'EtwRegistration', 'Event', 'File', 'FilterCommunicationPort',
  'FilterConnectionPort', 'IoCompletion', 'IoCompletionReserve', 'IRTimer', 'Job', 'Key', 'KeyedEvent', 'Mutant', 'Partition',
  'PcwObject', 'PowerRequest', 'Process', 'Profile', 'RawInputManager', 'RegistryTransaction', 'Section', 'Semaphore',
  'Session', 'SymbolicLink', 'Thread', 'Timer', 'TmEn', 'TmRm', 'TmTm', 'TmTx', 'Token', 'TpWorkerFactory', 'Type',
  'UserApcReserve', 'WaitCompletionPacket', 'WindowStation', 'WmiGuid',
];

const win32Probe: Probe = withCapabilities({
  name: 'win32-ntapi',
  platform: 'win32',
  capabilities: ['inheritable', 'access', 'sockets', 'allProcesses'],
  descriptorTypes: WIN32_OBJECT_TYPES,
  listDescriptors(pid: number): ProcessAudit {
    return auditWin32Process(pid);
  },
  countDescriptors(pid: number): number {
    const target = openTarget(pid);
    try {
      const count: [number] = [0];
      if (!getProcessHandleCount(target.process, count)) throw new AccessDenied(pid, `GetProcessHandleCount: error ${lastError()}`);
      // A live process always holds handles; wine 8 answers 0, so count the handle table instead.
      return count[0] > 0 ? count[0] : readHandleTable(pid, target.process).entries.length;
    } finally {
      target.close();
    }
  },
  processInfo: win32ProcessInfo,
  listPids: listWin32Pids,
  markAllNonInheritable,
  tracer: win32Tracer,
  startPassingOnly,
  // No descriptorLimits: Windows has no descriptor limit to read: a process's handle table is bounded
  // by the kernel (2^24 handles), not by a per-process setting; _getmaxstdio is the C runtime's stream limit.
});

export default win32Probe;
