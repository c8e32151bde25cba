/** Counts of a process's descriptors (open, inheritable, per type) without describing each one. */
import type { DescriptorTally, TallyRequest } from '../probe-kit/contract.js';
import { TimeLimitExceeded } from '../errors.js';
import { checkPid } from './pid.js';
import { probeFor } from '../platform/probe.js';

export type { DescriptorTally, TallyRequest } from '../probe-kit/contract.js';

/**
 * Open descriptors of `pid`, and those inheritable and of each type when asked. Where the probe
 * has no cheaper way (`capabilities.tally`), a full read of the descriptors, without peers.
 * Throws NoSuchProcess, AccessDenied, OsError; TimeLimitExceeded past `request.deadline`.
 */
export function tallyDescriptors(pid: number, request: TallyRequest = {}): DescriptorTally {
  const probe = probeFor();
  checkPid(pid);
  if (!request.inheritable && !request.types) return { open: probe.countDescriptors(pid) };
  if (probe.tallyDescriptors) return probe.tallyDescriptors(pid, request);
  if (request.deadline !== undefined && Date.now() > request.deadline) throw new TimeLimitExceeded(`counting the descriptors of pid ${pid}`);
  const { fds } = probe.listDescriptors(pid, { peers: false });
  const tally: DescriptorTally = { open: fds.length };
  if (request.inheritable && probe.capabilities.inheritable) tally.inheritable = fds.filter((d) => d.inheritable === true).length;
  if (request.types) {
    tally.byType = {};
    for (const d of fds) tally.byType[d.type] = (tally.byType[d.type] ?? 0) + 1;
  }
  return tally;
}
