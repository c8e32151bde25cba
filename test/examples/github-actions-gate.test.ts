/**
 * examples/github-actions-gate.yml does what it says, its steps run here as GitHub Actions runs
 * them (`bash -e -c`, in the project's folder, GITHUB_ACTIONS=true, RUNNER_TEMP): on a small Node
 * project whose tests leak a log file to /bin/true, the baseline command of its header records
 * that leak; the gate step then passes with an empty JUnit report, and fails with one annotation
 * and one failing testcase once the tests leak a second file. The upload step uploads the file the
 * gate step writes, also when the gate failed. The install step (a clone, `npm ci`, `npm pack`,
 * `npm install -g`) needs the npm registry: it runs with FDSCAN_NETWORK_TESTS=1, on a clone of
 * this checkout's last commit; otherwise fdscan comes from this checkout.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fdscanBin, repoRoot } from '../helpers/fixture.js';
import { withTempDir } from '../helpers/temp-dir.js';

const WORKFLOW = join(repoRoot, 'examples', 'github-actions-gate.yml');
const onLinux = process.platform === 'linux';
const linux = onLinux ? test.serial : test.skip;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with: Record<string, string>;
}

/**
 * The steps of the workflow's one job. Not a YAML parser: the example keeps each step to
 * `key: value` lines (a `run:` on one line) and one nested `with:` map, and this reads that form
 * (anything else in a step fails the test, so the file cannot drift from what is run here).
 */
function workflowSteps(text: string): Step[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^ {4}steps:$/.test(line));
  const steps: Step[] = [];
  let inWith = false;
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || /^\s*#/.test(line)) continue;
    const item = /^ {6}- (\w[\w-]*): (.*)$/.exec(line);
    const key = /^ {8}(\w[\w-]*):(?: (.*))?$/.exec(line);
    const nested = /^ {10}(\w[\w-]*): (.*)$/.exec(line);
    if (item) {
      steps.push({ with: {} });
      inWith = false;
      (steps.at(-1) as unknown as Record<string, string>)[item[1]!] = item[2]!;
    } else if (key && key[1] === 'with' && key[2] === undefined) {
      inWith = true;
    } else if (key && key[2] !== undefined) {
      inWith = false;
      (steps.at(-1) as unknown as Record<string, string>)[key[1]!] = key[2];
    } else if (nested && inWith) {
      steps.at(-1)!.with[nested[1]!] = nested[2]!;
    } else {
      throw new Error(`examples/github-actions-gate.yml: a line this test does not read: ${JSON.stringify(line)}`);
    }
  }
  return steps;
}

