/**
 * Which processes a command reads: pids, every process, or those whose command matches a regular
 * expression (`-c`) or that belong to a user (`-u`), as pgrep selects them. Shared by the audit,
 * `top`, `metrics` and `serve`.
 */
import { basename } from 'node:path';
import type { ProcessInfo } from '../probe-kit/contract.js';
import { AccessDenied, FdscanError, NoSuchProcess, UsageError } from '../errors.js';
import { probeFor } from '../platform/probe.js';
import { checkPid } from './pid.js';

export interface Selection {
  /** These processes; none: every process (with `all`, `command` or `user`, or where the command's default is all). */
  pids?: number[];
  all?: boolean;
  /** A regular expression (JavaScript syntax, unanchored) matched against the command name, argv[0] and argv[0]'s last path component. */
  command?: string;
  /** A user name or a uid. */
  user?: string | number;
}

/** The selected pids, with the facts read to select them (only when a filter needed them). */
export interface Selected {
  pids: number[];
  info: Map<number, ProcessInfo>;
  /** Processes whose facts could not be read to match them (counted, never fatal). */
  unreadable: number;
}

/** True when the selection filters by command or user. */
export function filters(selection: Selection): boolean {
  return selection.command !== undefined || selection.user !== undefined;
}

/**
 * The processes `selection` names. With no pids, every process when `all`, a filter or
 * `everyByDefault` says so, else none. Bad input (a pattern that is not a regular expression, an
 * unknown user, pids with `all`) is a UsageError; processes that exit meanwhile are left out.
 */
export function selectProcesses(selection: Selection, everyByDefault = true): Selected {
  const probe = probeFor();
  const command = compileCommand(selection.command);
  const uid = resolveUser(selection.user);
  if (selection.all && selection.pids && selection.pids.length > 0) throw new UsageError('give pids or --all, not both');
  const listed = selection.pids && selection.pids.length > 0 ? selection.pids.map(checkPid)
    : selection.all || filters(selection) || everyByDefault ? probe.listPids() : [];
  const selected: Selected = { pids: [], info: new Map(), unreadable: 0 };
  if (!command && uid === undefined) return { ...selected, pids: listed };
  for (const pid of listed) {
    let info: ProcessInfo;
    try {
      info = probe.processInfo(pid);
    } catch (error) {
      if (error instanceof AccessDenied) selected.unreadable++;
      else if (!(error instanceof NoSuchProcess)) throw error;
      continue;
    }
    if (uid !== undefined && info.uid !== uid) continue;
    if (command && !matchesCommand(command, info)) continue;
    selected.pids.push(pid);
    selected.info.set(pid, info);
  }
  return selected;
}

/**
 * The selection checked before any process is read: the pattern compiled and the user resolved
 * to a uid, so a long-running reader fails at start, with one line, and looks the name up once.
 */
export function checkSelection(selection: Selection): Selection {
  compileCommand(selection.command);
  return { ...selection, user: resolveUser(selection.user) };
}

/** Whether the command name, argv[0] or argv[0]'s base name matches. */
function matchesCommand(pattern: RegExp, info: ProcessInfo): boolean {
  const argv0 = info.argv[0];
  return pattern.test(info.command) || (argv0 !== undefined && (pattern.test(argv0) || pattern.test(basename(argv0))));
}

function compileCommand(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    throw new UsageError(`--command takes a regular expression: ${(error as Error).message}`);
  }
}

/** A uid from a uid or a user name; UsageError for a name the user database does not know. */
export function resolveUser(user: string | number | undefined): number | undefined {
  if (user === undefined) return undefined;
  const text = String(user).trim();
  if (/^\d+$/.test(text)) {
    const uid = Number(text);
    if (uid > 2 ** 32 - 1) throw new UsageError(`--user: no uid ${text} (uids are below 2^32)`);
    return uid;
  }
  const probe = probeFor();
  if (!probe.userId) throw new UsageError(`--user: fdscan cannot look up user names on ${probe.platform}: give a uid`);
  let uid: number | undefined;
  try {
    uid = probe.userId(text);
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error;
    throw new UsageError(`--user: cannot look up '${text}': ${error.message}`);
  }
  if (uid === undefined) throw new UsageError(`--user: no user named '${text}'`);
  return uid;
}

/** The name of `uid` as ps shows it: its user name, or the number when it has none. */
export function userLabel(uid: number | undefined): string | undefined {
  if (uid === undefined) return undefined;
  let name: string | undefined;
  try {
    name = probeFor().userName?.(uid);
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error;
  }
  return name ?? String(uid);
}
