/** A copy of fdscan installed as npm installs it: bin/ copied, its postinstall run (the `#!/bin/sh` launcher). */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fdscanBin } from './fixture.js';

/** Install into DIR/node_modules/fdscan (dist/ linked to this checkout's); returns the package folder. */
export function installCopy(dir: string): string {
  const installed = join(dir, 'node_modules', 'fdscan');
  mkdirSync(join(installed, 'bin'), { recursive: true });
  for (const name of ['fdscan.js', 'install-launcher.js']) copyFileSync(join(dirname(fdscanBin), name), join(installed, 'bin', name));
  symlinkSync(join(dirname(fdscanBin), '..', 'dist'), join(installed, 'dist'));
  writeFileSync(join(installed, 'package.json'), '{"type":"module"}\n');
  spawnSync(process.execPath, [join(installed, 'bin', 'install-launcher.js')]);
  return installed;
}
