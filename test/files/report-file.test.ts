/**
 * What fdscan writes never damages what was there: a symlink another user planted in a sticky
 * folder is refused (fs.protected_symlinks is off on some machines), a FIFO or device is written
 * into and stays what it was, /dev/stdout stays a link, a name planted at a temporary name is
 * never an internal error. Real files, run as root with a real other user's plants.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { replaceReportFile } from '../../src/files/report-file.js';
import { runCli } from '../helpers/cli.js';
import { fdscanBin } from '../helpers/fixture.js';
import { createOtherUser, otherUserUnavailable, type OtherUser } from '../helpers/other-user.js';
import { withTempDir } from '../helpers/temp-dir.js';

const linux = process.platform === 'linux' ? test.serial : test.serial.skip;
const noOtherUser = otherUserUnavailable();
const asOtherUser = noOtherUser ? test.serial.skip : test.serial;
const asRoot = process.platform === 'linux' && process.getuid?.() === 0 ? test.serial : test.serial.skip;

let user: OtherUser | undefined;
test.before(() => {
  if (!noOtherUser) user = createOtherUser();
});
test.after.always(() => user?.remove());

/** Every command that writes a file, writing to `path`; CMD (where there is one) creates `marker`. */
function writers(path: string, marker: string): Array<{ name: string; args: string[]; code: number }> {
  const cmd = ['--', 'touch', marker];
  return [
    { name: 'gate -o', args: ['gate', '-o', path, ...cmd], code: 0 },
    { name: 'gate --junit', args: ['gate', '--junit', path, ...cmd], code: 0 },
    { name: 'gate --update-baseline', args: ['gate', '--baseline', path, '--update-baseline', ...cmd], code: 0 },
    { name: 'inherit-diff -o', args: ['inherit-diff', '-o', path, ...cmd], code: 0 },
    { name: 'metrics -o', args: ['metrics', String(process.pid), '-o', path], code: 0 },
  ];
}

/** A mode-1777 folder (as /tmp is) inside the other user's reach, and a root-only folder beside it. */
function stickyAndPrivate(dir: string): { shared: string; private: string } {
  const shared = join(user!.home, `shared-${dir.slice(-6)}`);
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  const own = join(dir, 'private');
  mkdirSync(own, { mode: 0o700 });
  return { shared, private: own };
}

function plant(command: string, ...args: string[]): void {
  const made = user!.run(command, args);
  if (made.code !== 0) throw new Error(`${command} ${args.join(' ')} as ${user!.name}: ${made.stderr}`);
}

asOtherUser(`a symlink another user planted in a sticky folder is refused by every writer: one line, exit 2, its target untouched, CMD not run${noOtherUser ? ` (skipped: ${noOtherUser})` : ''}`, (t) => withTempDir('fdscan-report', (dir) => {
  const { shared, private: own } = stickyAndPrivate(dir);
  const victim = join(own, 'victim');
  writeFileSync(victim, 'precious\n');
  const link = join(shared, 'report.txt');
  plant('ln', '-s', victim, link);
  // A link on the way, not only at the end: shared/elsewhere -> the root-only folder.
  plant('ln', '-s', own, join(shared, 'elsewhere'));
  const marker = join(dir, 'ran');
  for (const path of [link, join(shared, 'elsewhere', 'report.txt')]) {
    for (const writer of writers(path, marker)) {
      const result = runCli(writer.args);
      t.is(result.code, 2, `${writer.name} ${path}: ${result.stderr}`);
      t.regex(result.stderr, /^fdscan: cannot write (-o|--junit|--baseline) \S+: \S+ is a symlink owned by uid \d+[^\n]*\n$/, writer.name);
      t.is(readFileSync(victim, 'utf8'), 'precious\n', `${writer.name}: the link's target is untouched`);
      t.false(existsSync(marker), `${writer.name}: CMD was not started`);
    }
  }
  t.deepEqual(readdirSync(own), ['victim'], 'nothing was created through the folder link');
  t.true(lstatSync(link).isSymbolicLink());
  t.deepEqual(readdirSync(shared).sort(), ['elsewhere', 'report.txt'], 'no temporary file is left');
}));

