/**
 * The Win32 struct layouts, on every OS: koffi computes sizes and offsets without calling Windows,
 * so a wrong declaration fails here on Linux before it corrupts a read on Windows.
 */
import test from 'ava';
import { koffi, winTypes, DOCUMENTED_SIZES, POINTER_SIZE } from '../../../probes/win32/types.js';
import { dosPath, formatSockaddr } from '../../../probes/win32/file-objects.js';
import { inheritedHandles } from '../../../probes/win32/inheritance.js';
import type { Descriptor } from '../../../src/index.js';

const x64 = POINTER_SIZE === 8 ? test : test.skip;

test('every struct has its documented size for this pointer width', (t) => {
  const types = winTypes();
  for (const [name, sizes] of Object.entries(DOCUMENTED_SIZES)) {
    t.is(koffi().sizeof(types[name]!), sizes[POINTER_SIZE as 8 | 4], name);
  }
});

x64('offsets of the handle table entries match the x64 ABI', (t) => {
  const k = koffi();
  const types = winTypes();
  const ex = types.SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX!;
  t.deepEqual(
    ['Object', 'UniqueProcessId', 'HandleValue', 'GrantedAccess', 'CreatorBackTraceIndex', 'ObjectTypeIndex', 'HandleAttributes'].map((m) => k.offsetof(ex, m)),
    [0, 8, 16, 24, 28, 30, 32],
  );
  const own = types.PROCESS_HANDLE_TABLE_ENTRY_INFO!;
  t.deepEqual(['HandleValue', 'HandleCount', 'PointerCount', 'GrantedAccess', 'ObjectTypeIndex', 'HandleAttributes'].map((m) => k.offsetof(own, m)), [0, 8, 16, 24, 28, 32]);
  t.is(k.offsetof(types.UNICODE_STRING!, 'Buffer'), 8);
  t.is(k.offsetof(types.PROCESSENTRY32W!, 'th32DefaultHeapID'), 16);
  t.is(k.offsetof(types.PROCESSENTRY32W!, 'szExeFile'), 44);
  t.is(k.offsetof(types.SECURITY_ATTRIBUTES!, 'bInheritHandle'), 16);
  t.is(k.offsetof(types.OBJECT_TYPE_INFORMATION!, 'PoolType'), 92);
  t.is(k.sizeof('HANDLE'), 8, 'HANDLE is pointer-sized, not an int');
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
