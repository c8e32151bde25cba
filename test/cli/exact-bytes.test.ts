/**
 * A wrapped command gets the bytes fdscan was given: argv and environment values that are not
 * UTF-8 reach CMD unchanged (Node's process.argv and process.env would have turned each invalid
 * byte into U+FFFD), arguments that look like numbers stay as written, and the variables the
 * launching shells set or rewrite (PWD, PPID, IFS, OPTIND) are the caller's. Under run, gate,
 * inherit-diff and lifecycle, started by Node, by `sh bin/fdscan` (the launcher) and as npm
 * installs it. Driven from bash: `$'\xff'` spells the bytes a Node spawn could not pass.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fdscanBin, fixturesDir } from '../helpers/fixture.js';
import { fdscanLauncher, installCopy } from '../helpers/installed-copy.js';
import { withTempDir } from '../helpers/temp-dir.js';

const linux = process.platform === 'linux' ? test : test.skip;
const WRAPPERS = ['run', 'gate', 'inherit-diff', 'lifecycle'] as const;
const DUMP = join(fixturesDir, 'dump-invocation.py');

/** Run a bash script; output as bytes. */
function bash(script: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stderr: string } {
  const result = spawnSync('/bin/bash', ['-c', script], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: result.status, stderr: String(result.stderr) };
}

/** An installed copy's command: npm's link to its launcher. */
function install(dir: string): string {
  return installCopy(join(dir, 'prefix')).bin;
}

/** `NAME=value` entries and arguments in bash's `$'...'` spelling, with the bytes each stands for. */
function word(bytes: Buffer): string {
  return `$'${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'`;
}

/** Arguments: not UTF-8, a lone continuation byte, a truncated sequence, an encoded surrogate, numbers yargs would convert, empty, spaced. */
const GIVEN_ARGS = ['ff2e747874', '80', 'c3', 'eda080', '316533', '30783130', '', '6120622009', '63616678c3a9'].map((hex) => Buffer.from(hex, 'hex'));

/** The dump of CMD: its argv after `python3 DUMP FILE`, and its environment entries. */
function readDump(file: string): { args: Buffer[]; env: Buffer[] } {
  const dump = readFileSync(file);
  const at = dump.indexOf('\n--environ--\n');
  const split = (bytes: Buffer): Buffer[] => {
    const parts: Buffer[] = [];
    for (let start = 0, end = bytes.indexOf(0); end !== -1; start = end + 1, end = bytes.indexOf(0, start)) parts.push(bytes.subarray(start, end));
    return parts;
  };
  return { args: split(dump.subarray(0, at)).slice(3), env: split(dump.subarray(at + '\n--environ--\n'.length)) };
}

const byBytes = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

for (const wrapper of WRAPPERS) {
  for (const start of ['node', 'sh', 'installed'] as const) {
    linux(`${wrapper} (${start}): CMD's argv and environment are the bytes the caller gave, not-UTF-8, shell variables and all`, (t) => withTempDir('fdscan-bytes', (dir) => {
      const out = join(dir, 'dump');
      const sourced = join(dir, 'sourced');
      writeFileSync(join(dir, 'env.sh'), `echo sourced > '${sourced}'\n`);
      const env = [
        `PATH=${dirname(process.execPath)}:/usr/bin:/bin`,
        'V=a\xffb\xfe', `PWD=${dir}/stale\xff`, 'PPID=1', 'IFS=x', 'OPTIND=7', 'PS4=+ traced ', `ENV=${dir}/env.sh`, 'NL=a\nb', 'QUOTE=it\'s "$x"',
      ].map((entry) => Buffer.from(entry, 'latin1'));
      const starter = start === 'node' ? `"${process.execPath}" "${fdscanBin}"` : start === 'sh' ? `sh "${fdscanLauncher}"` : `"${install(dir)}"`;
      const result = bash(`cd /; exec env -i ${env.map(word).join(' ')} ${starter} ${wrapper} -- python3 "${DUMP}" "${out}" ${GIVEN_ARGS.map(word).join(' ')} > /dev/null`);
      t.is(result.code, 0, result.stderr);
      const seen = readDump(out);
      t.deepEqual(seen.args, GIVEN_ARGS);
      // The entries exactly; their order is the starting shell's (dash lists them by hash).
      t.deepEqual([...seen.env].sort(byBytes), [...env].sort(byBytes));
      t.false(existsSync(sourced), '$ENV is never sourced');
    }));
  }
}

