/** The readable report of `fdscan inherit-diff PARENT_PID CHILD_PID`. */
import type { PairDiff } from '../trace/pair-diff.js';
import { paint, type Style } from './style.js';
import { descriptorLine, escapeText } from './text.js';

/** The child's descriptors shared with the parent (and how that is known), then its own. */
export function renderInheritPair(diff: PairDiff, style: Style): string {
  const lines = [paint(style, 'bold', `Descriptors of pid ${diff.child} shared with pid ${diff.parent}: ${diff.shared.length}; not the parent's: ${diff.childOnly.length}`)];
  for (const warning of diff.warnings) lines.push(`warning: ${escapeText(warning)}`);
  for (const d of diff.shared) {
    const how = d.match === 'kcmp' ? 'same open file description (kcmp)' : 'same file, a guess (no kcmp)';
    lines.push(`  ${descriptorLine(d)}  <- parent fd ${d.parentFd}, ${how}${d.inheritable === false ? ', close-on-exec now' : ''}`);
  }
  for (const d of diff.childOnly) lines.push(`  ${descriptorLine(d)}  (not the parent's)`);
  return `${lines.join('\n')}\n`;
}
