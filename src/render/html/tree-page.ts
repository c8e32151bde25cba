/**
 * The page of a traced run (`gate --html FILE`, `inherit-diff --html FILE -- CMD`): the verdict on
 * top; each finding as the path of its open file, from the process that opened it through every
 * exec that received it, with its origin (the call and its stack) where the trace has it; what was
 * set apart (ambient, passed by a protocol, allowed, unverified); then the process tree, one
 * collapsible node per process with its argv, pid, exit and what each exec received beyond 0, 1, 2,
 * searchable by program, path or pid. Every mark is a word, not a colour alone.
 *
 * Written process by process through the page writer (page.ts): 5,000 processes are never one string.
 */
import type { Descriptor } from '../../probe-kit/contract.js';
import type { ExecRecord, TraceResult, TracedDescriptor, TracedProcess } from '../../probe-kit/trace-result.js';
import { PROTOCOL_TITLES } from '../../trace/descriptor-protocols.js';
import type { GateReceiver, GateVerdict, InheritedLeak, ReceivedGroup, ReexecGrowth } from '../../gate/gate-finding.js';
import type { GateOutcome } from '../../gate/gate-outcome.js';
import { OriginIndex } from '../../trace/origins.js';
import type { DescriptorOrigin } from '../../probe-kit/trace-result.js';
import { objectKey } from '../../audit/descriptor-identity.js';
import { ambientReceived, childrenByParent } from '../../trace/trace-views.js';
import { describeDescriptor, descriptorTarget, escapeText, plural, quoteArgv, shortArgv } from '../text.js';
import { originLines } from '../origin-text.js';
import { html, terminalText, type Html, type PageBody, type PageFile, type PageVerdict } from './page.js';
import { TREE_SCRIPT, TREE_STYLE } from './tree-client.js';

const STDIO = 3;
/** Processes up to this many are shown open; a larger tree opens only its first levels and the findings' paths. */
const OPEN_ALL = 200;
const OPEN_DEPTH = 2;
/** In a large tree, nodes of the findings' paths opened (with their ancestors), in the order they were found. */
const OPEN_PATH_NODES = 50;
/**
 * Nodes nest up to this depth; deeper descendants follow their ancestor at this depth, each naming
 * its parent: browsers stop nesting at a few hundred levels, and a tree 3,000 deep is a chain to read.
 */
const MAX_NEST = 24;
/** Receivers listed in a finding's path before the rest are folded. */
const PATH_SHOWN = 25;
/**
 * Rows of one exec's table shown: a program that re-executed itself 2,000 times holding one more
 * descriptor each time would make the page quadratic.
 */
const ROWS_SHOWN = 50;
/** Findings shown open; the others are folded, their heading still visible. */
const FINDINGS_OPEN = 20;

/** The gate's conclusions, for a gate page; absent for inherit-diff. */
export interface TracePageGate {
  verdict: GateVerdict;
  outcome: GateOutcome;
}

/** Write the page of `trace` into `file`; `title` names the command (`fdscan gate`). */
export function writeTracePage(file: PageFile, trace: TraceResult, title: string, gate?: TracePageGate): void {
  const marks = gate ? gateMarks(trace, gate.verdict) : new Marks();
  const execs = trace.processes.reduce((n, p) => n + p.execs.length, 0);
  const facts = [
    html`command: <code class="argv">${terminalText(quoteArgv(trace.command))}</code>`,
    `${plural(trace.processes.length, 'process', 'processes')}, ${plural(execs, 'exec')}; method ${trace.method}${trace.method === 'sampling' ? ' (short processes may be missing)' : ''}; exit status ${trace.exitCode}`,
    ...trace.warnings.map((w) => `warning: ${w}`),
  ];
  const command = trace.command.join(' ');
  const head = `${title}: ${command.length > 80 ? `${command.slice(0, 79)}…` : command}`;
  file.write({ title: head, verdict: gate ? gateVerdictLine(trace, gate) : inheritVerdictLine(trace), facts, scripts: [TREE_SCRIPT], styles: [TREE_STYLE] }, (page) => {
    const origins = new OriginIndex(trace);
    if (gate) writeFindings(page, trace, gate.verdict);
    writeSetApart(page, trace, gate?.verdict);
    writeTree(page, trace, marks, origins, gate !== undefined);
  });
}