const text = readFileSync(WORKFLOW, 'utf8');
const steps = workflowSteps(text);
const step = (name: string): Step => {
  const found = steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step named ${name}`);
  return found;
};
/** The header's one-time baseline command. */
const baselineCommand = /^#\s+(fdscan gate .*--update-baseline.*)$/m.exec(text)?.[1];

/** Run one step's command as Actions does, in `cwd`; stdout and stderr. */
function runStep(command: string, cwd: string, env: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', command], { cwd, env, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A Node project with no dependencies whose `npm test` leaks each file named in leaks.txt to /bin/true (as fd 3). */
function leakyProject(dir: string): void {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'leaky-app', version: '1.0.0', private: true, scripts: { test: 'node test.js' } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({
    name: 'leaky-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'leaky-app', version: '1.0.0' } },
  }));
  writeFileSync(join(dir, 'test.js'), [
    "const { spawnSync } = require('node:child_process');",
    "const { openSync, readFileSync } = require('node:fs');",
    "for (const name of readFileSync('leaks.txt', 'utf8').split('\\n').filter(Boolean)) {",
    "  spawnSync('/bin/true', { stdio: ['inherit', 'inherit', 'inherit', openSync(name, 'a')] });",
    '}',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'leaks.txt'), 'app.log\n');
}

test('the example is a workflow of the expected steps: checkout, Node, install fdscan, the project, the gate, the upload', (t) => {
  t.regex(text, /^on: \[push, pull_request\]$/m);
  t.deepEqual(steps.map((s) => s.name ?? s.uses), [
    'actions/checkout@v4', 'actions/setup-node@v4', 'Install fdscan', 'Install the project', 'Tests under the gate', 'Upload the gate\'s JUnit report',
  ]);
  t.truthy(baselineCommand);
  const gate = step('Tests under the gate').run!;
  const upload = step('Upload the gate\'s JUnit report');
  t.is(upload.uses, 'actions/upload-artifact@v4');
  t.is(upload.if, 'always()', 'the report is uploaded when the gate fails too');
  t.is(upload.with.path, /--junit (\S+)/.exec(gate)?.[1], 'it uploads the file the gate writes');
  t.is(/--baseline (\S+)/.exec(gate)?.[1], /--baseline (\S+)/.exec(baselineCommand!)?.[1], 'the gate reads the baseline the header makes');
});

linux('its steps run locally: the baseline records the old leak, the gate passes on it and fails on a new one with an annotation and a JUnit failure', (t) => {
  withTempDir('fdscan-actions', (dir) => {
    const project = join(dir, 'project');
    const bin = join(dir, 'bin');
    mkdirSync(project);
    mkdirSync(bin);
    leakyProject(project);
    // What the install step provides: fdscan on PATH (from this checkout here), npm's link to the launcher.
    symlinkSync(join(repoRoot, 'bin', 'fdscan'), join(bin, 'fdscan'));
    const env: NodeJS.ProcessEnv = {
      ...process.env, PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: dir, CI: 'true', NO_COLOR: '1',
      // The project has no dependencies: npm ci needs no registry.
      npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false',
    };
    const made = runStep(baselineCommand!, project, env);
    t.is(made.code, 0, made.stderr);
    const baseline = JSON.parse(readFileSync(join(project, 'fdscan-baseline.json'), 'utf8')) as { entries: Array<{ descriptor: string }> };
    t.is(baseline.entries.length, 1);
    t.regex(baseline.entries[0]!.descriptor, /^REG \/\S*\/project\/app\.log$/);

    const installed = runStep(step('Install the project').run!, project, { ...env, GITHUB_ACTIONS: 'true' });
    t.is(installed.code, 0, installed.stderr);
    const gate = step('Tests under the gate').run!;
    const junit = join(project, step('Upload the gate\'s JUnit report').with.path!);

    const passed = runStep(gate, project, { ...env, GITHUB_ACTIONS: 'true' });
    t.is(passed.code, 0, passed.stderr);
    t.notRegex(passed.stderr, /^::error/m);
    t.regex(readFileSync(junit, 'utf8'), /failures="0"/);

    appendFileSync(join(project, 'leaks.txt'), 'other.log\n');
    const failed = runStep(gate, project, { ...env, GITHUB_ACTIONS: 'true' });
    t.is(failed.code, 1, failed.stderr);
    const annotations = failed.stderr.split('\n').filter((line) => line.startsWith('::error'));
    t.is(annotations.length, 1, failed.stderr);
    t.regex(annotations[0]!, /^::error title=fdscan gate::.*\/other\.log/);
    const report = readFileSync(junit, 'utf8');
    t.regex(report, /failures="1"/);
    t.regex(report, /<failure [^>]*other\.log/);
    t.notRegex(report, /<failure [^>]*app\.log/);
  });
});

const network = process.env.FDSCAN_NETWORK_TESTS === '1';
(onLinux && network ? test.serial : test.skip)(`the install step builds fdscan's package from a clone and puts fdscan on PATH, started by its POSIX launcher${network ? '' : ' (skipped: needs the npm registry; FDSCAN_NETWORK_TESTS=1 runs it)'}`, (t) => {
  withTempDir('fdscan-actions-install', (dir) => {
    const prefix = join(dir, 'global');
    // npm's global folder in the temp folder, as a runner's would be on PATH.
    const env: NodeJS.ProcessEnv = { ...process.env, RUNNER_TEMP: dir, FDSCAN_REPOSITORY: repoRoot, npm_config_prefix: prefix, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const install = runStep(step('Install fdscan').run!, dir, env);
    t.is(install.code, 0, install.stderr.slice(-3000));
    const installedBin = join(prefix, 'lib', 'node_modules', 'fdscan', 'bin', 'fdscan');
    t.true(existsSync(installedBin));
    t.true(readFileSync(installedBin, 'utf8').startsWith('#!/usr/bin/env sh\n'), 'the launcher line');
    const version = runStep('fdscan --version', dir, env);
    t.is(version.stdout.trim(), (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
  });
});
