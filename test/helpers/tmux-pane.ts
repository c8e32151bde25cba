/**
 * A real terminal for tests: a detached tmux pane of a given width and what it shows (inPane), or
 * a tmux server of its own running an interactive bash (a shell with job control, as a user's), into
 * which a test types command lines and keys and whose screen it reads (Pane).
 */
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

/** The prompt of the pane's shell. */
export const PROMPT = 'PROMPT> ';

const WAIT_MS = 30_000;

/** One tmux pane with an interactive bash; close() it in a finally. */
export class Pane {
  private readonly socket = `fdscan-test-${process.pid}-${randomBytes(3).toString('hex')}`;

  /** Start bash in a pane `width` x `height`, in folder `cwd`, and wait for its prompt. */
  static async open(cwd: string, width = 100, height = 30): Promise<Pane> {
    const pane = new Pane();
    const started = pane.tmux('new-session', '-d', '-x', String(width), '-y', String(height), '-s', 'test', '-c', cwd,
      `env PS1='${PROMPT}' TERM=screen bash --norc --noprofile -i`);
    if (started.status !== 0) throw new Error(`tmux new-session: ${started.stderr}`);
    await pane.waitFor(new RegExp(`^${PROMPT}$`, 'm'), 'the first prompt');
    return pane;
  }

  /** Type `line` and Enter. */
  type(line: string): void {
    this.tmux('send-keys', '-t', 'test', '-l', line);
    this.tmux('send-keys', '-t', 'test', 'Enter');
  }

  /** Press keys by tmux name: C-c, C-z, q, Escape. */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'test', ...keys);
  }

  /** Resize the pane's window (the terminal sends SIGWINCH to its foreground process group). */
  resize(width: number, height: number): void {
    const resized = this.tmux('resize-window', '-t', 'test', '-x', String(width), '-y', String(height));
    if (resized.status !== 0) throw new Error(`tmux resize-window: ${resized.stderr}`);
  }

  /** What the pane shows now, without trailing blank lines. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', 'test').stdout.replace(/\n+$/, '');
  }

  /** Wait until the screen matches `pattern`; returns the screen, or fails naming `what` with the screen. */
  async waitFor(pattern: RegExp, what: string): Promise<string> {
    for (let waited = 0; waited < WAIT_MS; waited += 100) {
      const shown = this.screen();
      if (pattern.test(shown)) return shown;
      await sleep(100);
    }
    throw new Error(`the pane never showed ${what}:\n${this.screen()}`);
  }

  /** The pid of the pane's shell. */
  shellPid(): number {
    return Number(this.tmux('display-message', '-p', '-t', 'test', '#{pane_pid}').stdout.trim());
  }

  close(): void {
    this.tmux('kill-server');
  }

  private tmux(...args: string[]) {
    return spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }
}
