/**
 * Capabilities by name (probes/linux/capabilities.ts): each one fdscan checks is read from the
 * right bit, seen by dropping it from a child's bounding set (setpriv) and finding it gone there
 * while the other stays as it was.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CAPABILITIES } from '../../../probes/linux/capabilities.js';
import { repoRoot } from '../../helpers/fixture.js';

const moduleUrl = pathToFileURL(join(repoRoot, 'dist', 'probes', 'linux', 'capabilities.js')).href;
const root = process.platform === 'linux' && process.getuid?.() === 0;
const asRoot = root ? test : test.skip;

/** hasCapability of every name, in a node started through `wrapper` (setpriv and its options). */
function capabilitiesIn(wrapper: string[]): Record<string, boolean[]> {
  const script = `
    const { CAPABILITIES, hasCapability } = await import(${JSON.stringify(moduleUrl)});
    console.log(JSON.stringify(Object.fromEntries(Object.keys(CAPABILITIES).map((n) => [n, [hasCapability(n), hasCapability(n, 'self')]]))));
  `;
  const [command, ...args] = [...wrapper, process.execPath, '--input-type=module', '-e', script];
  const result = spawnSync(command!, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, boolean[]>;
}

asRoot('each capability is read from its own bit: dropped, it is gone and the others stay (as root, with setpriv)', (t) => {
  const before = capabilitiesIn([]);
  t.deepEqual(Object.keys(before).sort(), Object.keys(CAPABILITIES).sort());
  for (const name of Object.keys(CAPABILITIES)) {
    const short = name.replace(/^CAP_/, '').toLowerCase();
    const after = capabilitiesIn(['setpriv', `--inh-caps=-${short}`, `--bounding-set=-${short}`]);
    for (const other of Object.keys(CAPABILITIES)) {
      t.deepEqual(after[other], other === name ? [false, false] : before[other], `${other} with ${name} dropped`);
    }
  }
});
