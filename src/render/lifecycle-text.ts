/** The readable report of `fdscan lifecycle -- CMD`: one block per step of the Popen lifecycle. */
import type { Descriptor } from '../probe-kit/contract.js';
import type { LifecycleResult } from '../lifecycle/popen-lifecycle.js';
import { paint, type Style } from './style.js';
import { describeDescriptor, descriptorLine, escapeText } from './text.js';
import { originLines } from './origin-text.js';

function row(sign: string, d: Descriptor): string {
  return `    ${sign} ${descriptorLine(d)}${d.inheritable ? '  (inheritable)' : ''}`;
}

/** The whole report: each step's table diffed against the step before, the child's table, the leaks. */
export function renderLifecycle(result: LifecycleResult, style: Style): string {
  const lines = [paint(style, 'bold', `fdscan lifecycle: ${escapeText(result.command.join(' '))} (fdscan pid ${result.pid}, child pid ${result.childPid ?? '?'})`)];
  result.steps.forEach((step, i) => {
    lines.push(`${paint(style, 'cyan', `${i}. ${step.step}`)}: ${escapeText(step.action)}; ${step.fds.length} open`);
    if (i === 0) for (const d of step.fds) lines.push(row(' ', d));
    else for (const d of step.opened) lines.push(paint(style, 'green', row('+', d)));
    for (const d of step.closed) lines.push(paint(style, 'dim', row('-', d)));
    if (step.step === 'spawn' && result.child) {
      const received = result.child.error ? `(unreadable: ${escapeText(result.child.error)})` : result.child.fds.map((d) => d.fd).join(', ');
      const how = result.child.readAfterStart ? ' (read as soon as it started: the handles it holds that fdscan held inheritable; its standard handles aside)' : '';
      lines.push(`    child pid ${result.childPid} received: ${received || 'nothing'}${how}`);
      for (const d of result.child.fds) {
        const extra = result.childExtra.find((e) => e.fd === d.fd);
        const note = !extra ? '' : extra.fromFdscan ? '  beyond 0, 1, 2: ambient, fdscan received it itself' : '  beyond 0, 1, 2';
        lines.push(`      ${descriptorLine(d)}${paint(style, 'yellow', note)}`);
      }
    }
  });
  if (result.outlived.length === 0) lines.push(paint(style, 'green', 'No leaks: every descriptor closed at the step that should close it.'));
  for (const o of result.outlived) {
    lines.push(paint(style, 'red', `LEAK ${describeDescriptor(o.descriptor)}: opened at ${o.openedAt}, still open after ${o.shouldCloseAt}`));
    if (o.origin) for (const text of originLines(o.origin, o.origin.pid)) lines.push(`    ${text}`);
  }
  return `${lines.join('\n')}\n`;
}
