/** A real terminal for tests: a detached tmux pane of a given width, and what it shows. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** Why tests in a tmux pane cannot run here, or undefined when they can. */
export const tmuxMissing = process.platform !== 'linux' ? 'Linux only' : spawnSync('tmux', ['-V']).status === 0 ? undefined : 'tmux is not installed (.ci/run installs it)';

const DONE = '__fdscan_done__';

/**
 * Run `command` in a detached tmux pane `width` columns wide; what the pane shows once it is done
 * (capture-pane -e: with its colours; -J: wrapped lines joined, so an overflowing line shows as one
 * longer than the pane).
 */
export async function inPane(width: number, command: string): Promise<string> {
  const socket = `fdscan-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  try {
    const started = tmux('new-session', '-d', '-x', String(width), '-y', '150', '-s', 'audit', `${command}; printf '\\n${DONE}\\n'; sleep 120`);
    if (started.status !== 0) throw new Error(`tmux new-session: ${started.stderr}`);
    for (let waited = 0; waited < 60_000; waited += 200) {
      const shown = tmux('capture-pane', '-p', '-e', '-J', '-t', 'audit');
      if (shown.stdout.includes(DONE)) return shown.stdout.slice(0, shown.stdout.indexOf(DONE));
      await sleep(200);
    }
    throw new Error(`fdscan did not finish in the pane: ${tmux('capture-pane', '-p', '-t', 'audit').stdout}`);
  } finally {
    tmux('kill-server');
  }
}
