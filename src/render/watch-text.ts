/** The readable output of `fdscan watch PID`: a line per sample as it is taken, then the summary. */
import type { WatchSample, WatchSummary } from '../watch/watch-process.js';
import { descriptorLine, escapeText, plural } from './text.js';
import { originLines } from './origin-text.js';

/** One sample: the count, what opened and closed since the sample before, an exec. */
export function renderWatchSample(s: WatchSample): string {
  const argv = escapeText(s.argv.join(' '));
  const lines = [`sample ${s.index} +${(s.elapsedMs / 1000).toFixed(1)}s: ${s.count} open${s.index === 0 ? ` (${argv})` : ` (+${s.opened.length} -${s.closed.length})`}${s.exec ? `; exec: ${argv}` : ''}`];
  for (const d of s.opened) {
    lines.push(`  + ${descriptorLine(d)}`);
    // Known at the sample only when the call was seen in time; the summary has the final word.
    if (d.origin && d.origin.unknown === undefined) for (const line of originLines(d.origin, d.origin.pid)) lines.push(`      ${line}`);
  }
  for (const d of s.closed) lines.push(`  - ${descriptorLine(d)}`);
  return `${lines.join('\n')}\n`;
}

/** The summary printed when the watch ends: counts, growth, execs, descriptors that appeared and stayed. */
export function renderWatchSummary(s: WatchSummary): string {
  const why = { count: 'sample count reached', interrupted: 'interrupted', exited: 'the process exited' }[s.ended];
  // The whole series is in the JSON; the line stays short however long the watch ran.
  const counts = s.counts.length === 0 ? 'no sample'
    : `first ${s.counts[0]}, last ${s.counts[s.counts.length - 1]}, min ${Math.min(...s.counts)}, max ${Math.max(...s.counts)}`;
  const lines = [`summary for pid ${s.pid} (${plural(s.samples, 'sample')}, ${why}): ${counts}; growth ${s.growth >= 0 ? '+' : ''}${s.growth}`];
  for (const e of s.execs) lines.push(`  exec at sample ${e.sample}: ${escapeText(e.argv.join(' '))}`);
  if (s.stayed.length > 0) lines.push(`  ${plural(s.stayed.length, 'descriptor')} appeared and stayed:`);
  for (const d of s.stayed) {
    lines.push(`    ${descriptorLine(d)}  (since sample ${d.firstSeen})`);
    if (d.origin) for (const line of originLines(d.origin, s.pid)) lines.push(`        ${line}`);
  }
  return `${lines.join('\n')}\n`;
}
