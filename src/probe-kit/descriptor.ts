/**
 * One descriptor as every probe gives it, and the types it may have: the row of the contract.
 * A leaf (it imports nothing), so that the trace and protocol modules that speak of descriptors
 * and the contract that speaks of traces never import each other in a circle.
 */

/** The descriptor types every probe may give: lsof's classes, then anonymous-inode kinds by name. */
export const DESCRIPTOR_TYPES = [
  'REG', 'DIR', 'FIFO', 'CHR', 'BLK', 'LNK', 'SOCK',
  'eventfd', 'eventpoll', 'timerfd', 'signalfd', 'inotify', 'fanotify', 'pidfd',
  'io_uring', 'memfd', 'userfaultfd', 'perf_event', 'bpf', 'anon',
  'UNKNOWN',
] as const;

/** Descriptor classes as lsof names them, plus anonymous-inode kinds by name, plus what a probe names itself. */
export type DescriptorType = (typeof DESCRIPTOR_TYPES)[number] | (string & {});

/** `peers` lists at most this many holders; `peerCount` says how many there are. */
export const PEER_LIMIT = 10;

/** Access mode of the open file description; `none` for O_PATH descriptors. */
export type AccessMode = 'r' | 'w' | 'rw' | 'none';

/** A socket resolved from the kernel's tables, in the target process's own network namespace. */
export interface SocketInfo {
  /** tcp, tcp6, udp, udp6, raw, raw6, udplite, unix, netlink, packet, or `unknown`. */
  protocol: string;
  /** `address:port` for inet sockets (IPv6 in brackets), the bound path for unix ones. */
  local?: string;
  remote?: string;
  /** LISTEN, ESTABLISHED, ... for TCP; CONNECTED, UNCONNECTED, LISTEN for unix sockets. */
  state?: string;
  /** STREAM, DGRAM, SEQPACKET for unix sockets. */
  socketType?: string;
  /** Inode of the connected peer socket (unix sockets, where the kernel tells it). */
  peerInode?: number;
}

/** Another process's descriptor on the same pipe or inet socket, or on the other end of a unix socket. */
export interface PeerHolder {
  pid: number;
  fd: number;
  command: string;
}

/** One open descriptor (Linux, macOS) or handle (Windows). */
export interface Descriptor {
  fd: number;
  type: DescriptorType;
  /** Path, or a description of the object (`pipe:[1234]`, `127.0.0.1:80 (LISTEN)`, `[eventfd]`). */
  target: string;
  /** Present when the target path contained bytes that are not UTF-8: the raw path, base64. */
  targetBytes?: string;
  /** The file was unlinked while open (st_nlink 0), not guessed from a name suffix. */
  deleted?: boolean;
  /** True when a child started by exec (or CreateProcess with inheritance) receives it. */
  inheritable?: boolean;
  access?: AccessMode;
  /** Decoded open-file status flags: O_APPEND, O_NONBLOCK, O_PATH, ... */
  flags?: string[];
  offset?: number;
  /** Device holding the file, `major:minor`. */
  device?: string;
  /** For CHR and BLK: the device the file is, `major:minor`. */
  rdev?: string;
  inode?: number;
  socket?: SocketInfo;
  /**
   * Other holders of the same pipe or inet socket, or of the peer of this unix socket: the first
   * PEER_LIMIT by pid and fd (so a pipe shared by thousands of processes stays small).
   */
  peers?: PeerHolder[];
  /** How many other holders there are in all; set with `peers`. */
  peerCount?: number;
  /** For an epoll descriptor: the descriptor numbers it watches, as its fdinfo `tfd:` lines give them. */
  watches?: number[];
  /** Set when this descriptor could not be fully read; the other fields say what was learned. */
  error?: string;
}
