/**
 * Where the documentation's examples are, as (file, heading) pairs: the first ``` block after the
 * heading line. test/readme-examples.test.ts runs each of these; test/docs.test.ts checks that every
 * other `$ fdscan` block of the docs is marked illustrative.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './fixture.js';

/** A documented example: a file of the repository and the heading line its block follows. */
export interface DocPlace { file: string; heading: string }

/** The examples a test runs, by what they show. */
export const TESTED_EXAMPLES = {
  audit: [{ file: 'docs/audit.md', heading: '## `fdscan [pid...]`: audit' }],
  /** Shell transcripts, run in order in one bash. */
  transcripts: [
    { file: 'README.md', heading: '### Quick start' },
    { file: 'docs/gate.md', heading: "### Passed by protocol: make's jobserver" },
  ],
  watch: [
    { file: 'README.md', heading: '### What a live process opens and keeps' },
    { file: 'docs/watch.md', heading: '## `fdscan watch PID [--interval 1s] [--count N] [--json]`' },
  ],
  metrics: [
    { file: 'README.md', heading: '### Descriptor metrics for Prometheus' },
    { file: 'docs/metrics.md', heading: '## `fdscan metrics [selection] [--by-type] [--per pid|command] [-o FILE]`' },
  ],
  top: [
    { file: 'README.md', heading: '### Which process is about to run out of descriptors' },
    { file: 'docs/top.md', heading: '## `fdscan top [-n N] [--sort usage|count|inheritable] [--interval D] [selection] [--json]`' },
  ],
  inheritDiff: [
    { file: 'README.md', heading: '### Which descriptors each program of a command received' },
    { file: 'docs/inherit-diff.md', heading: '## `fdscan inherit-diff -- CMD [ARGS...]`' },
  ],
} satisfies Record<string, DocPlace[]>;

/** A file of the repository, as text. */
export const docText = (file: string): string => readFileSync(join(repoRoot, file), 'utf8');

/** The first ``` block after the line `heading` of `file`, and the line it starts on (1-based). */
export function blockAfter({ file, heading }: DocPlace): { text: string; line: number } {
  const doc = docText(file);
  const at = doc.indexOf(`\n${heading}\n`);
  if (at === -1) throw new Error(`${file}: no line ${heading}`);
  const match = /\n```\n([\s\S]*?)```\n/.exec(doc.slice(at));
  if (!match) throw new Error(`${file}: no code block after ${heading}`);
  const line = doc.slice(0, at + match.index + 1).split('\n').length + 1;
  return { text: match[1]!, line };
}
