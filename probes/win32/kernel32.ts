/**
 * kernel32.dll functions fdscan calls, each prototype explicit, bound on first call (so importing
 * this module on Linux or macOS is harmless). koffi keeps the thread's last-error value between
 * calls, so `lastError()` right after a failed call returns that call's error.
 */
import { koffi, lazyLibrary } from '../native-library.js';
import { winTypes, type Handle } from './types.js';

const fn = lazyLibrary((k) => k.load('kernel32.dll'), winTypes);

export const DUPLICATE_SAME_ACCESS = 0x2;
export const HANDLE_FLAG_INHERIT = 0x1;
export const PROCESS_DUP_HANDLE = 0x40;
export const PROCESS_QUERY_INFORMATION = 0x400;
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
export const TH32CS_SNAPPROCESS = 0x2;
export const FILE_TYPE_UNKNOWN = 0, FILE_TYPE_DISK = 1, FILE_TYPE_CHAR = 2, FILE_TYPE_PIPE = 3;
export const FILE_ATTRIBUTE_DIRECTORY = 0x10;
export const ERROR_ACCESS_DENIED = 5;
export const ERROR_INVALID_HANDLE = 6;
export const ERROR_INVALID_PARAMETER = 87;
export const ERROR_NO_MORE_FILES = 18;
export const INVALID_HANDLE_VALUE: Handle = (1n << BigInt(8 * (process.arch === 'ia32' ? 4 : 8))) - 1n;

/** GetLastError of the previous kernel32 call; call it right after the failing call. */
export const lastError = (): number => fn('DWORD __stdcall GetLastError()')() as number;

export const getCurrentProcess = (): Handle => fn('HANDLE __stdcall GetCurrentProcess()')() as Handle;
export const getCurrentProcessId = (): number => fn('DWORD __stdcall GetCurrentProcessId()')() as number;
export const openProcess = (access: number, inherit: boolean, pid: number): Handle | null =>
  fn('HANDLE __stdcall OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId)')(access, inherit ? 1 : 0, pid) as Handle | null;
export const closeHandle = (handle: Handle): boolean => (fn('BOOL __stdcall CloseHandle(HANDLE hObject)')(handle) as number) !== 0;

/** DuplicateHandle into `target`; the copy is written to `out[0]`. */
export const duplicateHandle = (source: Handle, handle: Handle, target: Handle, out: [Handle | null], access: number, inherit: boolean, options: number): boolean =>
  (fn('BOOL __stdcall DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle, HANDLE hTargetProcessHandle, _Out_ HANDLE *lpTargetHandle, DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions)')(
    source, handle, target, out, access, inherit ? 1 : 0, options) as number) !== 0;

export const getHandleInformation = (handle: Handle, flags: [number]): boolean =>
  (fn('BOOL __stdcall GetHandleInformation(HANDLE hObject, _Out_ DWORD *lpdwFlags)')(handle, flags) as number) !== 0;
export const setHandleInformation = (handle: Handle, mask: number, flags: number): boolean =>
  (fn('BOOL __stdcall SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags)')(handle, mask, flags) as number) !== 0;
export const getProcessHandleCount = (process: Handle, count: [number]): boolean =>
  (fn('BOOL __stdcall GetProcessHandleCount(HANDLE hProcess, _Out_ DWORD *pdwHandleCount)')(process, count) as number) !== 0;
export const getProcessId = (process: Handle): number => fn('DWORD __stdcall GetProcessId(HANDLE Process)')(process) as number;
export const getThreadId = (thread: Handle): number => fn('DWORD __stdcall GetThreadId(HANDLE Thread)')(thread) as number;

/** GetFileType asks the I/O manager for the device type only: it never waits on the file's lock. */
export const getFileType = (file: Handle): number => fn('DWORD __stdcall GetFileType(HANDLE hFile)')(file) as number;
/** Can block on a synchronous file with a pending read: call it from the name helper only. */
export const getFinalPathNameByHandleW = (file: Handle, into: Buffer, flags: number): number =>
  fn('DWORD __stdcall GetFinalPathNameByHandleW(HANDLE hFile, _Out_ void *lpszFilePath, DWORD cchFilePath, DWORD dwFlags)')(file, into, into.length / 2, flags) as number;
