/**
 * Linux capabilities fdscan checks, by name: the bit of each is defined here only. Read from the
 * CapEff line of /proc/.../status (the effective set, hex, bit N for capability N).
 */
import { readFileSync } from 'node:fs';

/** Capability numbers of include/uapi/linux/capability.h that fdscan looks at. */
export const CAPABILITIES = {
  /** Trace or read any process, and keep a traced setuid program's privilege. */
  CAP_SYS_PTRACE: 19,
  /** Install a seccomp filter without PR_SET_NO_NEW_PRIVS. */
  CAP_SYS_ADMIN: 21,
} as const;

/** The name of a capability fdscan checks. */
export type CapabilityName = keyof typeof CAPABILITIES;

/** Whether the CapEff line of a /proc status text holds `name`; undefined when it has no such line. */
export function effectiveCapability(status: string, name: CapabilityName): boolean | undefined {
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  return hex === undefined ? undefined : ((BigInt(`0x${hex}`) >> BigInt(CAPABILITIES[name])) & 1n) === 1n;
}

/**
 * Whether this thread (`thread-self`, the default: capabilities are per thread) or this process
 * (`self`) holds `name` in its effective set. An unreadable status file is thrown.
 */
export function hasCapability(name: CapabilityName, of: 'thread-self' | 'self' = 'thread-self'): boolean {
  return effectiveCapability(readFileSync(`/proc/${of}/status`, 'latin1'), name) === true;
}
