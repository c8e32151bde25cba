/** Finds the process a user ran fdscan from: the parent, skipping npm/npx and shim processes. */
import { basename } from 'node:path';
import { probeFor } from '../platform/probe.js';
import { UsageError } from '../errors.js';
import type { ProcessInfo } from '../probe-kit/contract.js';

/** True for processes that only run fdscan on someone's behalf (npm exec, npx, `sh -c fdscan`). */
export function isWrapperProcess(info: ProcessInfo): boolean {
  const argv = info.argv;
  const program = basename(argv[0] ?? info.command);
  // npm renames its process: comm "npm exec fdscan", argv[0] "npm exec fdscan --json   ".
  const npmTitle = /^(npm|npx)(\s|$)/;
  if (npmTitle.test(program) || npmTitle.test(info.command) || npmTitle.test(argv[0] ?? '')) return true;
  if (/^node(js)?(\d+)?$/.test(program) || info.command === 'node') {
    const script = basename(argv[1] ?? '');
    return /^(npm|npx)(-cli\.js)?$/.test(script) || script === 'npm-cli.js' || script === 'npx-cli.js';
  }
  // npm runs a bin through `sh -c "'fdscan' ..."` (the name quoted, or a path to it).
  if (/^(sh|dash|bash)$/.test(program) && argv[1] === '-c') return /^['"]?(\S*\/)?fdscan['"]?(\s|$)/.test(argv[2] ?? '');
  return false;
}

/** The pid fdscan should audit when given none: the first ancestor that is not a wrapper. */
export function invokingProcess(start: number = process.ppid): number {
  const probe = probeFor();
  // Reading fdscan's own facts first checks that the probe sees this process as it is (on Linux,
  // that /proc is of this pid namespace) before any pid is trusted.
  probe.processInfo(process.pid);
  if (start <= 0) {
    throw new UsageError(`fdscan was started by a process outside its pid namespace (it is pid ${process.pid} here): name the pid to audit`);
  }
  let pid = start;
  for (let depth = 0; depth < 16 && pid > 1; depth++) {
    let info: ProcessInfo;
    try {
      info = probe.processInfo(pid);
    } catch {
      return pid;
    }
    if (!isWrapperProcess(info)) return pid;
    pid = info.ppid;
  }
  return pid;
}