/** PASS, FAIL (findings) or ERROR (unverified, a refused ptrace, a failed command), with the reasons. */
function gateVerdictLine(trace: TraceResult, { verdict, outcome }: TracePageGate): PageVerdict {
  const failing = outcome.reasons.filter((r) => r.fails);
  const status = outcome.passed && outcome.exitStatus === 0 ? 'pass' : failing.some((r) => r.kind === 'findings') ? 'fail' : 'error';
  const reasons = outcome.reasons.map((r) => (r.fails ? r.summary : `${r.summary} (let through by ${r.allowedBy})`));
  const baselined = verdict.findings.filter((f) => f.baselined).length;
  const parts = [
    ...(reasons.length > 0 ? reasons : ['no leak: no exec received a descriptor opened inside the tree']),
    ...(baselined > 0 ? [`${plural(baselined, 'finding')} in the baseline`] : []),
    `exit status ${outcome.exitStatus}${trace.exitCode !== 0 ? ` (the command's own: ${trace.exitCode})` : ''}`,
  ];
  return { status, text: parts.join('; ') };
}

/** inherit-diff judges nothing: how many execs received more than stdio, and the command's exit status. */
function inheritVerdictLine(trace: TraceResult): PageVerdict {
  const extra = trace.processes.reduce((n, p) => n + p.execs.filter((e) => e.received.some((d) => d.fd >= STDIO && !d.ambient && !protocolOf(e, d.fd))).length, 0);
  return {
    status: 'info',
    label: 'INHERIT-DIFF',
    text: `${plural(extra, 'exec')} received a descriptor beyond 0, 1, 2 that is neither ambient nor passed by a protocol; exit status ${trace.exitCode}`,
  };
}

/** What a received descriptor is to the report: a finding (its number), ambient, a protocol's, allowed, or just received. */
interface Mark {
  kind: 'finding' | 'ambient' | 'protocol' | 'allowed';
  label: string;
}

/** Marks by receiver (process, argv, fd), and each finding's processes: opener, carriers, receivers. */
class Marks {
  readonly received = new Map<string, Mark>();
  /** Process id → the words of its place on findings' paths (`LEAK 1: opened fd 3`). */
  readonly onPath = new Map<number, string[]>();

  static key(process: number, argv: readonly string[], fd: number): string {
    return `${process}\0${fd}\0${argv.join('\0')}`;
  }

  path(process: number, words: string): void {
    const list = this.onPath.get(process) ?? [];
    if (!list.includes(words)) list.push(words);
    this.onPath.set(process, list);
  }
}

function gateMarks(trace: TraceResult, verdict: GateVerdict): Marks {
  const marks = new Marks();
  const mark = (receivers: GateReceiver[], m: Mark): void => {
    for (const r of receivers) if (!marks.received.has(Marks.key(r.process, r.argv, r.fd))) marks.received.set(Marks.key(r.process, r.argv, r.fd), m);
  };
  verdict.findings.forEach((f, i) => {
    const n = i + 1;
    if (f.kind === 'reexec-growth') {
      marks.path(f.process.process, `GROWTH ${n}: re-executed ${plural(f.leakedPerCycle.length, 'time')}`);
      return;
    }
    mark(f.receivers, { kind: 'finding', label: `LEAK ${n}` });
    const prefix = `LEAK ${n}:`;
    marks.path(f.opener.process, `${prefix} ${f.opener.receivedBy ? 'passed on' : 'opened'} fd ${f.fd}`);
    for (const r of f.receivers) marks.path(r.process, `${prefix} received as fd ${r.fd}`);
    // The processes between the opener and a receiver carried it (forks that did not exec). The walk
    // up stops at the first process already on this path: a chain 3,000 deep is walked once.
    for (const r of f.receivers) {
      for (let p = trace.processes[r.process]?.parent; p !== undefined && p !== f.opener.process; p = trace.processes[p]?.parent) {
        if (marks.onPath.get(p)?.some((w) => w.startsWith(prefix))) break;
        marks.path(p, `${prefix} carried`);
      }
    }
  });
  for (const a of verdict.allowed) mark(a.receivers, { kind: 'allowed', label: `allowed by ${a.spec}` });
  for (const p of verdict.protocol) mark(p.receivers, { kind: 'protocol', label: `protocol: ${PROTOCOL_TITLES[p.protocol]}` });
  return marks;
}

/** Each finding: its path from opener to receivers, its origin, its fix. */
function writeFindings(page: PageBody, trace: TraceResult, verdict: GateVerdict): void {
  const note = verdict.findings.length === 0
    ? 'None: no exec received a descriptor beyond 0, 1, 2 that was opened inside the tree.'
    : 'Each open file that leaked, as the path it took: the process that opened it (OPENED), the processes that carried it (CARRIED), every exec that received it (RECEIVED).';
  page.section({ id: 'findings', title: `Findings (${verdict.findings.length})`, note }, () => {
    verdict.findings.forEach((f, i) => {
      const open = i < FINDINGS_OPEN;
      page.write(f.kind === 'inherited' ? leakMarkup(f, i + 1, trace, open) : growthMarkup(f, i + 1, open));
    });
  });
}

function leakMarkup(f: InheritedLeak, n: number, trace: TraceResult, open: boolean): Html {
  const o = f.opener;
  const sharers = o.sharedTable ? html` <span class="note">(or ${o.sharedTable.map((pid) => `pid ${pid}`).join(' or ')}, which shared its descriptor table)</span>` : '';
  const opener = html`<li class="step opener"><strong>${o.receivedBy ? 'PASSED ON' : 'OPENED'}</strong> by ${processLink(o.process, o.pid)} <code class="argv">${terminalText(quoteArgv(o.argv))}</code>${o.execdSince ? html` (before it exec'd <code class="argv">${terminalText(quoteArgv(o.execdSince))}</code>)` : ''} as fd ${f.fd}${o.receivedBy ? html`, received through ${PROTOCOL_TITLES[o.receivedBy]}` : ''}${sharers}</li>`;
  const carriers = carriersOf(f, trace);
  const step = (r: GateReceiver): Html => html`<li class="step receiver"><strong>RECEIVED</strong> by ${processLink(r.process, r.pid)} <code class="argv">${terminalText(quoteArgv(r.argv))}</code> as fd ${r.fd}${r.from ? html` <span class="note">(copy of ${r.from.process === undefined ? 'fdscan' : `pid ${r.from.pid}`} fd ${r.from.fd}${r.from.match === 'identity' ? ', same file, not confirmed by kcmp' : ''})</span>` : ''}</li>`;
  const shown = f.receivers.slice(0, PATH_SHOWN);
  const rest = f.receivers.slice(PATH_SHOWN);
  return html`<details class="finding" id="finding-${n}" data-kind="leak"${open ? html` open` : ''}>
<summary><span class="finding-label">LEAK ${n}</span> <code class="path">${terminalText(describeDescriptor(f.descriptor))}</code> — ${plural(f.receivers.length, 'exec')} received it${f.baselined ? html` <span class="tag">in the baseline: does not fail</span>` : ''}</summary>
<ol class="leak-path">${opener}${carriers.map((p) => html`<li class="step carrier"><strong>CARRIED</strong> by ${processLink(p.id, p.pid)} <span class="note">(${p.createdBy}${p.execs.length === 0 ? ', no exec' : ''})</span></li>`)}${shown.map(step)}${rest.length > 0 ? html`<li class="step more"><details><summary>and ${plural(rest.length, 'more receiver')}</summary><ol>${rest.map(step)}</ol></details></li>` : ''}</ol>
${f.origin ? originMarkup(f.origin, o.pid) : ''}
<p class="fix"><strong>Fix:</strong> ${f.fix.text}</p>
</details>
`;
}

/** Processes between the opener and the receivers that held the descriptor without receiving it at an exec. */
function carriersOf(f: InheritedLeak, trace: TraceResult): TracedProcess[] {
  const receivers = new Set(f.receivers.map((r) => r.process));
  const carriers = new Map<number, TracedProcess>();
  for (const r of f.receivers) {
    for (let p = trace.processes[r.process]?.parent; p !== undefined && p !== f.opener.process; p = trace.processes[p]?.parent) {
      if (receivers.has(p) || carriers.has(p)) break;
      carriers.set(p, trace.processes[p]!);
    }
  }
  return [...carriers.values()].sort((a, b) => a.seq - b.seq);
}

function growthMarkup(f: ReexecGrowth, n: number, open: boolean): Html {
  return html`<details class="finding" id="finding-${n}" data-kind="growth"${open ? html` open` : ''}>
<summary><span class="finding-label">GROWTH ${n}</span> ${processLink(f.process.process, f.process.pid)} <code class="argv">${terminalText(shortArgv(f.process.argv, 100))}</code> re-executed itself ${plural(f.leakedPerCycle.length, 'time')}${f.baselined ? html` <span class="tag">in the baseline: does not fail</span>` : ''}</summary>
<p>Descriptors beyond 0, 1, 2 held at each exec: ${numbers(f.held, ' → ')} (leaked per cycle: ${numbers(f.leakedPerCycle, ', ')}).</p>
<ul class="descriptors">${f.descriptors.slice(0, PATH_SHOWN).map((d, i) => html`<li><code class="path">${terminalText(describeDescriptor(d))}</code>${f.origins?.[i] ? originMarkup(f.origins[i]!, f.process.pid) : ''}</li>`)}</ul>
${f.descriptors.length > PATH_SHOWN ? html`<details><summary>and ${plural(f.descriptors.length - PATH_SHOWN, 'more descriptor')} (their origins in --json)</summary><ul>${f.descriptors.slice(PATH_SHOWN).map((d) => html`<li><code class="path">${terminalText(describeDescriptor(d))}</code></li>`)}</ul></details>` : ''}
<p class="fix"><strong>Fix:</strong> ${f.fix.text}</p>
</details>
`;
}

/** A long list of numbers (2,000 re-execs) by its first ones and its last. */
function numbers(values: readonly number[], separator: string): string {
  return values.length <= 2 * PATH_SHOWN ? values.join(separator) : `${values.slice(0, PATH_SHOWN).join(separator)}${separator}…${separator}${values[values.length - 1]}`;
}

/** The origin lines as the text report says them (the call, its flags, its stack). */
function originMarkup(origin: DescriptorOrigin, holderPid: number): Html {
  return html`<div class="origin"><strong>Origin</strong><pre>${terminalText(originLines(origin, holderPid).join('\n'))}</pre></div>`;
}

function processLink(process: number, pid: number): Html {
  return html`<a class="proc-link" href="#p-${process}">pid ${pid}</a>`;
}

/** Ambient descriptors, protocols' descriptors, what allow rules let through, unverified execs: never blamed, shown apart. */
function writeSetApart(page: PageBody, trace: TraceResult, verdict: GateVerdict | undefined): void {
  const ambient = verdict ? verdict.ambient.map((d) => ({ d, execs: undefined as number | undefined })) : ambientReceived(trace);
  const protocol = verdict ? verdict.protocol.map((g) => ({ g, title: `${PROTOCOL_TITLES[g.protocol]} (${g.variable})` })) : protocolGroups(trace);
  page.section({ id: 'set-apart', title: 'Set apart: not blamed', note: 'Descriptors fdscan itself received (ambient), passed on purpose by a known protocol, or let through by an allow rule; and execs whose table could not be read.' }, () => {
    page.write(html`<h3>Ambient (${ambient.length})</h3>`);
    page.write(ambient.length === 0 ? html`<p class="note">None.</p>` : html`<ul class="ambient">${ambient.map(({ d, execs }) => html`<li><span class="tag">AMBIENT</span> <code class="path">${terminalText(describeDescriptor(d))}</code>${execs !== undefined ? html` <span class="note">received by ${plural(execs, 'exec')}</span>` : ''}</li>`)}</ul>`);
    page.write(html`<h3>Passed by a protocol (${protocol.length})</h3>`);
    page.write(protocol.length === 0 ? html`<p class="note">None.</p>` : html`<ul class="protocol">${protocol.map(({ g, title }) => html`<li><span class="tag">PROTOCOL</span> ${title}: <code class="path">${terminalText(describeDescriptor(g.descriptor))}</code> to ${receiversList(g.receivers)}</li>`)}</ul>`);
    if (verdict) {
      page.write(html`<h3>Allowed (${verdict.allowed.length})</h3>`);
      page.write(verdict.allowed.length === 0 ? html`<p class="note">None.</p>` : html`<ul class="allowed">${verdict.allowed.map((a) => html`<li><span class="tag">ALLOWED</span> by <code>${a.spec}</code>: <code class="path">${terminalText(describeDescriptor(a.descriptor))}</code> to ${receiversList(a.receivers)}</li>`)}</ul>`);
      page.write(html`<h3>Unverified (${verdict.unverified.length})</h3>`);
      page.write(verdict.unverified.length === 0 ? html`<p class="note">None: every exec's table was read.</p>` : html`<ul class="unverified">${verdict.unverified.map((u) => html`<li><span class="tag">UNVERIFIED</span> ${processLink(u.receiver.process, u.receiver.pid)} <code class="argv">${terminalText(shortArgv(u.receiver.argv, 100))}</code>: ${u.reason}</li>`)}</ul>`);
    }
  });
}

function receiversList(receivers: GateReceiver[]): Html {
  const shown = receivers.slice(0, 5).map((r) => html`${processLink(r.process, r.pid)} <code class="argv">${terminalText(shortArgv(r.argv, 60))}</code>`);
  return html`${plural(receivers.length, 'exec')}: ${shown.map((s, i) => html`${i > 0 ? ', ' : ''}${s}`)}${receivers.length > 5 ? ` and ${receivers.length - 5} more` : ''}`;
}

/** inherit-diff: what each protocol passed, grouped by open file. */
function protocolGroups(trace: TraceResult): Array<{ g: ReceivedGroup; title: string }> {
  const groups = new Map<string, { g: ReceivedGroup; title: string }>();
  for (const p of trace.processes) {
    for (const exec of p.execs) {
      for (const pass of exec.protocols ?? []) {
        for (const fd of pass.fds) {
          const d = exec.received.find((r) => r.fd === fd);
          if (!d) continue;
          const key = `${pass.protocol}|${d.firstHolder.process}|${objectKey(d)}`;
          const receiver: GateReceiver = { process: p.id, pid: p.pid, argv: exec.argv, exe: exec.exe, fd, via: d.via };
          const entry = groups.get(key);
          if (entry) entry.g.receivers.push(receiver);
          else groups.set(key, { g: { fd, type: d.type, target: d.target, receivers: [receiver], descriptor: d }, title: `${PROTOCOL_TITLES[pass.protocol]} (${pass.variable})` });
        }
      }
    }
  }
  return [...groups.values()];
}

function protocolOf(exec: ExecRecord, fd: number): string | undefined {
  const pass = exec.protocols?.find((p) => p.fds.includes(fd));
  return pass ? `protocol: ${PROTOCOL_TITLES[pass.protocol]}` : undefined;
}

/** The process tree, one node at a time. */
function writeTree(page: PageBody, trace: TraceResult, marks: Marks, origins: OriginIndex, isGate: boolean): void {
  const children = childrenByParent(trace);
  const openAll = trace.processes.length <= OPEN_ALL;
  // Which nodes are open: every one in a small tree; else the first levels and every ancestor of a node on a finding's path.
  // Only the first nodes of the paths: a leak that reached 5,000 execs must not open 5,000 nodes.
  const openOnPath = new Set<number>();
  for (const id of [...marks.onPath.keys()].slice(0, OPEN_PATH_NODES)) {
    for (let p: number | undefined = id; p !== undefined && !openOnPath.has(p); p = trace.processes[p]?.parent) openOnPath.add(p);
  }
  page.section({ id: 'tree', title: `Process tree (${plural(trace.processes.length, 'process', 'processes')})`, note: 'Each process with its pid, how it ended, and what each of its execs received beyond 0, 1, 2. Search by program, path or pid.' }, () => {
    page.write(html`<div class="tree-tools" hidden><label>Search <input type="search" id="tree-search" placeholder="program, path or pid" autocomplete="off"></label> <span id="tree-count" role="status"></span> <button type="button" id="tree-open">Open all</button> <button type="button" id="tree-close">Close all</button></div>\n<div class="tree">`);
    const originShown = new Set<string>();
    // Iterative depth-first walk: a chain thousands deep must not exhaust the stack.
    type Step = { p: TracedProcess; depth: number } | { close: true };
    const stack: Step[] = [];
    const root = trace.processes[0];
    if (root) stack.push({ p: root, depth: 0 });
    while (stack.length > 0) {
      const step = stack.pop()!;
      if ('close' in step) {
        page.write(html`</div></details>\n`);
        continue;
      }
      const { p, depth } = step;
      const open = openAll || depth < OPEN_DEPTH || openOnPath.has(p.id);
      page.write(processOpening(p, depth, open, trace, marks, origins, originShown, isGate));
      const kids = children.get(p.id) ?? [];
      if (depth < MAX_NEST) {
        // Children inside the node, then the node closed (the stack runs in reverse).
        stack.push({ close: true });
        for (let i = kids.length - 1; i >= 0; i--) stack.push({ p: kids[i]!, depth: depth + 1 });
      } else {
        // Deeper: the node closed now, its children after it, at the same level.
        page.write(html`</div></details>\n`);
        for (let i = kids.length - 1; i >= 0; i--) stack.push({ p: kids[i]!, depth: depth + 1 });
      }
    }
    page.write(html`</div>\n`);
  });
}

/** A process's node up to its children: summary, then its execs and what they received. */
function processOpening(p: TracedProcess, depth: number, open: boolean, trace: TraceResult, marks: Marks, origins: OriginIndex, originShown: Set<string>, isGate: boolean): Html {
  const last = p.execs[p.execs.length - 1];
  const argv = last?.argv ?? [];
  const exit = p.exit?.status === undefined ? 'running or unknown' : `exit ${p.exit.status}${p.exit.signal ? ` (${p.exit.signal})` : ''}`;
  const parent = p.parent === undefined ? undefined : trace.processes[p.parent];
  const how = parent === undefined ? 'started by fdscan' : `${p.createdBy} of pid ${parent.pid}`;
  const extra = p.execs.flatMap((e) => e.received.filter((d) => d.fd >= STDIO));
  const path = marks.onPath.get(p.id) ?? [];
  // What a search looks in: pid, every argv and image, every received target, the marks.
  // Each text once: 2,000 execs of one program holding the same files are not 2,000 copies.
  const search = [...new Set([`pid ${p.pid}`, ...p.execs.flatMap((e) => [quoteArgv(e.argv), escapeText(e.exe)]), ...extra.map((d) => describeDescriptor(d)), ...path])].join('\n').toLowerCase();
  const tags = [
    ...path.map((w) => html`<span class="tag tag-path">${w}</span>`),
    ...fdTag('received', extra.filter((d) => !d.ambient)),
    ...fdTag('ambient', extra.filter((d) => d.ambient)),
    ...(p.execs.some((e) => e.error) ? [html`<span class="tag tag-path">UNREADABLE TABLE</span>`] : []),
    ...(p.ptraceRefused ? [html`<span class="tag tag-path">PTRACE REFUSED (${p.ptraceRefused.request})</span>`] : []),
  ];
  const deep = depth > MAX_NEST ? html` <span class="note">(depth ${depth}, child of pid ${parent?.pid ?? '?'})</span>` : '';
  return html`<details class="proc${path.length > 0 ? ' on-path' : ''}" id="p-${p.id}" data-search="${terminalText(search)}"${open ? html` open` : ''}>
<summary><span class="pid">pid ${p.pid}</span> <code class="argv">${terminalText(argv.length > 0 ? shortArgv(argv, 120) : '(no exec)')}</code> <span class="exit">${exit}</span>${tags}${deep}</summary>
<div class="proc-body"><p class="note">${how}; ${plural(p.execs.length, 'exec')}</p>
${p.execs.map((e) => execMarkup(p, e, trace, marks, origins, originShown, isGate))}`;
}

/** `received 7, 9`: the numbers once each, or nothing. */
function fdTag(word: string, received: TracedDescriptor[]): Html[] {
  const fds = [...new Set(received.map((d) => d.fd))];
  return fds.length === 0 ? [] : [html`<span class="tag">${word} ${fds.join(', ')}</span>`];
}

function execMarkup(p: TracedProcess, exec: ExecRecord, trace: TraceResult, marks: Marks, origins: OriginIndex, originShown: Set<string>, isGate: boolean): Html {
  const beyond = exec.received.filter((d) => d.fd >= STDIO);
  const missing = [0, 1, 2].filter((fd) => !exec.received.some((d) => d.fd === fd));
  return html`<div class="exec"><p><strong>exec</strong> <code class="argv">${terminalText(quoteArgv(exec.argv))}</code> <span class="note">${exec.exe}${exec.sampled ? ' (sampled)' : ''}</span></p>
${exec.error ? html`<p class="error"><strong>UNREADABLE:</strong> ${exec.error}</p>` : ''}${exec.unprivileged ? html`<p class="note">ran without its privilege: ${exec.unprivileged}</p>` : ''}
${beyond.length === 0 ? html`<p class="note">received only 0, 1, 2${missing.length > 0 ? `; ${missing.join(', ')} closed` : ''}</p>` : html`<table class="received"><thead><tr><th>fd</th><th>what</th><th>type</th><th>target</th><th>from</th></tr></thead><tbody>${beyond.slice(0, ROWS_SHOWN).map((d) => receivedRow(p, exec, d, trace, marks, origins, originShown, isGate))}${beyond.length > ROWS_SHOWN ? html`<tr><td colspan="5">and ${plural(beyond.length - ROWS_SHOWN, 'more descriptor')} (fd ${numbers(beyond.slice(ROWS_SHOWN).map((d) => d.fd), ', ')}): --json lists them</td></tr>` : ''}</tbody></table>`}
</div>`;
}

function receivedRow(p: TracedProcess, exec: ExecRecord, d: TracedDescriptor, trace: TraceResult, marks: Marks, origins: OriginIndex, originShown: Set<string>, isGate: boolean): Html {
  const marked = marks.received.get(Marks.key(p.id, exec.argv, d.fd));
  const label = marked?.label ?? (d.ambient ? 'AMBIENT' : protocolOf(exec, d.fd) ?? (isGate ? 'not blamed' : 'PASSED ON'));
  // In a gate page what no rule filed is neither blamed nor highlighted; inherit-diff highlights every `+`.
  const kind = marked?.kind ?? (d.ambient ? 'ambient' : protocolOf(exec, d.fd) ? 'protocol' : isGate ? 'other' : 'extra');
  // The origin once per open file (later receivers say "as above"), for what would be blamed.
  let origin: Html | string = '';
  if (kind === 'finding' || (kind === 'extra' && trace.origins !== undefined)) {
    const key = `${d.firstHolder.process}|${d.firstHolder.fd ?? d.fd}|${objectKey(d)}`;
    if (originShown.has(key)) origin = html`<div class="note">origin as above</div>`;
    else if (trace.origins !== undefined) {
      originShown.add(key);
      origin = originMarkup(origins.at(p.id, d.fd, exec.seq, d.inode), p.pid);
    }
  }
  return html`<tr class="mark-${kind}"><td>${d.fd}</td><td><strong>${label}</strong></td><td>${d.type}</td><td><code class="path">${terminalText(descriptorTarget(d))}</code>${d.error ? html` <span class="note">(${d.error})</span>` : ''}${origin}</td><td class="note">${fromText(d, trace)}</td></tr>`;
}

/** Where a descriptor came from, in words (as inherit-diff's text says it). */
function fromText(d: TracedDescriptor, trace: TraceResult): string {
  const first = d.ambient ? 'ambient: fdscan received it' : `first held by pid ${d.firstHolder.pid}`;
  if (d.via === 'self') return `opened by this process${d.ambient ? `; ${first}` : ''}`;
  if (!d.from) return first;
  const source = d.from.process === undefined ? `fdscan (pid ${trace.tracerPid}) fd ${d.from.fd}` : `pid ${d.from.pid} fd ${d.from.fd}`;
  return `from ${source}${d.from.match === 'identity' ? ' (same file, not confirmed by kcmp)' : ''}; ${first}`;
}
