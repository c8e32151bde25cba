/**
 * Why /proc/PID/fd is refused, for the AccessDenied message: who may read it, or, when fdscan runs
 * as root and is refused all the same, what on this machine is the likely cause. Reads
 * /proc/self/uid_map, /proc/self/status (CapEff), /proc/self/mountinfo and the LSM list; each read
 * that fails only leaves its cause out.
 */
import { readFileSync, statSync } from 'node:fs';
import { effectiveCapability } from './capabilities.js';

/** LSMs that can refuse a ptrace read access to root (Yama only restricts attaching). */
const PTRACE_LSMS = ['selinux', 'apparmor', 'smack', 'tomoyo'];

/** The detail after "cannot read descriptors of pid N: ". */
export function deniedDetail(pid: number): string {
  let owner = '';
  try { owner = ` (uid ${statSync(`/proc/${pid}`).uid})`; } catch { /* gone meanwhile */ }
  if (process.geteuid?.() !== 0) return `permission denied; root or the process's own user${owner} can read it`;
  const causes = rootDenialCauses();
  return causes.length > 0
    ? `permission denied although fdscan runs as root: ${causes.join('; ')}`
    : 'permission denied although fdscan runs as root: likely another user namespace than fdscan\'s, an LSM policy (SELinux, AppArmor) or a /proc mounted with hidepid';
}

/** What this machine shows that can refuse root, each as a short clause; empty when nothing is seen. */
export function rootDenialCauses(): string[] {
  const causes: string[] = [];
  const uidMap = readText('/proc/self/uid_map')?.trim().split(/\s+/).join(' ');
  // The initial user namespace maps every uid to itself: "0 0 4294967295".
  if (uidMap !== undefined && uidMap !== '0 0 4294967295') {
    causes.push(`fdscan runs in a user namespace (uid_map ${uidMap}) that does not own the process`);
  }
  // CAP_SYS_PTRACE is what lets root read any process's descriptors.
  if (effectiveCapability(readText('/proc/self/status') ?? '', 'CAP_SYS_PTRACE') === false) {
    causes.push('fdscan lacks CAP_SYS_PTRACE (containers often drop it)');
  }
  // The last mount on /proc is the one in sight.
  const proc = (readText('/proc/self/mountinfo') ?? '').split('\n').filter((line) => line.split(' ')[4] === '/proc').pop();
  const options = proc?.split(' - ')[1]?.split(' ')[2] ?? '';
  const hidepid = /(?:^|,)(hidepid=(?!0\b|off\b)[^,]+|subset=pid)/.exec(options)?.[1];
  if (hidepid) causes.push(`/proc is mounted with ${hidepid}`);
  const lsms = (readText('/sys/kernel/security/lsm') ?? '').split(',').filter((name) => PTRACE_LSMS.includes(name));
  if (lsms.length > 0) causes.push(`an LSM may refuse it (${lsms.join(', ')})`);
  return causes;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}
