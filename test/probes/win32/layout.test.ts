/**
 * The Win32 struct layouts, on every OS: koffi computes sizes and offsets without calling Windows,
 * so a wrong declaration fails here on Linux before it corrupts a read on Windows.
 *
 * The numbers are written out here, not taken from probes/win32/types.ts (whose own table only
 * guards the declarations at load): they are sizeof/offsetof as the Windows SDK headers give them
 * for x64 and x86 (winternl.h, minwinbase.h, tlhelp32.h, fileapi.h, ws2def.h, ntifs.h), and, for the
 * two handle-table entries the SDK does not declare, as phnt declares them (ntexapi.h, ntpsapi.h).
 * They were checked by compiling those declarations with mingw-w64 for x86_64 and i686.
 */
import test from 'ava';
import { koffi, winTypes, POINTER_SIZE } from '../../../probes/win32/types.js';
import { dosPath, formatSockaddr } from '../../../probes/win32/file-objects.js';
import { inheritedHandles } from '../../../probes/win32/inheritance.js';
import type { Descriptor } from '../../../src/index.js';

/** [x64, x86] */
type Both = [number, number];

/** sizeof(NAME) for 64-bit and 32-bit processes. */
const HEADER_SIZES: Record<string, Both> = {
  SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX: [40, 28], // phnt ntexapi.h
  PROCESS_HANDLE_TABLE_ENTRY_INFO: [40, 28], // phnt ntpsapi.h
  UNICODE_STRING: [16, 8], // winternl.h
  OBJECT_TYPE_INFORMATION: [104, 96], // winternl.h (phnt ntobapi.h names the byte after MaintainHandleCount)
  SECURITY_ATTRIBUTES: [24, 12], // minwinbase.h
  PROCESSENTRY32W: [568, 556], // tlhelp32.h: the dwSize every caller sets
  BY_HANDLE_FILE_INFORMATION: [52, 52], // fileapi.h
  SOCKADDR_STORAGE: [128, 128], // ws2def.h
  IO_STATUS_BLOCK: [16, 8], // winternl.h: a union of NTSTATUS and PVOID, then ULONG_PTR
  FILE_PIPE_LOCAL_INFORMATION: [40, 40], // ntifs.h
  EXCEPTION_RECORD: [152, 80], // winnt.h
  CREATE_PROCESS_DEBUG_INFO: [72, 40], // minwinbase.h
  LOAD_DLL_DEBUG_INFO: [40, 24], // minwinbase.h
  DEBUG_EVENT: [176, 96], // minwinbase.h: the union is as big as EXCEPTION_DEBUG_INFO
  STARTUPINFOW: [104, 68], // processthreadsapi.h
  STARTUPINFOEXW: [112, 72], // winbase.h
  PROCESS_INFORMATION: [24, 16], // processthreadsapi.h
  PROCESS_BASIC_INFORMATION: [48, 24], // winternl.h
  JOBOBJECT_ASSOCIATE_COMPLETION_PORT: [16, 8], // winnt.h
};

/** offsetof() of the members fdscan reads (and their neighbours), [struct, member, x64, x86]. */
const HEADER_OFFSETS: Array<[string, string, ...Both]> = [
  ['SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', 'Object', 0, 0],
  ['SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', 'UniqueProcessId', 8, 4],
  ['SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', 'HandleValue', 16, 8],
  ['SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', 'GrantedAccess', 24, 12],
  ['SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', 'CreatorBackTraceIndex', 28, 16],
  ['SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', 'ObjectTypeIndex', 30, 18],
  ['SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX', 'HandleAttributes', 32, 20],
  ['PROCESS_HANDLE_TABLE_ENTRY_INFO', 'HandleValue', 0, 0],
  ['PROCESS_HANDLE_TABLE_ENTRY_INFO', 'HandleCount', 8, 4],
  ['PROCESS_HANDLE_TABLE_ENTRY_INFO', 'PointerCount', 16, 8],
  ['PROCESS_HANDLE_TABLE_ENTRY_INFO', 'GrantedAccess', 24, 12],
  ['PROCESS_HANDLE_TABLE_ENTRY_INFO', 'ObjectTypeIndex', 28, 16],
  ['PROCESS_HANDLE_TABLE_ENTRY_INFO', 'HandleAttributes', 32, 20],
  ['UNICODE_STRING', 'MaximumLength', 2, 2],
  ['UNICODE_STRING', 'Buffer', 8, 4],
  ['OBJECT_TYPE_INFORMATION', 'GenericMapping', 68, 60],
  ['OBJECT_TYPE_INFORMATION', 'ValidAccessMask', 84, 76],
  ['OBJECT_TYPE_INFORMATION', 'PoolType', 92, 84],
  ['SECURITY_ATTRIBUTES', 'lpSecurityDescriptor', 8, 4],
  ['SECURITY_ATTRIBUTES', 'bInheritHandle', 16, 8],
  ['PROCESSENTRY32W', 'th32ProcessID', 8, 8],
  ['PROCESSENTRY32W', 'th32DefaultHeapID', 16, 12],
  ['PROCESSENTRY32W', 'th32ParentProcessID', 32, 24],
  ['PROCESSENTRY32W', 'szExeFile', 44, 36],
  ['BY_HANDLE_FILE_INFORMATION', 'dwVolumeSerialNumber', 28, 28],
  ['BY_HANDLE_FILE_INFORMATION', 'nNumberOfLinks', 40, 40],
  ['BY_HANDLE_FILE_INFORMATION', 'nFileIndexHigh', 44, 44],
  ['BY_HANDLE_FILE_INFORMATION', 'nFileIndexLow', 48, 48],
  ['SOCKADDR_STORAGE', 'ss_align', 8, 8],
  ['IO_STATUS_BLOCK', 'Information', 8, 4],
  ['FILE_PIPE_LOCAL_INFORMATION', 'NamedPipeState', 32, 32],
  ['FILE_PIPE_LOCAL_INFORMATION', 'NamedPipeEnd', 36, 36],
  ['DEBUG_EVENT', 'dwProcessId', 4, 4],
  ['DEBUG_EVENT', 'dwThreadId', 8, 8],
  ['DEBUG_EVENT', 'u', 16, 12],
  ['EXCEPTION_RECORD', 'ExceptionAddress', 16, 12],
  ['EXCEPTION_RECORD', 'ExceptionInformation', 32, 20],
  ['CREATE_PROCESS_DEBUG_INFO', 'hProcess', 8, 4],
  ['CREATE_PROCESS_DEBUG_INFO', 'lpImageName', 56, 32],
  ['LOAD_DLL_DEBUG_INFO', 'lpImageName', 24, 16],
  ['STARTUPINFOW', 'dwFlags', 60, 44],
  ['STARTUPINFOW', 'lpReserved2', 72, 52],
  ['STARTUPINFOW', 'hStdInput', 80, 56],
  ['STARTUPINFOW', 'hStdError', 96, 64],
  ['STARTUPINFOEXW', 'lpAttributeList', 104, 68],
  ['PROCESS_INFORMATION', 'dwProcessId', 16, 8],
  ['PROCESS_BASIC_INFORMATION', 'PebBaseAddress', 8, 4],
  ['PROCESS_BASIC_INFORMATION', 'InheritedFromUniqueProcessId', 40, 20],
];