export const getFileInformationByHandle = (file: Handle, into: Record<string, unknown>): boolean =>
  (fn('BOOL __stdcall GetFileInformationByHandle(HANDLE hFile, _Out_ BY_HANDLE_FILE_INFORMATION *lpFileInformation)')(file, into) as number) !== 0;

export const createToolhelp32Snapshot = (flags: number, pid: number): Handle =>
  fn('HANDLE __stdcall CreateToolhelp32Snapshot(DWORD dwFlags, DWORD th32ProcessID)')(flags, pid) as Handle;
export const process32FirstW = (snapshot: Handle, entry: Record<string, unknown>): boolean =>
  (fn('BOOL __stdcall Process32FirstW(HANDLE hSnapshot, _Inout_ PROCESSENTRY32W *lppe)')(snapshot, entry) as number) !== 0;
export const process32NextW = (snapshot: Handle, entry: Record<string, unknown>): boolean =>
  (fn('BOOL __stdcall Process32NextW(HANDLE hSnapshot, _Inout_ PROCESSENTRY32W *lppe)')(snapshot, entry) as number) !== 0;

/** Objects the tests and fixtures create: events and anonymous pipes, inheritable or not. */
export const createEventW = (attributes: Record<string, unknown> | null, manualReset: boolean, initialState: boolean, name: string | null): Handle | null =>
  fn('HANDLE __stdcall CreateEventW(SECURITY_ATTRIBUTES *lpEventAttributes, BOOL bManualReset, BOOL bInitialState, const char16_t *lpName)')(
    attributes, manualReset ? 1 : 0, initialState ? 1 : 0, name) as Handle | null;
export const createPipe = (read: [Handle | null], write: [Handle | null], attributes: Record<string, unknown> | null, size: number): boolean =>
  (fn('BOOL __stdcall CreatePipe(_Out_ HANDLE *hReadPipe, _Out_ HANDLE *hWritePipe, SECURITY_ATTRIBUTES *lpPipeAttributes, DWORD nSize)')(
    read, write, attributes, size) as number) !== 0;

/** SECURITY_ATTRIBUTES asking for an inheritable (or not) handle. */
export function securityAttributes(inheritable: boolean): Record<string, unknown> {
  return { nLength: koffi().sizeof(winTypes().SECURITY_ATTRIBUTES!), lpSecurityDescriptor: null, bInheritHandle: inheritable ? 1 : 0 };
}

// The debug API and process creation: the exec tracer (debug-loop.ts) and `run --close-fds`.
export const DEBUG_PROCESS = 0x1;
export const CREATE_SUSPENDED = 0x4;
export const CREATE_UNICODE_ENVIRONMENT = 0x400;
export const EXTENDED_STARTUPINFO_PRESENT = 0x80000;
export const STARTF_USESTDHANDLES = 0x100;
export const INFINITE = 0xffffffff;
export const WAIT_OBJECT_0 = 0;
export const DBG_CONTINUE = 0x00010002;
export const DBG_EXCEPTION_NOT_HANDLED = 0x80010001;
export const PROC_THREAD_ATTRIBUTE_HANDLE_LIST = 0x20002;
export const STD_INPUT_HANDLE = -10, STD_OUTPUT_HANDLE = -11, STD_ERROR_HANDLE = -12;
export const ERROR_SEM_TIMEOUT = 121;
export const ERROR_NOT_SUPPORTED = 50;
export const ERROR_ELEVATION_REQUIRED = 740;
export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_PATH_NOT_FOUND = 3;

/**
 * CreateProcessW. `commandLine` must be writable (a Buffer of UTF-16LE ending in NUL), `environment`
 * a UTF-16 block (with CREATE_UNICODE_ENVIRONMENT) or null; `startupInfo` a STARTUPINFOEXW whose
 * StartupInfo.cb says which of the two structs it is.
 */
