/**
 * ws2_32.dll functions fdscan calls to tell a socket from a pipe (both are FILE_TYPE_PIPE) and read
 * its addresses. Bound on first call; only the name helper process uses them, because on a
 * synchronous pipe with a pending read they can block like any other query of that file.
 */
import { koffi, lazyLibrary } from '../native-library.js';
import { winTypes } from './types.js';
import { OsError } from '../../src/probe-kit/index.js';

const fn = lazyLibrary((k) => k.load('ws2_32.dll'), winTypes);

export const SOL_SOCKET = 0xffff;
export const SO_TYPE = 0x1008;
export const SO_ACCEPTCONN = 0x0002;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3;
export const AF_INET = 2, AF_INET6 = 23;
export const WSAENOTSOCK = 10038;

let started = false;

/** WSAStartup(2.2) once per process; winsock refuses every call before it. */
export function startWinsock(): void {
  if (started) return;
  const data = Buffer.alloc(512); // WSADATA is 408 bytes on x64, 400 on x86
  const rc = fn('int __stdcall WSAStartup(WORD wVersionRequested, _Out_ void *lpWSAData)')(0x0202, data) as number;
  if (rc !== 0) throw new OsError('WSAStartup', `Windows error ${rc}`);
  started = true;
}

export const wsaGetLastError = (): number => fn('int __stdcall WSAGetLastError()')() as number;

/** getsockopt of an int option; undefined with the winsock error when it fails. */
export function getIntOption(socket: bigint, level: number, name: number): { value?: number; error?: number } {
  const value = Buffer.alloc(4);
  const length: [number] = [4];
  const rc = fn('int __stdcall getsockopt(SOCKET s, int level, int optname, _Out_ void *optval, _Inout_ int *optlen)')(socket, level, name, value, length) as number;
  if (rc !== 0) return { error: wsaGetLastError() };
  return { value: value.readInt32LE(0) };
}

/** getsockname / getpeername into a sockaddr buffer; undefined when unbound or unconnected. */
export function socketAddress(socket: bigint, which: 'local' | 'remote'): Buffer | undefined {
  const into = Buffer.alloc(koffi().sizeof(winTypes().SOCKADDR_STORAGE!));
  const length: [number] = [into.length];
  const name = which === 'local' ? 'getsockname' : 'getpeername';
  const rc = fn(`int __stdcall ${name}(SOCKET s, _Out_ void *name, _Inout_ int *namelen)`)(socket, into, length) as number;
  return rc === 0 ? into.subarray(0, length[0]) : undefined;
}
