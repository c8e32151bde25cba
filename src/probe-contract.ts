/**
 * The probe contract: what every platform probe (probes/<platform>/) offers and what it returns.
 *
 * Unknown is not false: a field a platform cannot provide is left out of each row and declared
 * absent in the probe's `capabilities`. A descriptor that fails to read becomes a row with `error`;
 * a whole-process failure is a typed error (see errors.ts).
 */

/** Descriptor classes as lsof names them, plus anonymous-inode kinds by name. */
export type DescriptorType =
  | 'REG' | 'DIR' | 'FIFO' | 'CHR' | 'BLK' | 'LNK' | 'SOCK'
  | 'eventfd' | 'eventpoll' | 'timerfd' | 'signalfd' | 'inotify' | 'fanotify' | 'pidfd'
  | 'io_uring' | 'memfd' | 'userfaultfd' | 'perf_event' | 'bpf' | 'anon'
  | 'UNKNOWN'
  | (string & {});

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

/** Another process's descriptor on the same pipe or the other end of a unix socket. */
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
  /** Other holders of the same pipe, or of the peer of this unix socket. */
  peers?: PeerHolder[];
  /** Set when this descriptor could not be fully read; the other fields say what was learned. */
  error?: string;
}

/** The audit of one process: the data `fdscan PID --json` prints. */
export interface ProcessAudit {
  pid: number;
  command: string;
  argv?: string[];
  ppid?: number;
  uid?: number;
  platform: NodeJS.Platform;
  /** The process exited or changed while it was read: `fds` may lack descriptors. */
  incomplete?: boolean;
  zombie?: boolean;
  fds: Descriptor[];
  /** Problems met while reading the process that did not stop the audit. */
  errors: string[];
}

/** What a probe can tell; a field whose capability is false is never set in its rows. */
export interface ProbeCapabilities {
  inheritable: boolean;
  offset: boolean;
  access: boolean;
  flags: boolean;
  sockets: boolean;
  peers: boolean;
  deleted: boolean;
  /** Whether every process of the machine can be listed. */
  allProcesses: boolean;
}

export interface ListOptions {
  /** Resolve the other holders of pipes and unix sockets (scans every readable process). */
  peers?: boolean;
}

/** Brief facts about a process, enough to name it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  command: string;
  argv: string[];
  uid?: number;
}

/** The shape every probes/<platform>/ module exports as its default. */
export interface Probe {
  name: string;
  platform: NodeJS.Platform;
  capabilities: ProbeCapabilities;
  /** Every descriptor of `pid`. Throws NoSuchProcess or AccessDenied for the whole process. */
  listDescriptors(pid: number, options?: ListOptions): ProcessAudit;
  /** Several processes at once, sharing what can be shared; per pid an audit or the error. */
  listDescriptorsOfMany(pids: number[], options?: ListOptions): Array<ProcessAudit | Error>;
  /** Number of open descriptors, as cheaply as the platform allows. */
  countDescriptors(pid: number): number;
  processInfo(pid: number): ProcessInfo;
  /** Pids of every process this probe can see. */
  listPids(): number[];
}

/** listDescriptorsOfMany for a probe that shares nothing between pids: each pid's audit or error. */
export function auditEach(pids: number[], audit: (pid: number) => ProcessAudit): Array<ProcessAudit | Error> {
  return pids.map((pid) => {
    try {
      return audit(pid);
    } catch (error) {
      return error as Error;
    }
  });
}