for (const start of ['node', 'sh'] as const) {
  linux(`run (${start}) -- cat $'\\xff.txt' prints that file`, (t) => withTempDir('fdscan-bytes', (dir) => {
    writeFileSync(Buffer.from(`${dir}/\xff.txt`, 'latin1'), 'the file named \\xff\n');
    const starter = start === 'node' ? `"${process.execPath}" "${fdscanBin}"` : `sh "${fdscanLauncher}"`;
    const result = spawnSync('/bin/bash', ['-c', `cd "${dir}" && PATH="${dirname(process.execPath)}:$PATH" ${starter} run -- cat $'\\xff.txt'`], { encoding: 'utf8', timeout: 60_000 });
    t.is(result.status, 0, result.stderr);
    t.is(result.stdout, 'the file named \\xff\n');
  }));
}

for (const wrapper of WRAPPERS) {
  linux(`${wrapper} (node): OPTIND=abc in the environment still starts CMD (dash refuses to start with it)`, (t) => withTempDir('fdscan-bytes', (dir) => {
    const out = join(dir, 'dump');
    const result = bash(`exec env OPTIND=abc "${process.execPath}" "${fdscanBin}" ${wrapper} -- python3 "${DUMP}" "${out}" > /dev/null`);
    t.is(result.code, 0, result.stderr);
    t.true(existsSync(out), result.stderr);
  }));
}

for (const wrapper of ['gate', 'inherit-diff'] as const) {
  linux(`${wrapper}: a variable whose name is not UTF-8 does not abort fdscan's tracer thread`, (t) => {
    const result = bash(`exec env $'\\xfeNAME=1' "${process.execPath}" "${fdscanBin}" ${wrapper} -- true`);
    t.is(result.code, 0, result.stderr);
  });
}

linux('serve: a variable whose name is not UTF-8 does not abort its scrape threads', async (t) => {
  const serve = spawn('/bin/bash', ['-c', `exec env $'\\xfeNAME=1' "${process.execPath}" "${fdscanBin}" serve --listen 127.0.0.1:0 ${process.pid}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  try {
    const base = await new Promise<string>((resolve, reject) => {
      serve.stderr!.on('data', (chunk) => {
        stderr += String(chunk);
        const match = /listening on (http:\/\/\S+)\/metrics/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      serve.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
    });
    const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(60_000) });
    t.is(response.status, 200, stderr);
    t.regex(await response.text(), /^fdscan_process_open_fds\{/m);
  } finally {
    serve.kill('SIGKILL');
  }
});

for (const wrapper of WRAPPERS) {
  linux(`${wrapper}: a command whose name is not UTF-8 is found and run, by path and on PATH`, (t) => withTempDir('fdscan-bytes', (dir) => {
    const out = join(dir, 'ran');
    writeFileSync(Buffer.from(`${dir}/\xff.sh`, 'latin1'), `#!/bin/sh\necho "$@" >> '${out}'\n`, { mode: 0o755 });
    const result = bash(`cd "${dir}" && "${process.execPath}" "${fdscanBin}" ${wrapper} -- ./$'\\xff.sh' by-path > /dev/null && PATH="${dir}:$PATH" "${process.execPath}" "${fdscanBin}" ${wrapper} -- $'\\xff.sh' on-path > /dev/null`);
    t.is(result.code, 0, result.stderr);
    t.is(readFileSync(out, 'utf8'), 'by-path\non-path\n');
  }));
}

linux('run (node), everything UTF-8: CMD\'s environment is the caller\'s byte for byte, in order, names no shell takes and OPTIND=abc kept', (t) => withTempDir('fdscan-bytes', (dir) => {
  const out = join(dir, 'dump');
  const env = ['Z=1', 'A-B=2', 'OPTIND=abc', 'com.example.name=3', `PATH=${dirname(process.execPath)}:/usr/bin:/bin`, 'B=4'].map((entry) => Buffer.from(entry));
  const result = bash(`exec env -i ${env.map(word).join(' ')} "${process.execPath}" "${fdscanBin}" run -- python3 "${DUMP}" "${out}" > /dev/null`);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(readDump(out).env, env);
}));

for (const wrapper of ['run', 'gate'] as const) {
  linux(`${wrapper} (sh): an environment too big for the launcher's record still gets the caller's PWD`, (t) => withTempDir('fdscan-bytes', (dir) => {
    const out = join(dir, 'dump');
    // 50 KB: as od prints it (3 characters a byte) over the kernel's 128 KiB for one variable.
    const env = [`PATH=${dirname(process.execPath)}:/usr/bin:/bin`, `BIG=${'x'.repeat(50_000)}`, 'PWD=/etc'].map((entry) => Buffer.from(entry));
    // BIG made by bash: spelt out it would make the script itself too long an argument.
    const result = bash(`cd "${dir}" && exec env -i ${word(env[0]!)} "BIG=$(printf '%50000s' '' | tr ' ' x)" ${word(env[2]!)} sh "${fdscanLauncher}" ${wrapper} -- python3 "${DUMP}" "${out}" > /dev/null`);
    t.is(result.code, 0, result.stderr);
    t.deepEqual([...readDump(out).env].sort(byBytes), [...env].sort(byBytes));
  }));
}
