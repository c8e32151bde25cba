/**
 * Every Win32 / NT type fdscan passes through koffi, declared once, with the struct sizes checked
 * against the documented ABI as soon as they are declared.
 *
 * Declared lazily (on the first call into kernel32, ntdll or ws2_32): importing this module on
 * Linux or macOS loads nothing. A HANDLE is a pointer-sized opaque pointer (a BigInt in koffi 3),
 * never an int: a 64-bit handle squeezed into 32 bits is the crash fdscan's seeds began with.
 */
import type * as Koffi from 'koffi';
import { koffi } from '../native-library.js';

export { koffi };

/** A Windows handle as koffi 3 passes it: a pointer-sized BigInt. */
export type Handle = bigint;

/** Pointer width of this process in bytes (8 on x64 and arm64, 4 on x86). */
export const POINTER_SIZE = process.arch === 'ia32' || process.arch === 'arm' ? 4 : 8;

/**
 * Sizes the structs must have, from the Windows SDK / phnt headers, for 64-bit and 32-bit
 * processes. If koffi computes anything else the layout below is wrong and every read would be.
 */
export const DOCUMENTED_SIZES: Record<string, { 8: number; 4: number }> = {
  SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX: { 8: 40, 4: 28 },
  PROCESS_HANDLE_TABLE_ENTRY_INFO: { 8: 40, 4: 28 },
  UNICODE_STRING: { 8: 16, 4: 8 },
  OBJECT_TYPE_INFORMATION: { 8: 104, 4: 96 },
  SECURITY_ATTRIBUTES: { 8: 24, 4: 12 },
  PROCESSENTRY32W: { 8: 568, 4: 556 },
  BY_HANDLE_FILE_INFORMATION: { 8: 52, 4: 52 },
  SOCKADDR_STORAGE: { 8: 128, 4: 128 },
  IO_STATUS_BLOCK: { 8: 16, 4: 8 },
  FILE_PIPE_LOCAL_INFORMATION: { 8: 40, 4: 40 },
  // minwinbase.h (the debug API) and processthreadsapi.h (CreateProcessW).
  EXCEPTION_RECORD: { 8: 152, 4: 80 },
  CREATE_PROCESS_DEBUG_INFO: { 8: 72, 4: 40 },
  LOAD_DLL_DEBUG_INFO: { 8: 40, 4: 24 },
  DEBUG_EVENT: { 8: 176, 4: 96 },
  STARTUPINFOW: { 8: 104, 4: 68 },
  STARTUPINFOEXW: { 8: 112, 4: 72 },
  PROCESS_INFORMATION: { 8: 24, 4: 16 },
  PROCESS_BASIC_INFORMATION: { 8: 48, 4: 24 },
  JOBOBJECT_ASSOCIATE_COMPLETION_PORT: { 8: 16, 4: 8 },
};

let declared: Record<string, Koffi.TypeObject> | undefined;

