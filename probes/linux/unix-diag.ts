/**
 * Peers of unix sockets through NETLINK_SOCK_DIAG (UNIX_DIAG_PEER), as `ss -x` and lsof +E do:
 * /proc/net/unix does not say which socket is connected to which. Answers for fdscan's own
 * network namespace only; the caller skips processes in another one.
 */
import { OsError } from '../../src/probe-kit/index.js';
import { errno, linuxTypes } from './libc.js';
import { close, recv, send, socket } from './libc-files.js';
import { O_CLOEXEC } from './open-flags.js';

const AF_NETLINK = 16;
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
/** The same bit as O_CLOEXEC (linux/net.h defines it so). */
const SOCK_CLOEXEC = O_CLOEXEC;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const UDIAG_SHOW_PEER = 0x4;
const UNIX_DIAG_PEER = 2;
/** struct nlmsghdr, unix_diag_req, unix_diag_msg and nlattr sizes (uapi headers, asserted in libc.ts). */
const NLMSGHDR_SIZE = 16;
const UNIX_DIAG_MSG_SIZE = 16;

/** Map of unix socket inode → inode of its connected peer, for this network namespace. */
export function unixPeerInodes(): Map<number, number> {
  const { nlmsghdr: header, unixDiagReq: req } = linuxTypes();
  const peers = new Map<number, number>();
  const fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) throw new OsError('socket(AF_NETLINK, NETLINK_SOCK_DIAG)', errno());
  try {
    const request = Buffer.alloc(header.size + req.size);
    request.writeUInt32LE(request.length, header.nlmsg_len);
    request.writeUInt16LE(SOCK_DIAG_BY_FAMILY, header.nlmsg_type);
    request.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, header.nlmsg_flags);
    request.writeUInt8(AF_UNIX, header.size + req.sdiag_family);
    request.writeUInt32LE(0xffffffff, header.size + req.udiag_states); // every state
    request.writeUInt32LE(UDIAG_SHOW_PEER, header.size + req.udiag_show);
    if (send(fd, request, 0) < 0) throw new OsError('send(sock_diag)', errno());
    const reply = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = recv(fd, reply, 0);
      if (n < 0) throw new OsError('recv(sock_diag)', errno());
      if (parseReply(reply.subarray(0, n), peers)) return peers;
    }
  } finally {
    close(fd);
  }
}

/** Parse one datagram of netlink messages; true once NLMSG_DONE is seen. */
export function parseReply(data: Buffer, peers: Map<number, number>): boolean {
  let offset = 0;
  while (offset + NLMSGHDR_SIZE <= data.length) {
    const length = data.readUInt32LE(offset);
    const type = data.readUInt16LE(offset + 4);
    if (length < NLMSGHDR_SIZE || offset + length > data.length) return true; // malformed: stop
    if (type === NLMSG_DONE) return true;
    if (type === NLMSG_ERROR) throw new OsError('sock_diag', -data.readInt32LE(offset + NLMSGHDR_SIZE));
    const message = offset + NLMSGHDR_SIZE;
    const inode = data.readUInt32LE(message + 4);
    let attribute = message + UNIX_DIAG_MSG_SIZE;
    const end = offset + length;
    while (attribute + 4 <= end) {
      const attributeLength = data.readUInt16LE(attribute);
      const attributeType = data.readUInt16LE(attribute + 2);
      if (attributeLength < 4) break;
      if (attributeType === UNIX_DIAG_PEER && attributeLength >= 8) peers.set(inode, data.readUInt32LE(attribute + 4));
      attribute += (attributeLength + 3) & ~3;
    }
    offset += (length + 3) & ~3;
  }
  return false;
}
