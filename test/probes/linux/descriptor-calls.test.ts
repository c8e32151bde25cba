import test from 'ava';
import { canMakeInheritable, descriptorCall, describeCall, openFlagNames, socketFlagNames, AUDIT_ARCH, type SyscallEntry } from '../../../probes/linux/descriptor-calls.js';

const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_APPEND = 0o2000;
const O_CLOEXEC = 0o2000000;

test('calls asking for close-on-exec are not stopped; those that can leave an inheritable descriptor are', (t) => {
  const x = 'x86_64' as const;
  t.true(canMakeInheritable(x, 2, [0n, BigInt(O_WRONLY | O_CREAT)])); // open without O_CLOEXEC
  t.false(canMakeInheritable(x, 2, [0n, BigInt(O_WRONLY | O_CLOEXEC)]));
  t.true(canMakeInheritable(x, 257, [0n, 0n, 0n])); // openat O_RDONLY
  t.false(canMakeInheritable(x, 257, [0n, 0n, BigInt(O_CLOEXEC)]));
  t.true(canMakeInheritable(x, 41, [2n, 1n, 0n])); // socket SOCK_STREAM
  t.false(canMakeInheritable(x, 41, [2n, BigInt(1 | O_CLOEXEC), 0n]));
  t.true(canMakeInheritable(x, 22, [0n])); // pipe
  t.false(canMakeInheritable(x, 293, [0n, BigInt(O_CLOEXEC)])); // pipe2 O_CLOEXEC
  t.true(canMakeInheritable(x, 72, [5n, 2n, 0n])); // fcntl F_SETFD 0
  t.false(canMakeInheritable(x, 72, [5n, 2n, 1n])); // fcntl F_SETFD FD_CLOEXEC
  t.false(canMakeInheritable(x, 72, [5n, 1030n, 10n])); // F_DUPFD_CLOEXEC
  t.true(canMakeInheritable(x, 72, [5n, 0n, 10n])); // F_DUPFD
  t.false(canMakeInheritable(x, 72, [5n, 3n, 0n])); // F_GETFL
  t.false(canMakeInheritable(x, 72, [1n, 2n, 0n])); // stdio: meant to be inherited
  t.true(canMakeInheritable(x, 16, [5n, 0x5450n])); // ioctl FIONCLEX
  t.false(canMakeInheritable(x, 16, [5n, 0x5451n])); // FIOCLEX
  t.true(canMakeInheritable(x, 33, [3n, 5n])); // dup2 onto 5
  t.false(canMakeInheritable(x, 33, [3n, 2n])); // dup2 onto stderr
  t.false(canMakeInheritable(x, 292, [3n, 5n, BigInt(O_CLOEXEC)])); // dup3 O_CLOEXEC
  t.false(canMakeInheritable(x, 47, [3n, 0n, 0x40000000n])); // recvmsg MSG_CMSG_CLOEXEC
  t.false(canMakeInheritable(x, 0, [3n, 0n, 0n])); // read
  // aarch64 has no open(2): its 2 is io_submit... not a descriptor call.
  t.is(descriptorCall('aarch64', 2), undefined);
  t.is(descriptorCall('aarch64', 56)!.name, 'openat');
  t.true(canMakeInheritable('aarch64', 59, [0n, 0n])); // pipe2 without O_CLOEXEC
});

test('flags decode to names, a missing close-on-exec is named', (t) => {
  t.deepEqual(openFlagNames('x86_64', O_WRONLY | O_CREAT | O_APPEND), ['O_WRONLY', 'O_CREAT', 'O_APPEND', 'without O_CLOEXEC']);
  t.deepEqual(openFlagNames('x86_64', O_CLOEXEC), ['O_RDONLY', 'O_CLOEXEC']);
  t.deepEqual(openFlagNames('x86_64', 0o4010000), ['O_RDONLY', 'O_SYNC', 'without O_CLOEXEC']);
  t.deepEqual(openFlagNames('aarch64', 0o40000 | O_CLOEXEC), ['O_RDONLY', 'O_DIRECTORY', 'O_CLOEXEC']);
  t.deepEqual(socketFlagNames(2, 1), ['AF_INET', 'SOCK_STREAM', 'without SOCK_CLOEXEC']);
  t.deepEqual(socketFlagNames(1, 1 | O_CLOEXEC | 0o4000), ['AF_UNIX', 'SOCK_STREAM', 'SOCK_NONBLOCK', 'SOCK_CLOEXEC']);
});

test('a call is described from its entry and result, its path read from memory', (t) => {
  const path = Buffer.from('app.log\0');
  const entry: SyscallEntry = { auditArch: AUDIT_ARCH.x86_64, nr: 257, args: [BigInt(-100 >>> 0), 0x1000n, BigInt(O_WRONLY | O_CREAT), 0o644n, 0n, 0n], instructionPointer: 0n, stackPointer: 0n };
  const memory = (address: bigint, length: number) => (address === 0x1000n ? path.subarray(0, length) : undefined);
  t.deepEqual(describeCall(entry, 5n, memory), { syscall: 'openat', flags: ['O_WRONLY', 'O_CREAT', 'without O_CLOEXEC'], path: 'app.log', fds: [5], inheritable: true });
  t.is(describeCall(entry, -2n, memory), undefined); // ENOENT: made nothing
  const setfd: SyscallEntry = { ...entry, nr: 72, args: [7n, 2n, 0n, 0n, 0n, 0n] };
  t.like(describeCall(setfd, 0n), { syscall: 'fcntl', flags: ['F_SETFD', 'without FD_CLOEXEC'], fds: [7], madeInheritable: true, inheritable: true });
});