export const createProcessW = (commandLine: Buffer, inherit: boolean, flags: number, environment: Buffer | null, startupInfo: Record<string, unknown>, info: Record<string, unknown>): boolean =>
  (fn('BOOL __stdcall CreateProcessW(const char16_t *lpApplicationName, _Inout_ void *lpCommandLine, SECURITY_ATTRIBUTES *lpProcessAttributes, SECURITY_ATTRIBUTES *lpThreadAttributes, BOOL bInheritHandles, DWORD dwCreationFlags, void *lpEnvironment, const char16_t *lpCurrentDirectory, STARTUPINFOEXW *lpStartupInfo, _Out_ PROCESS_INFORMATION *lpProcessInformation)')(
    null, commandLine, null, null, inherit ? 1 : 0, flags, environment, null, startupInfo, info) as number) !== 0;

/** WaitForDebugEvent into a DEBUG_EVENT-sized buffer; false on timeout (ERROR_SEM_TIMEOUT) or failure. */
export const waitForDebugEvent = (into: Buffer, milliseconds: number): boolean =>
  (fn('BOOL __stdcall WaitForDebugEvent(_Out_ void *lpDebugEvent, DWORD dwMilliseconds)')(into, milliseconds) as number) !== 0;
export const continueDebugEvent = (pid: number, tid: number, status: number): boolean =>
  (fn('BOOL __stdcall ContinueDebugEvent(DWORD dwProcessId, DWORD dwThreadId, DWORD dwContinueStatus)')(pid, tid, status) as number) !== 0;
export const debugSetProcessKillOnExit = (kill: boolean): boolean =>
  (fn('BOOL __stdcall DebugSetProcessKillOnExit(BOOL KillOnExit)')(kill ? 1 : 0) as number) !== 0;
export const checkRemoteDebuggerPresent = (process: Handle, present: [number]): boolean =>
  (fn('BOOL __stdcall CheckRemoteDebuggerPresent(HANDLE hProcess, _Out_ BOOL *pbDebuggerPresent)')(process, present) as number) !== 0;
export const terminateProcess = (process: Handle, code: number): boolean =>
  (fn('BOOL __stdcall TerminateProcess(HANDLE hProcess, DWORD uExitCode)')(process, code) as number) !== 0;
export const getExitCodeProcess = (process: Handle, code: [number]): boolean =>
  (fn('BOOL __stdcall GetExitCodeProcess(HANDLE hProcess, _Out_ DWORD *lpExitCode)')(process, code) as number) !== 0;
export const waitForSingleObject = (handle: Handle, milliseconds: number): number =>
  fn('DWORD __stdcall WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)')(handle, milliseconds) as number;
export const getStdHandle = (which: number): Handle | null => fn('HANDLE __stdcall GetStdHandle(DWORD nStdHandle)')(which >>> 0) as Handle | null;

/** InitializeProcThreadAttributeList: with `list` null it only reports the size needed in `size[0]`. */
export const initializeProcThreadAttributeList = (list: unknown, count: number, size: [number]): boolean =>
  (fn('BOOL __stdcall InitializeProcThreadAttributeList(void *lpAttributeList, DWORD dwAttributeCount, DWORD dwFlags, _Inout_ SIZE_T *lpSize)')(list, count, 0, size) as number) !== 0;
/** UpdateProcThreadAttribute; `value` (a Buffer) must stay alive until CreateProcessW returns. */
export const updateProcThreadAttribute = (list: unknown, attribute: number, value: Buffer): boolean =>
  (fn('BOOL __stdcall UpdateProcThreadAttribute(void *lpAttributeList, DWORD dwFlags, ULONG_PTR Attribute, void *lpValue, SIZE_T cbSize, void *lpPreviousValue, void *lpReturnSize)')(
    list, 0, attribute, value, value.length, null, null) as number) !== 0;
