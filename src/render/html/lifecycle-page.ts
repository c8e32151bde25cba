/**
 * The page of `fdscan lifecycle --html FILE -- CMD`: the verdict on top, the two processes (fdscan
 * and the child it spawned, with what the child received beyond 0, 1, 2), each leak (a descriptor
 * that outlived the step that should have closed it) with its origin, and fdscan's own table after
 * each step: what opened, what closed.
 */
import type { Descriptor } from '../../probe-contract.js';
import type { LifecycleResult } from '../../lifecycle/popen-lifecycle.js';
import { describeDescriptor, descriptorTarget, plural, quoteArgv } from '../text.js';
import { originLines } from '../origin-text.js';
import { html, terminalText, type Html, type PageFile, type PageVerdict } from './page.js';
import { TREE_STYLE } from './tree-client.js';

/** Write the page of `result` into `file`. */
export function writeLifecyclePage(file: PageFile, result: LifecycleResult, exitStatus: number): void {
  const command = result.command.join(' ');
  const facts = [
    html`command: <code class="argv">${terminalText(quoteArgv(result.command))}</code>`,
    `fdscan pid ${result.pid}, child pid ${result.childPid ?? '?'}; ${plural(result.steps.length, 'step')}; child exit status ${result.exitCode}${result.interrupted ? `; interrupted by ${result.interrupted}` : ''}`,
  ];
  file.write({ title: `fdscan lifecycle: ${command.length > 80 ? `${command.slice(0, 79)}…` : command}`, verdict: verdictOf(result, exitStatus), facts, styles: [TREE_STYLE] }, (page) => {
    page.section({ id: 'findings', title: `Leaks (${result.outlived.length})`, note: 'A descriptor still open after the step that should have closed it.' }, () => {
      if (result.outlived.length === 0) page.write(html`<p class="note">None: every descriptor closed at the step that should close it.</p>`);
      result.outlived.forEach((o, i) => page.write(html`<details class="finding" id="finding-${i + 1}" open>
<summary><span class="finding-label">LEAK ${i + 1}</span> <code class="path">${terminalText(describeDescriptor(o.descriptor))}</code>: opened at ${o.openedAt}, still open after ${o.shouldCloseAt}</summary>
<div class="origin"><strong>Origin</strong><pre>${terminalText(originLines(o.origin, o.origin.pid).join('\n'))}</pre></div>
</details>
`));
    });
    page.section({ id: 'tree', title: 'Processes', note: 'fdscan, and the child it spawned with piped stdio.' }, () => {
      const child = result.child;
      const extra = new Map(result.childExtra.map((d) => [d.fd, d]));
      const rows = (child?.fds ?? []).filter((d) => d.fd >= 3).map((d) => {
        const e = extra.get(d.fd);
        const label = e?.fromFdscan ? 'AMBIENT' : 'RECEIVED';
        return html`<tr class="mark-${e?.fromFdscan ? 'ambient' : 'finding'}"><td>${d.fd}</td><td><strong>${label}</strong></td><td>${d.type}</td><td><code class="path">${terminalText(descriptorTarget(d))}</code>${e?.origin ? html`<div class="origin"><pre>${terminalText(originLines(e.origin, e.origin.pid).join('\n'))}</pre></div>` : ''}</td></tr>`;
      });
      page.write(html`<div class="tree"><details class="proc" id="p-0" open><summary><span class="pid">pid ${result.pid}</span> <code class="argv">fdscan lifecycle</code> <span class="exit">(this run)</span></summary>
<div class="proc-body"><p class="note">${plural(result.steps[result.steps.length - 1]?.fds.length ?? 0, 'descriptor')} open after the last step</p>
<details class="proc${result.outlived.length > 0 ? ' on-path' : ''}" id="p-1" open><summary><span class="pid">pid ${result.childPid ?? '?'}</span> <code class="argv">${terminalText(quoteArgv(result.command))}</code> <span class="exit">exit ${result.exitCode}</span>${rows.length > 0 ? html`<span class="tag${result.childExtra.some((d) => !d.fromFdscan) ? ' tag-path' : ''}">received ${rows.length} beyond 0, 1, 2</span>` : ''}</summary>
<div class="proc-body">${child?.error ? html`<p class="error"><strong>UNREADABLE:</strong> ${child.error}</p>` : ''}${child?.readAfterStart ? html`<p class="note">read as soon as it started: the handles it holds that fdscan held inheritable</p>` : ''}
${rows.length === 0 ? html`<p class="note">received only 0, 1, 2</p>` : html`<table class="received"><thead><tr><th>fd</th><th>what</th><th>type</th><th>target</th></tr></thead><tbody>${rows}</tbody></table>`}
</div></details></div></details></div>
`);
    });
    page.section({ id: 'steps', title: 'Steps', note: "fdscan's own table after each step, against the step before." }, () => {
      page.write(html`<table class="steps"><thead><tr><th>step</th><th>what it did</th><th>open</th><th>opened</th><th>closed</th></tr></thead><tbody>${result.steps.map((s, i) => html`<tr><td>${i}. ${s.step}</td><td>${s.action}</td><td>${s.fds.length}</td><td>${list(i === 0 ? s.fds : s.opened)}</td><td>${list(s.closed)}</td></tr>`)}</tbody></table>`);
    });
  });
}

function list(fds: Descriptor[]): Html {
  return html`${fds.map((d) => html`<div><code class="path">${terminalText(describeDescriptor(d))}</code>${d.inheritable ? html` <span class="tag">INHERITABLE</span>` : ''}</div>`)}`;
}

function verdictOf(result: LifecycleResult, exitStatus: number): PageVerdict {
  if (result.interrupted) return { status: 'error', label: 'INTERRUPTED', text: `stopped by ${result.interrupted}; exit status ${exitStatus}` };
  if (result.outlived.length > 0) return { status: 'fail', text: `${plural(result.outlived.length, 'descriptor')} outlived the step that should have closed it; exit status ${exitStatus}` };
  return { status: exitStatus === 0 ? 'pass' : 'error', text: `every descriptor closed at the step that should close it; exit status ${exitStatus}` };
}
