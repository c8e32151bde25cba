/** The audit API: every descriptor of one process, of several, or of every readable process. */
import { DESCRIPTOR_TYPES, PROCESS_FIELD_NAMES, type AuditOutcome, type Descriptor, type DescriptorLimits, type ListOptions, type ProcessAudit } from '../probe-kit/contract.js';
import { FdscanError, UsageError } from '../errors.js';
import { probeFor } from '../platform/probe.js';
import { checkPid } from './pid.js';

export type { AuditOutcome } from '../probe-kit/contract.js';

export interface AuditOptions extends ListOptions {
  /** Keep only these types (REG, SOCK, eventfd, ...). */
  types?: string[];
  /** Keep only descriptors a child started by exec would receive. */
  inheritableOnly?: boolean;
}

/** Every descriptor of `pid` (default: this process). Throws NoSuchProcess, AccessDenied or OsError. */
export function listDescriptors(pid: number = process.pid, options: AuditOptions = {}): ProcessAudit {
  checkTypes(options.types);
  checkFields(options.fields);
  const shape = shapeOf(options);
  return finish(probeFor().listDescriptors(checkPid(pid), { ...options, shown: shape.keep }), shape);
}

/** Number of open descriptors of `pid`, without reading them. */
export function countDescriptors(pid: number = process.pid): number {
  return probeFor().countDescriptors(checkPid(pid));
}

/**
 * Audit several processes, sharing socket tables and the peer index between them: one outcome per
 * pid, in order, an audit or the typed error that stopped it. A bug is thrown, never an outcome.
 */
export function auditProcesses(pids: number[], options: AuditOptions = {}): AuditOutcome[] {
  if (!Array.isArray(pids)) throw new UsageError('auditProcesses: pids must be an array of process ids');
  checkTypes(options.types);
  checkFields(options.fields);
  const shape = shapeOf(options);
  const outcomes = probeFor().listDescriptorsOfMany(pids.map(checkPid), { ...options, shown: shape.keep });
  for (const outcome of outcomes) if (outcome.audit) outcome.audit = finish(outcome.audit, shape);
  return outcomes;
}

/** What the options ask of each audit once the probe has read it: its limits, and the rows the filters keep. */
interface AuditShape {
  limits: boolean;
  keep?: (row: Descriptor) => boolean;
}

function shapeOf(options: AuditOptions): AuditShape {
  return { limits: options.fields?.includes('limits') ?? true, keep: options.types || options.inheritableOnly ? keptByFilters(options) : undefined };
}

/** Whether the type and inheritability filters keep a row (types in any case). */
function keptByFilters(options: AuditOptions): (row: Descriptor) => boolean {
  const types = options.types && new Set(options.types.map((t) => t.toLowerCase()));
  return (row) => (!types || types.has(row.type.toLowerCase())) && (!options.inheritableOnly || row.inheritable === true);
}

/** The audit with its limits (when asked for) and only the rows the filters keep. */
function finish(audit: ProcessAudit, shape: AuditShape): ProcessAudit {
  return keepRows(shape.limits ? withLimits(audit) : audit, shape.keep);
}

/**
 * Soft and hard RLIMIT_NOFILE of `pid` (default: this process); `null` is unlimited. Undefined
 * where the platform cannot tell (Windows has no such limit; macOS tells only its own).
 */
export function descriptorLimits(pid: number = process.pid): DescriptorLimits | undefined {
  return probeFor().descriptorLimits?.(checkPid(pid));
}

/**
 * The audit with its process's limits, read right after its descriptors, placed after `platform`.
 * A process gone meanwhile keeps its audit, without limits: they are unknown, not fatal. Not read
 * when `options.fields` leaves them out (shapeOf).
 */
function withLimits(audit: ProcessAudit): ProcessAudit {
  let limits: DescriptorLimits | undefined;
  try {
    limits = probeFor().descriptorLimits?.(audit.pid);
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error;
    audit.errors.push(`descriptor limits: ${error.message}`);
  }
  if (!limits) return audit;
  const { fds, errors, ...facts } = audit;
  return { ...facts, limits, fds, errors };
}

/** Every process of the machine: one outcome per pid (unreadable and vanished ones are outcomes, not failures). */
export function auditAllProcesses(options: AuditOptions = {}): AuditOutcome[] {
  return auditProcesses(probeFor().listPids(), options);
}

/** Apply the type and inheritability filters to an audit; `total` keeps the count before them. */
export function filterAudit(audit: ProcessAudit, options: AuditOptions): ProcessAudit {
  return keepRows(audit, shapeOf(options).keep);
}

function keepRows(audit: ProcessAudit, keep: ((row: Descriptor) => boolean) | undefined): ProcessAudit {
  return keep ? { ...audit, total: audit.total ?? audit.fds.length, fds: audit.fds.filter(keep) } : audit;
}

/** The type names the `types` filter accepts, in any case: the common ones and those this platform names itself. */
export function knownTypes(): string[] {
  return [...new Set([...DESCRIPTOR_TYPES, ...probeFor().descriptorTypes])];
}

/** UsageError naming the known types when `types` holds one no probe of this platform gives. */
function checkTypes(types: readonly string[] | undefined): void {
  if (types === undefined) return;
  if (!Array.isArray(types) || !types.every((t) => typeof t === 'string')) throw new UsageError('types must be an array of type names');
  const known = knownTypes();
  const lower = new Set(known.map((t) => t.toLowerCase()));
  const unknown = types.filter((t) => !lower.has(t.toLowerCase()));
  if (unknown.length === 0) return;
  throw new UsageError(`unknown descriptor type${unknown.length === 1 ? '' : 's'} ${unknown.map((t) => `'${t}'`).join(', ')}; ` +
    `known types (any case): ${known.join(', ')}`);
}

/** UsageError naming the known fields when `fields` holds one fdscan/audit@1 does not have. */
function checkFields(fields: readonly string[] | undefined): void {
  if (fields === undefined) return;
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string')) throw new UsageError('fields must be an array of field names');
  const unknown = fields.filter((f) => !(PROCESS_FIELD_NAMES as readonly string[]).includes(f));
  if (unknown.length === 0) return;
  throw new UsageError(`unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((f) => `'${f}'`).join(', ')}; known fields: ${PROCESS_FIELD_NAMES.join(', ')}`);
}