export const deleteProcThreadAttributeList = (list: unknown): void => {
  fn('void __stdcall DeleteProcThreadAttributeList(void *lpAttributeList)')(list);
};

export const STILL_ACTIVE = 259;
/** ReadProcessMemory of `into.length` bytes at `address` (a number or BigInt address in `process`). */
export const readProcessMemory = (process: Handle, address: bigint, into: Buffer): boolean =>
  (fn('BOOL __stdcall ReadProcessMemory(HANDLE hProcess, uintptr_t lpBaseAddress, _Out_ void *lpBuffer, SIZE_T nSize, _Out_ SIZE_T *lpNumberOfBytesRead)')(
    process, address, into, into.length, [0]) as number) !== 0;
/** QueryFullProcessImageNameW (Win32 path form); '' when it fails. */
export function queryFullProcessImageName(process: Handle): string {
  const into = Buffer.alloc(2 * 32768);
  const size: [number] = [32768];
  const ok = (fn('BOOL __stdcall QueryFullProcessImageNameW(HANDLE hProcess, DWORD dwFlags, _Out_ void *lpExeName, _Inout_ DWORD *lpdwSize)')(process, 0, into, size) as number) !== 0;
  return ok ? into.toString('utf16le', 0, size[0] * 2) : '';
}

// Job objects with a completion port: the sampled tracer (job-loop.ts).
export const JobObjectAssociateCompletionPortInformation = 7;
export const JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO = 4;
export const JOB_OBJECT_MSG_NEW_PROCESS = 6;
export const JOB_OBJECT_MSG_EXIT_PROCESS = 7;
export const JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS = 8;
export const PROCESS_VM_READ = 0x10;
export const SYNCHRONIZE = 0x100000;
export const createJobObjectW = (): Handle | null =>
  fn('HANDLE __stdcall CreateJobObjectW(SECURITY_ATTRIBUTES *lpJobAttributes, const char16_t *lpName)')(null, null) as Handle | null;
export const createIoCompletionPort = (): Handle | null =>
  fn('HANDLE __stdcall CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort, ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads)')(
    INVALID_HANDLE_VALUE, null, 0, 1) as Handle | null;
/** Associate `port` with `job`: JOBOBJECT_ASSOCIATE_COMPLETION_PORT { PVOID CompletionKey; HANDLE CompletionPort }. */
export const associateCompletionPort = (job: Handle, port: Handle): boolean =>
  (fn('BOOL __stdcall SetInformationJobObject(HANDLE hJob, int JobObjectInformationClass, JOBOBJECT_ASSOCIATE_COMPLETION_PORT *lpJobObjectInformation, DWORD cbJobObjectInformationLength)')(
    job, JobObjectAssociateCompletionPortInformation, { CompletionKey: null, CompletionPort: port }, koffi().sizeof(winTypes().JOBOBJECT_ASSOCIATE_COMPLETION_PORT!)) as number) !== 0;
export const assignProcessToJobObject = (job: Handle, process: Handle): boolean =>
  (fn('BOOL __stdcall AssignProcessToJobObject(HANDLE hJob, HANDLE hProcess)')(job, process) as number) !== 0;
export const resumeThread = (thread: Handle): number => fn('DWORD __stdcall ResumeThread(HANDLE hThread)')(thread) as number;
/** GetQueuedCompletionStatus: for a job's port, `message[0]` is the JOB_OBJECT_MSG_ and `pid[0]` the process (lpOverlapped). */
export const getQueuedCompletionStatus = (port: Handle, message: [number], key: [number | bigint], pid: [number | bigint], milliseconds: number): boolean =>
  (fn('BOOL __stdcall GetQueuedCompletionStatus(HANDLE CompletionPort, _Out_ DWORD *lpNumberOfBytesTransferred, _Out_ ULONG_PTR *lpCompletionKey, _Out_ ULONG_PTR *lpOverlapped, DWORD dwMilliseconds)')(
    port, message, key, pid, milliseconds) as number) !== 0;
