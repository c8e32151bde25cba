/**
 * What a File handle is: a disk file or directory, a character device, a pipe or a socket, and its
 * name. Every call here may block forever on a synchronous file whose other user waits in a read
 * (the I/O manager serialises requests on such a file), so this module runs in the name helper
 * process (name-helper.ts), never in the process that audits.
 */
import { formatIpv6, type DescriptorType, type SocketInfo } from '../../src/probe-kit/index.js';
import { koffi, winTypes, type Handle } from './types.js';
import {
  FILE_ATTRIBUTE_DIRECTORY, FILE_TYPE_CHAR, FILE_TYPE_DISK, FILE_TYPE_PIPE, getFileInformationByHandle,
  getFileType, getFinalPathNameByHandleW, lastError,
} from './kernel32.js';
import { FilePipeLocalInformation, ObjectNameInformation, ntQueryInformationFile, ntQueryObject, unicodeStringAt } from './ntdll.js';
import {
  AF_INET, AF_INET6, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, SOL_SOCKET, SO_ACCEPTCONN, SO_TYPE,
  getIntOption, socketAddress, startWinsock,
} from './ws2_32.js';

/** What the helper learned of one File handle. */
export interface FileObjectFacts {
  handle: number;
  type: DescriptorType;
  target: string;
  device?: string;
  inode?: number;
  socket?: SocketInfo;
  error?: string;
}

const AF_UNIX = 1;

/** Describe `file` (a handle valid in this process) that is `handle` in the audited one. */
export function describeFileObject(handle: number, file: Handle): FileObjectFacts {
  const kind = getFileType(file);
  if (kind === FILE_TYPE_DISK) return describeDiskFile(handle, file);
  const name = objectName(file);
  if (kind === FILE_TYPE_PIPE) {
    // Sockets report FILE_TYPE_PIPE too: AFD's device has the named-pipe device type.
    if (name.startsWith('\\Device\\Afd')) return { handle, type: 'SOCK', target: name, socket: describeSocket(file) ?? { protocol: 'unknown' } };
    if (name.startsWith('\\Device\\NamedPipe')) return { handle, type: 'FIFO', target: name };
    // No name (wine names neither pipes nor sockets): winsock knows sockets it can use...
    const socket = describeSocket(file);
    if (socket) return { handle, type: 'SOCK', target: socketTarget(socket), socket };
    // ...and the pipe file system answers FilePipeLocalInformation for pipes only. GetFileType
    // says PIPE only for the named-pipe device type, which NPFS and AFD share: not a pipe = a socket.
    const pipe = Buffer.alloc(koffi().sizeof(winTypes().FILE_PIPE_LOCAL_INFORMATION!));
    const status = ntQueryInformationFile(file, pipe, FilePipeLocalInformation);
    if (status === 0) return { handle, type: 'FIFO', target: name || `pipe (${pipeEnd(pipe)} end)` };
    return { handle, type: 'SOCK', target: 'socket', socket: { protocol: 'unknown' } };
  }
  if (kind === FILE_TYPE_CHAR) return { handle, type: 'CHR', target: name };
  return { handle, type: 'UNKNOWN', target: name };
}

/** FILE_PIPE_LOCAL_INFORMATION.NamedPipeEnd: 0 client, 1 server. */
function pipeEnd(info: Buffer): string {
  const end = koffi().decode(info, winTypes().FILE_PIPE_LOCAL_INFORMATION!) as { NamedPipeEnd: number };
  return end.NamedPipeEnd === 1 ? 'server' : 'client';
}