asOtherUser(`in the same sticky folder, root's own symlink is followed: the report lands in its target, the link stays${noOtherUser ? ` (skipped: ${noOtherUser})` : ''}`, (t) => withTempDir('fdscan-report', (dir) => {
  const { shared, private: own } = stickyAndPrivate(dir);
  const target = join(own, 'report');
  const link = join(shared, 'mine');
  symlinkSync(target, link);
  for (const writer of writers(link, join(dir, 'ran'))) {
    writeFileSync(target, 'old\n');
    const result = runCli(writer.args);
    t.is(result.code, writer.code, `${writer.name}: ${result.stderr}`);
    t.not(readFileSync(target, 'utf8'), 'old\n', `${writer.name}: the report replaced the old one`);
    t.true(readFileSync(target, 'utf8').length > 20, writer.name);
    t.is(readlinkSync(link), target, `${writer.name}: the link is still a link to the target`);
  }
}));

asRoot('a FIFO with a reader gets the report and stays a FIFO', async (t) => {
  await withTempDir('fdscan-report', async (dir) => {
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    for (const writer of writers(fifo, join(dir, 'ran'))) {
      const got = join(dir, 'got');
      const reader = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', fifo, got], { stdio: 'ignore' });
      const read = new Promise((resolve) => reader.once('exit', resolve));
      const result = runCli(writer.args, { timeout: 60_000 });
      t.is(result.code, writer.code, `${writer.name}: ${result.stderr}`);
      if (!lstatSync(fifo).isFIFO()) {
        // Replaced: the reader waits on the old FIFO for ever.
        reader.kill();
        t.fail(`${writer.name}: the FIFO was replaced`);
        spawnSync('rm', ['-f', fifo]);
        spawnSync('mkfifo', [fifo]);
        continue;
      }
      t.is(await read, 0);
      const text = readFileSync(got, 'utf8');
      t.regex(text, writer.name.startsWith('metrics') ? /# EOF\n$/ : writer.name.includes('junit') ? /<\/testsuites>\n$/ : /\S/, writer.name);
    }
    t.deepEqual(readdirSync(dir).sort(), ['fifo', 'got', 'ran'], 'no temporary file is left');
  });
});

asRoot('a character device node (mknod c 1 3, a null device) is written into and stays that device', (t) => withTempDir('fdscan-report', (dir) => {
  const device = join(dir, 'null');
  const made = spawnSync('mknod', [device, 'c', '1', '3']);
  if (made.status !== 0) return t.fail(`mknod: ${made.stderr}`);
  const before = lstatSync(device);
  for (const writer of writers(device, join(dir, 'ran'))) {
    const result = runCli(writer.args);
    t.is(result.code, writer.code, `${writer.name}: ${result.stderr}`);
    const after = lstatSync(device);
    t.true(after.isCharacterDevice(), `${writer.name}: still a character device`);
    t.is(after.rdev, before.rdev, writer.name);
    t.is(after.ino, before.ino, `${writer.name}: the same node, not a new one`);
  }
  t.deepEqual(readdirSync(dir).sort(), ['null', 'ran'], 'no temporary file is left');
}));

asOtherUser(`a directory and another user's symlink at the old predictable temporary name are left alone: the file is still replaced${noOtherUser ? ` (skipped: ${noOtherUser})` : ''}`, (t) => withTempDir('fdscan-report', (dir) => {
  const { shared, private: own } = stickyAndPrivate(dir);
  const victim = join(own, 'victim');
  writeFileSync(victim, 'precious\n');
  const target = join(shared, 'fdscan.prom');
  // What the old code used, this process's pid, and what a careless one would: no random part.
  plant('mkdir', join(shared, `.fdscan.prom.${process.pid}.tmp`));
  plant('ln', '-s', victim, join(shared, '.fdscan.prom.tmp'));
  replaceReportFile(target, '-o', 'one 1\n');
  t.is(readFileSync(target, 'utf8'), 'one 1\n');
  t.true(lstatSync(join(shared, `.fdscan.prom.${process.pid}.tmp`)).isDirectory());
  t.is(readFileSync(victim, 'utf8'), 'precious\n');
  t.deepEqual(readdirSync(shared).sort(), ['.fdscan.prom.tmp', `.fdscan.prom.${process.pid}.tmp`, 'fdscan.prom'].sort());
}));

asOtherUser(`a regular file another user owns in a sticky folder is not written into in place; metrics -o replaces it whole${noOtherUser ? ` (skipped: ${noOtherUser})` : ''}`, (t) => withTempDir('fdscan-report', (dir) => {
  const { shared } = stickyAndPrivate(dir);
  const theirs = join(shared, 'report.txt');
  plant('sh', '-c', 'echo theirs > "$1"; chmod 666 "$1"', 'sh', theirs);
  for (const option of ['-o', '--junit']) {
    const result = runCli(['gate', option, theirs, '--', 'true']);
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, /^fdscan: cannot write (-o|--junit) \S+: owned by uid \d+ in a sticky folder[^\n]*\n$/);
    t.is(readFileSync(theirs, 'utf8'), 'theirs\n');
  }
  t.is(runCli(['metrics', String(process.pid), '-o', theirs]).code, 0);
  t.is(lstatSync(theirs).uid, 0, 'a new file of root\'s');
  t.is(lstatSync(theirs).mode & 0o002, 0, 'not world-writable as theirs was: the other user can no longer change it');
  t.regex(readFileSync(theirs, 'utf8'), /# EOF\n$/);
}));

linux('/dev/stdout as -o: the report follows what was written to stdout before it, /dev/stdout stays a link', (t) => withTempDir('fdscan-report', (dir) => {
  const out = join(dir, 'out');
  const bash = (script: string) => spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, NODE: process.execPath, FDSCAN: fdscanBin, NO_COLOR: '1' } });
  const gate = bash(`"$NODE" "$FDSCAN" gate -o /dev/stdout -- echo CMD said this > "${out}"`);
  t.is(gate.status, 0, gate.stderr);
  t.regex(readFileSync(out, 'utf8'), /^CMD said this\nfdscan gate: passed/);
  // A link of fdscan's user to the same descriptor link, and `>>`: appended, nothing cut.
  const own = join(dir, 'stdout');
  symlinkSync('/proc/self/fd/1', own);
  writeFileSync(out, 'kept\n');
  const metrics = bash(`"$NODE" "$FDSCAN" metrics ${process.pid} -o "${own}" >> "${out}"`);
  t.is(metrics.status, 0, metrics.stderr);
  t.regex(readFileSync(out, 'utf8'), /^kept\n# HELP [^]*# EOF\n$/);
  t.true(lstatSync(own).isSymbolicLink(), 'the link was not replaced');
  const piped = bash(`"$NODE" "$FDSCAN" metrics ${process.pid} -o /dev/stdout | cat`);
  t.is(piped.status, 0, piped.stderr);
  t.regex(piped.stdout, /# EOF\n$/);
  t.true(lstatSync('/dev/stdout').isSymbolicLink());
}));

asRoot('metrics -o keeps the replaced file\'s permissions; in-place writes refuse a hard-linked file in a sticky folder', (t) => withTempDir('fdscan-report', (dir) => {
  const prom = join(dir, 'fdscan.prom');
  writeFileSync(prom, 'old\n', { mode: 0o640 });
  chmodSync(prom, 0o640);
  t.is(runCli(['metrics', String(process.pid), '-o', prom]).code, 0);
  t.is(lstatSync(prom).mode & 0o777, 0o640);
  t.regex(readFileSync(prom, 'utf8'), /# EOF\n$/);

  const sticky = join(dir, 'sticky');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  const precious = join(dir, 'precious');
  writeFileSync(precious, 'precious\n');
  // Another user could have made this link where fs.protected_hardlinks is off.
  linkSync(precious, join(sticky, 'report.txt'));
  const result = runCli(['gate', '-o', join(sticky, 'report.txt'), '--', 'true']);
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /^fdscan: cannot write -o \S+: it has 2 hard links in a folder other users may write[^\n]*\n$/);
  t.is(readFileSync(precious, 'utf8'), 'precious\n');
}));