const column = POINTER_SIZE === 8 ? 0 : 1;
const bits = POINTER_SIZE === 8 ? 'x64' : 'x86';

test(`every struct has the size the Windows headers give for ${bits}`, (t) => {
  const types = winTypes();
  t.deepEqual(Object.keys(types).sort(), Object.keys(HEADER_SIZES).sort(), 'every declared struct has a header size here');
  for (const [name, sizes] of Object.entries(HEADER_SIZES)) t.is(koffi().sizeof(types[name]!), sizes[column], `sizeof(${name})`);
});

test(`offsets fdscan reads match the Windows headers for ${bits}`, (t) => {
  const k = koffi();
  const types = winTypes();
  for (const [struct, member, ...offsets] of HEADER_OFFSETS) t.is(k.offsetof(types[struct]!, member), offsets[column], `offsetof(${struct}, ${member})`);
  t.is(k.sizeof('HANDLE'), POINTER_SIZE, 'HANDLE is pointer-sized, not an int');
});

test('paths and socket addresses are shown as Windows tools show them', (t) => {
  t.is(dosPath('\\\\?\\C:\\Users\\x\\f.txt'), 'C:\\Users\\x\\f.txt');
  t.is(dosPath('\\\\?\\UNC\\server\\share\\f'), '\\\\server\\share\\f');
  const v4 = Buffer.from([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.is(formatSockaddr(v4), '127.0.0.1:8080');
  const v6 = Buffer.alloc(28);
  v6.writeUInt16LE(23, 0);
  v6.writeUInt16BE(443, 2);
  v6[23] = 1;
  t.is(formatSockaddr(v6), '[::1]:443');
});

test('inheritedHandles: same value and type in the child, inheritable in the parent', (t) => {
  const row = (fd: number, type: string, inheritable: boolean): Descriptor => ({ fd, type, target: '', inheritable });
  const parent = [row(4, 'Event', true), row(8, 'Event', false), row(12, 'FIFO', true), row(16, 'File', true)];
  const child = [row(4, 'Event', true), row(8, 'Event', false), row(12, 'Section', false)];
  const diff = inheritedHandles(parent, child);
  t.deepEqual(diff.inherited.map((d) => d.fd), [4]);
  t.deepEqual(diff.notReceived.map((d) => d.fd), [12, 16]);
});

test('command lines: quoteArgument and splitCommandLine give every argument back (the C runtime rules)', async (t) => {
  const { quoteArgument, splitCommandLine, runtimeHandles } = await import('../../../probes/win32/trace-reader.js');
  const args = ['node.exe', 'a b', '', 'say "hi"', 'C:\\dir\\', 'back\\\\"slash', 'tab\there'];
  t.deepEqual(splitCommandLine(args.map(quoteArgument).join(' ')), args);
  // lpReserved2 as libuv writes it: count, flag bytes, pointer-sized handles (-1: none).
  const block = Buffer.alloc(4 + 3 + 3 * POINTER_SIZE);
  block.writeUInt32LE(3, 0);
  const put = (i: number, v: bigint): void => { if (POINTER_SIZE === 8) block.writeBigInt64LE(v, 7 + i * 8); else block.writeInt32LE(Number(v), 7 + i * 4); };
  put(0, 0x44n); put(1, -1n); put(2, 0x4cn);
  t.deepEqual(runtimeHandles(block), [0x44, 0x4c]);
});