function describeDiskFile(handle: number, file: Handle): FileObjectFacts {
  const facts: FileObjectFacts = { handle, type: 'REG', target: '' };
  const info: Record<string, unknown> = {};
  if (getFileInformationByHandle(file, info)) {
    const attributes = info.dwFileAttributes as number;
    if (attributes & FILE_ATTRIBUTE_DIRECTORY) facts.type = 'DIR';
    facts.device = `0x${(info.dwVolumeSerialNumber as number).toString(16).padStart(8, '0')}`;
    facts.inode = (info.nFileIndexHigh as number) * 2 ** 32 + (info.nFileIndexLow as number);
  }
  const path = Buffer.alloc(2 * 32768);
  const length = getFinalPathNameByHandleW(file, path, 0);
  if (length > 0 && length < path.length / 2) {
    facts.target = dosPath(path.toString('utf16le', 0, length * 2));
  } else {
    const error = lastError();
    facts.target = objectName(file);
    if (!facts.target) facts.error = `GetFinalPathNameByHandleW: error ${error}`;
  }
  return facts;
}

/** `\\?\C:\x` → `C:\x`, `\\?\UNC\srv\share` → `\\srv\share`. */
export function dosPath(path: string): string {
  if (path.startsWith('\\\\?\\UNC\\')) return `\\\\${path.slice(8)}`;
  if (path.startsWith('\\\\?\\')) return path.slice(4);
  return path;
}

/** The object manager's name (`\Device\NamedPipe\...`, `\Device\Afd`), '' when it has none. */
function objectName(file: Handle): string {
  const buffer = Buffer.alloc(4096 + 2 * 32768);
  const needed: [number] = [0];
  return ntQueryObject(file, ObjectNameInformation, buffer, needed) === 0 ? unicodeStringAt(buffer) : '';
}

/** Protocol, addresses and state of a socket; undefined when winsock says it is not one. */
export function describeSocket(file: Handle): SocketInfo | undefined {
  startWinsock();
  const type = getIntOption(file, SOL_SOCKET, SO_TYPE);
  if (type.value === undefined) return undefined;
  const localBytes = socketAddress(file, 'local');
  const family = localBytes && localBytes.length >= 2 ? localBytes.readUInt16LE(0) : undefined;
  const six = family === AF_INET6 ? '6' : '';
  const base = type.value === SOCK_STREAM ? 'tcp' : type.value === SOCK_DGRAM ? 'udp' : type.value === SOCK_RAW ? 'raw' : undefined;
  const info: SocketInfo = { protocol: family === AF_UNIX ? 'unix' : base ? `${base}${six}` : 'unknown' };
  if (family === AF_UNIX) info.socketType = type.value === SOCK_STREAM ? 'STREAM' : type.value === SOCK_DGRAM ? 'DGRAM' : `type ${type.value}`;
  const local = localBytes ? formatSockaddr(localBytes) : undefined;
  if (local) info.local = local;
  const remoteBytes = socketAddress(file, 'remote');
  const remote = remoteBytes ? formatSockaddr(remoteBytes) : undefined;
  if (remote) info.remote = remote;
  if (type.value === SOCK_STREAM) {
    if (getIntOption(file, SOL_SOCKET, SO_ACCEPTCONN).value) info.state = 'LISTEN';
    else if (remote) info.state = 'ESTABLISHED';
  }
  return info;
}

/** `address:port` (IPv6 in brackets) or a unix socket's path. */
export function formatSockaddr(bytes: Buffer): string | undefined {
  const family = bytes.readUInt16LE(0);
  if (family === AF_INET && bytes.length >= 8) {
    return `${bytes[4]}.${bytes[5]}.${bytes[6]}.${bytes[7]}:${bytes.readUInt16BE(2)}`;
  }
  if (family === AF_INET6 && bytes.length >= 24) {
    return `[${formatIpv6(bytes.subarray(8, 24))}]:${bytes.readUInt16BE(2)}`;
  }
  if (family === AF_UNIX) {
    const path = bytes.subarray(2);
    const end = path.indexOf(0);
    return (end === -1 ? path : path.subarray(0, end)).toString('utf8') || undefined;
  }
  return undefined;
}

function socketTarget(info: SocketInfo): string {
  const addresses = info.remote ? `${info.local ?? '?'}->${info.remote}` : (info.local ?? '');
  return `${info.protocol} ${addresses}${info.state ? ` (${info.state})` : ''}`.trim();
}
