/** The audit API: every descriptor of one process, of several, or of every readable process. */
import type { Descriptor, ListOptions, ProcessAudit } from './probe-contract.js';
import { AccessDenied, FdscanError, NoSuchProcess } from './errors.js';
import { probeFor } from './probe.js';

export interface AuditOptions extends ListOptions {
  /** Keep only these types (REG, SOCK, eventfd, ...). */
  types?: string[];
  /** Keep only descriptors a child started by exec would receive. */
  inheritableOnly?: boolean;
}

/** Every descriptor of `pid` (default: this process). Throws NoSuchProcess or AccessDenied. */
export function listDescriptors(pid: number = process.pid, options: AuditOptions = {}): ProcessAudit {
  return filterAudit(probeFor().listDescriptors(pid, options), options);
}

/** Number of open descriptors of `pid`, without reading them. */
export function countDescriptors(pid: number = process.pid): number {
  return probeFor().countDescriptors(pid);
}

/** Result of auditing several processes: one audit or one typed error per pid, in order. */
export type AuditResult = { pid: number; audit: ProcessAudit } | { pid: number; error: FdscanError };

/** Audit several processes, sharing socket tables and the peer index between them. */
export function auditProcesses(pids: number[], options: AuditOptions = {}): AuditResult[] {
  return probeFor().listDescriptorsOfMany(pids, options).map((item, i) => {
    const pid = pids[i]!;
    if (item instanceof FdscanError) return { pid, error: item };
    if (item instanceof Error) throw item; // a bug, not a finding: let it surface
    return { pid, audit: filterAudit(item, options) };
  });
}

export interface MachineAudit {
  audits: ProcessAudit[];
  /** Processes this user may not read. */
  accessDenied: number[];
  /** Processes that exited before they could be read. */
  vanished: number[];
}

/** Every readable process of the machine; unreadable ones are counted, not fatal. */
export function auditAllProcesses(options: AuditOptions = {}): MachineAudit {
  const result: MachineAudit = { audits: [], accessDenied: [], vanished: [] };
  for (const item of auditProcesses(probeFor().listPids(), options)) {
    if ('audit' in item) result.audits.push(item.audit);
    else if (item.error instanceof AccessDenied) result.accessDenied.push(item.pid);
    else if (item.error instanceof NoSuchProcess) result.vanished.push(item.pid);
    else throw item.error;
  }
  return result;
}

/** Apply the type and inheritability filters to an audit. */
export function filterAudit(audit: ProcessAudit, options: AuditOptions): ProcessAudit {
  const types = options.types?.map((t) => t.toLowerCase());
  if (!types && !options.inheritableOnly) return audit;
  const keep = (row: Descriptor): boolean =>
    (!types || types.includes(row.type.toLowerCase())) && (!options.inheritableOnly || row.inheritable === true);
  return { ...audit, fds: audit.fds.filter(keep) };
}