/** Declare the aliases and structs (once) and assert their sizes; returns the struct types. */
export function winTypes(): Record<string, Koffi.TypeObject> {
  if (declared) return declared;
  const k = koffi();
  k.pointer('HANDLE', k.opaque('HANDLE_OBJECT'));
  k.alias('DWORD', 'uint32_t');
  k.alias('ULONG', 'uint32_t');
  k.alias('LONG', 'int32_t');
  k.alias('USHORT', 'uint16_t');
  k.alias('WORD', 'uint16_t');
  k.alias('BOOL', 'int32_t');
  k.alias('BOOLEAN', 'uint8_t');
  k.alias('ACCESS_MASK', 'uint32_t');
  k.alias('NTSTATUS', 'int32_t');
  k.alias('ULONG_PTR', 'uintptr_t');
  k.alias('SIZE_T', 'uintptr_t');
  // SOCKET is UINT_PTR in winsock2.h; it holds the same value as the socket's HANDLE.
  k.alias('SOCKET', 'uintptr_t');
  k.alias('PVOID', 'void *');
  k.alias('LPWSTR', 'char16_t *');
  k.alias('LPBYTE', 'uint8_t *');

  declared = {
    // SystemExtendedHandleInformation (64) entry, one per handle of every process.
    SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX: k.struct('SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', {
      Object: 'PVOID',
      UniqueProcessId: 'ULONG_PTR',
      HandleValue: 'ULONG_PTR',
      GrantedAccess: 'ACCESS_MASK',
      CreatorBackTraceIndex: 'USHORT',
      ObjectTypeIndex: 'USHORT',
      HandleAttributes: 'ULONG',
      Reserved: 'ULONG',
    }),
    // ProcessHandleInformation (51) entry (Windows 8 and later).
    PROCESS_HANDLE_TABLE_ENTRY_INFO: k.struct('PROCESS_HANDLE_TABLE_ENTRY_INFO', {
      HandleValue: 'ULONG_PTR',
      HandleCount: 'ULONG_PTR',
      PointerCount: 'ULONG_PTR',
      GrantedAccess: 'ACCESS_MASK',
      ObjectTypeIndex: 'ULONG',
      HandleAttributes: 'ULONG',
      Reserved: 'ULONG',
    }),
    UNICODE_STRING: k.struct('UNICODE_STRING', {
      Length: 'USHORT',
      MaximumLength: 'USHORT',
      Buffer: 'PVOID',
    }),
    OBJECT_TYPE_INFORMATION: k.struct('OBJECT_TYPE_INFORMATION', {
      TypeName: 'UNICODE_STRING',
      TotalNumberOfObjects: 'ULONG',
      TotalNumberOfHandles: 'ULONG',
      TotalPagedPoolUsage: 'ULONG',
      TotalNonPagedPoolUsage: 'ULONG',
      TotalNamePoolUsage: 'ULONG',
      TotalHandleTableUsage: 'ULONG',
      HighWaterNumberOfObjects: 'ULONG',
      HighWaterNumberOfHandles: 'ULONG',
      HighWaterPagedPoolUsage: 'ULONG',
      HighWaterNonPagedPoolUsage: 'ULONG',
      HighWaterNamePoolUsage: 'ULONG',
      HighWaterHandleTableUsage: 'ULONG',
      InvalidAttributes: 'ULONG',
      GenericMapping: k.array('ULONG', 4, 'Array'),
      ValidAccessMask: 'ULONG',
      SecurityRequired: 'BOOLEAN',
      MaintainHandleCount: 'BOOLEAN',
      TypeIndex: 'uint8_t',
      ReservedByte: 'int8_t',
      PoolType: 'ULONG',
      DefaultPagedPoolCharge: 'ULONG',
      DefaultNonPagedPoolCharge: 'ULONG',
    }),
    SECURITY_ATTRIBUTES: k.struct('SECURITY_ATTRIBUTES', {
      nLength: 'DWORD',
      lpSecurityDescriptor: 'PVOID',
      bInheritHandle: 'BOOL',
    }),
    PROCESSENTRY32W: k.struct('PROCESSENTRY32W', {
      dwSize: 'DWORD',
      cntUsage: 'DWORD',
      th32ProcessID: 'DWORD',
      th32DefaultHeapID: 'ULONG_PTR',
      th32ModuleID: 'DWORD',
      cntThreads: 'DWORD',
      th32ParentProcessID: 'DWORD',
      pcPriClassBase: 'LONG',
      dwFlags: 'DWORD',
      szExeFile: k.array('char16_t', 260, 'String'),
    }),
    BY_HANDLE_FILE_INFORMATION: k.struct('BY_HANDLE_FILE_INFORMATION', {
      dwFileAttributes: 'DWORD',
      ftCreationTime: k.array('DWORD', 2, 'Array'),
      ftLastAccessTime: k.array('DWORD', 2, 'Array'),
      ftLastWriteTime: k.array('DWORD', 2, 'Array'),
      dwVolumeSerialNumber: 'DWORD',
      nFileSizeHigh: 'DWORD',
      nFileSizeLow: 'DWORD',
      nNumberOfLinks: 'DWORD',
      nFileIndexHigh: 'DWORD',
      nFileIndexLow: 'DWORD',
    }),
    SOCKADDR_STORAGE: k.struct('SOCKADDR_STORAGE', {
      ss_family: 'USHORT',
      ss_pad1: k.array('uint8_t', 6, 'Array'),
      ss_align: 'int64_t',
      ss_pad2: k.array('uint8_t', 112, 'Array'),
    }),
    // Status is a union of NTSTATUS and PVOID: pointer-sized.
    IO_STATUS_BLOCK: k.struct('IO_STATUS_BLOCK', {
      Status: 'PVOID',
      Information: 'ULONG_PTR',
    }),
    FILE_PIPE_LOCAL_INFORMATION: k.struct('FILE_PIPE_LOCAL_INFORMATION', {
      NamedPipeType: 'ULONG',
      NamedPipeConfiguration: 'ULONG',
      MaximumInstances: 'ULONG',
      CurrentInstances: 'ULONG',
      InboundQuota: 'ULONG',
      ReadDataAvailable: 'ULONG',
      OutboundQuota: 'ULONG',
      WriteQuotaAvailable: 'ULONG',
      NamedPipeState: 'ULONG',
      NamedPipeEnd: 'ULONG',
    }),
  };
  const exceptionRecord = k.struct('EXCEPTION_RECORD', {
    ExceptionCode: 'DWORD',
    ExceptionFlags: 'DWORD',
    ExceptionRecord: 'PVOID',
    ExceptionAddress: 'PVOID',
    NumberParameters: 'DWORD',
    ExceptionInformation: k.array('ULONG_PTR', 15, 'Array'),
  });
  const createProcess = k.struct('CREATE_PROCESS_DEBUG_INFO', {
    hFile: 'HANDLE',
    hProcess: 'HANDLE',
    hThread: 'HANDLE',
    lpBaseOfImage: 'PVOID',
    dwDebugInfoFileOffset: 'DWORD',
    nDebugInfoSize: 'DWORD',
    lpThreadLocalBase: 'PVOID',
    lpStartAddress: 'PVOID',
    lpImageName: 'PVOID',
    fUnicode: 'WORD',
  });
  const loadDll = k.struct('LOAD_DLL_DEBUG_INFO', {
    hFile: 'HANDLE',
    lpBaseOfDll: 'PVOID',
    dwDebugInfoFileOffset: 'DWORD',
    nDebugInfoSize: 'DWORD',
    lpImageName: 'PVOID',
    fUnicode: 'WORD',
  });
  // The union's largest member is EXCEPTION_DEBUG_INFO; the others only need to fit and align.
  const debugUnion = k.union('DEBUG_EVENT_INFO', {
    Exception: k.struct('EXCEPTION_DEBUG_INFO', { ExceptionRecord: exceptionRecord, dwFirstChance: 'DWORD' }),
    CreateThread: k.struct('CREATE_THREAD_DEBUG_INFO', { hThread: 'HANDLE', lpThreadLocalBase: 'PVOID', lpStartAddress: 'PVOID' }),
    CreateProcessInfo: createProcess,
    ExitThread: k.struct('EXIT_THREAD_DEBUG_INFO', { dwExitCode: 'DWORD' }),
    ExitProcess: k.struct('EXIT_PROCESS_DEBUG_INFO', { dwExitCode: 'DWORD' }),
    LoadDll: loadDll,
    UnloadDll: k.struct('UNLOAD_DLL_DEBUG_INFO', { lpBaseOfDll: 'PVOID' }),
    DebugString: k.struct('OUTPUT_DEBUG_STRING_INFO', { lpDebugStringData: 'PVOID', fUnicode: 'WORD', nDebugStringLength: 'WORD' }),
    RipInfo: k.struct('RIP_INFO', { dwError: 'DWORD', dwType: 'DWORD' }),
  });
  const startupInfo = k.struct('STARTUPINFOW', {
    cb: 'DWORD',
    lpReserved: 'LPWSTR',
    lpDesktop: 'LPWSTR',
    lpTitle: 'LPWSTR',
    dwX: 'DWORD',
    dwY: 'DWORD',
    dwXSize: 'DWORD',
    dwYSize: 'DWORD',
    dwXCountChars: 'DWORD',
    dwYCountChars: 'DWORD',
    dwFillAttribute: 'DWORD',
    dwFlags: 'DWORD',
    wShowWindow: 'WORD',
    cbReserved2: 'WORD',
    lpReserved2: 'LPBYTE',
    hStdInput: 'HANDLE',
    hStdOutput: 'HANDLE',
    hStdError: 'HANDLE',
  });
  Object.assign(declared, {
    EXCEPTION_RECORD: exceptionRecord,
    CREATE_PROCESS_DEBUG_INFO: createProcess,
    LOAD_DLL_DEBUG_INFO: loadDll,
    DEBUG_EVENT: k.struct('DEBUG_EVENT', { dwDebugEventCode: 'DWORD', dwProcessId: 'DWORD', dwThreadId: 'DWORD', u: debugUnion }),
    STARTUPINFOW: startupInfo,
    // lpAttributeList is opaque: InitializeProcThreadAttributeList sizes and fills it.
    STARTUPINFOEXW: k.struct('STARTUPINFOEXW', { StartupInfo: startupInfo, lpAttributeList: 'PVOID' }),
    PROCESS_INFORMATION: k.struct('PROCESS_INFORMATION', { hProcess: 'HANDLE', hThread: 'HANDLE', dwProcessId: 'DWORD', dwThreadId: 'DWORD' }),
    // ProcessBasicInformation (0): the creator's pid is InheritedFromUniqueProcessId.
    PROCESS_BASIC_INFORMATION: k.struct('PROCESS_BASIC_INFORMATION', {
      ExitStatus: 'NTSTATUS',
      PebBaseAddress: 'PVOID',
      AffinityMask: 'ULONG_PTR',
      BasePriority: 'LONG',
      UniqueProcessId: 'ULONG_PTR',
      InheritedFromUniqueProcessId: 'ULONG_PTR',
    }),
  });
  declared.JOBOBJECT_ASSOCIATE_COMPLETION_PORT = k.struct('JOBOBJECT_ASSOCIATE_COMPLETION_PORT', { CompletionKey: 'PVOID', CompletionPort: 'HANDLE' });
  assertDocumentedSizes(k, declared);
  return declared;
}

/** Throw at load when a struct's size differs from the documented ABI of this pointer width. */
function assertDocumentedSizes(k: typeof Koffi, types: Record<string, Koffi.TypeObject>): void {
  for (const [name, sizes] of Object.entries(DOCUMENTED_SIZES)) {
    const want = sizes[POINTER_SIZE as 8 | 4];
    const got = k.sizeof(types[name]!);
    if (got !== want) throw new Error(`fdscan win32 types: sizeof(${name}) is ${got}, the Windows ABI says ${want}`);
  }
}
