/**
 * ntdll.dll functions fdscan calls (the native API: handle tables and object queries), each
 * prototype explicit, bound on first call. They return an NTSTATUS; no last-error is involved.
 */
import { koffi, lazyLibrary } from '../native-library.js';
import { winTypes, type Handle } from './types.js';

const fn = lazyLibrary((k) => k.load('ntdll.dll'), winTypes);

export const STATUS_SUCCESS = 0;
export const STATUS_NOT_IMPLEMENTED = 0xc0000002;
export const STATUS_INVALID_INFO_CLASS = 0xc0000003;
export const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004;
export const STATUS_ACCESS_DENIED = 0xc0000022;
export const STATUS_BUFFER_TOO_SMALL = 0xc0000023;
export const STATUS_BUFFER_OVERFLOW = 0x80000005;

export const ProcessHandleInformation = 51;
export const SystemExtendedHandleInformation = 64;
export const ObjectNameInformation = 1;
export const ObjectTypeInformation = 2;

/** NTSTATUS as an unsigned 32-bit number, the way the headers spell the constants. */
const unsigned = (status: unknown): number => (status as number) >>> 0;

export const ntQuerySystemInformation = (infoClass: number, into: Buffer, returnLength: [number]): number =>
  unsigned(fn('NTSTATUS __stdcall NtQuerySystemInformation(ULONG SystemInformationClass, _Out_ void *SystemInformation, ULONG SystemInformationLength, _Out_ ULONG *ReturnLength)')(
    infoClass, into, into.length, returnLength));

export const ntQueryInformationProcess = (process: Handle, infoClass: number, into: Buffer, returnLength: [number]): number =>
  unsigned(fn('NTSTATUS __stdcall NtQueryInformationProcess(HANDLE ProcessHandle, ULONG ProcessInformationClass, _Out_ void *ProcessInformation, ULONG ProcessInformationLength, _Out_ ULONG *ReturnLength)')(
    process, infoClass, into, into.length, returnLength));

/**
 * NtQueryObject. ObjectTypeInformation never touches the file object's lock; ObjectNameInformation
 * on a File can wait forever behind a synchronous read, so only the name helper asks for it on files.
 */
export const ntQueryObject = (handle: Handle, infoClass: number, into: Buffer, returnLength: [number]): number =>
  unsigned(fn('NTSTATUS __stdcall NtQueryObject(HANDLE Handle, ULONG ObjectInformationClass, _Out_ void *ObjectInformation, ULONG ObjectInformationLength, _Out_ ULONG *ReturnLength)')(
    handle, infoClass, into, into.length, returnLength));

export const FilePipeLocalInformation = 24;

/**
 * NtQueryInformationFile into `into`; the IO_STATUS_BLOCK is allocated here. Waits on the file's
 * lock for synchronous files: name helper only.
 */
export function ntQueryInformationFile(file: Handle, into: Buffer, infoClass: number): number {
  const ioStatus = Buffer.alloc(koffi().sizeof(winTypes().IO_STATUS_BLOCK!));
  return unsigned(fn('NTSTATUS __stdcall NtQueryInformationFile(HANDLE FileHandle, _Out_ void *IoStatusBlock, _Out_ void *FileInformation, ULONG Length, ULONG FileInformationClass)')(
    file, ioStatus, into, into.length, infoClass));
}

/** The text of a UNICODE_STRING that NtQueryObject wrote at the start of `buffer`. */
export function unicodeStringAt(buffer: Buffer): string {
  const k = koffi();
  const value = k.decode(buffer, winTypes().UNICODE_STRING!) as { Length: number; Buffer: bigint | null };
  if (!value.Buffer || value.Length === 0) return '';
  // The string's characters live inside `buffer` itself, which is alive for this call.
  return k.decode(value.Buffer, 'char16_t', value.Length / 2) as string;
}

export const ProcessBasicInformation = 0;

/** The pid of the process that created `process` (InheritedFromUniqueProcessId); undefined when it cannot be read. */
export function creatorOf(process: Handle): number | undefined {
  const k = koffi();
  const type = winTypes().PROCESS_BASIC_INFORMATION!;
  const buffer = Buffer.alloc(k.sizeof(type));
  if (ntQueryInformationProcess(process, ProcessBasicInformation, buffer, [0]) !== 0) return undefined;
  return Number((k.decode(buffer, type) as { InheritedFromUniqueProcessId: number | bigint }).InheritedFromUniqueProcessId);
}

export const STATUS_NOT_SAME_OBJECT = 0xc00001ac;
/** NtCompareObjects (Windows 10+, wine): STATUS_SUCCESS when two handles name one object. */
export const ntCompareObjects = (first: Handle, second: Handle): number =>
  unsigned(fn('NTSTATUS __stdcall NtCompareObjects(HANDLE FirstObjectHandle, HANDLE SecondObjectHandle)')(first, second));

/** The PEB address of `process` (ProcessBasicInformation); undefined when it cannot be read. */
export function pebOf(process: Handle): bigint | undefined {
  const k = koffi();
  const type = winTypes().PROCESS_BASIC_INFORMATION!;
  const buffer = Buffer.alloc(k.sizeof(type));
  if (ntQueryInformationProcess(process, ProcessBasicInformation, buffer, [0]) !== 0) return undefined;
  const peb = (k.decode(buffer, type) as { PebBaseAddress: unknown }).PebBaseAddress;
  return peb === null ? undefined : k.address(peb);
}
