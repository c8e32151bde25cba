/**
 * Every error class fdscan throws on purpose crosses a thread as itself: thrown in a real worker
 * thread, posted through serializeError as the tracer thread posts it, rebuilt on this side by
 * deserializeError as the tracer (probes/linux/tracer.ts) rebuilds it, it is of the same class with
 * the same code, message and fields. The classes are found in the sources (each `class X extends`
 * of FdscanError's line, in src/ and probes/): a new class without a sample here fails, and one
 * that did not join the table (crossesThreads) comes back as a plain FdscanError and fails.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  AccessDenied, FdscanError, NoSuchProcess, OsError, ParseError, TimeLimitExceeded, UnsupportedPlatform, UsageError,
  deserializeError, type SerializedError,
} from '../src/errors.js';
import { CommandNotFound } from '../src/trace/trace-command.js';
import { DescriptorLeakError } from '../src/track/track-descriptors.js';
import { ReportFileError } from '../src/files/report-file.js';
import { SpawnFailed } from '../probes/linux/spawn-stopped.js';
import { HandleTableError } from '../probes/win32/handle-table.js';
import { repoRoot } from './helpers/fixture.js';
import type { ThrowRequest } from './helpers/throw-in-worker.js';

type ErrorClass = new (...args: never[]) => Error;

/**
 * One error of each class: the class (imported above: a dynamic import of these next to the
 * workers' start-up met a Node 20 loader error), the dist module that exports it, and constructor
 * arguments that structured clone carries.
 */
const SAMPLES: Record<string, { errorClass: ErrorClass; module: string; args: unknown[]; cause?: string }> = {
  FdscanError: { errorClass: FdscanError, module: 'src/errors.js', args: ['ETRACE_REFUSED', 'ptrace refused (EPERM): cannot trace exactly here'] },
  NoSuchProcess: { errorClass: NoSuchProcess, module: 'src/errors.js', args: [4242] },
  AccessDenied: { errorClass: AccessDenied, module: 'src/errors.js', args: [4242, 'permission denied; root or the process\'s own user (uid 1000) can read it'] },
  OsError: { errorClass: OsError, module: 'src/errors.js', args: ['openat /proc/42/fd', 'EMFILE'], cause: 'EMFILE: too many open files' },
  UnsupportedPlatform: { errorClass: UnsupportedPlatform, module: 'src/errors.js', args: ['aix', 'exec tracer'] },
  ParseError: { errorClass: ParseError, module: 'src/errors.js', args: ['/proc/PID/stat', '"42 (x"'] },
  UsageError: { errorClass: UsageError, module: 'src/errors.js', args: ['traceCommand: argv must be a non-empty array of strings'] },
  TimeLimitExceeded: { errorClass: TimeLimitExceeded, module: 'src/errors.js', args: ['reading pid 42'] },
  CommandNotFound: { errorClass: CommandNotFound, module: 'src/trace/trace-command.js', args: ['no-such-command'] },
  DescriptorLeakError: {
    errorClass: DescriptorLeakError,
    module: 'src/track/track-descriptors.js',
    args: [{ runs: [{ run: 1, leaked: [{ fd: 7, type: 'REG', target: '/tmp/leaked', inheritable: true }] }], leakedPerRun: [1], leaked: true }, 'leaky'],
  },
  ReportFileError: { errorClass: ReportFileError, module: 'src/files/report-file.js', args: ['-o', '/out/report.json', 'a directory'] },
  SpawnFailed: { errorClass: SpawnFailed, module: 'probes/linux/spawn-stopped.js', args: ['posix_spawn: EAGAIN'] },
  HandleTableError: { errorClass: HandleTableError, module: 'probes/win32/handle-table.js', args: ['NtQuerySystemInformation(SystemExtendedHandleInformation)', 0xc0000022] },
};

/** Every .ts source under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** FdscanError and every class that extends it, directly or not, as written in src/ and probes/. */
function fdscanErrorClasses(): string[] {
  const parents = new Map<string, string>();
  for (const file of [...sources(join(repoRoot, 'src')), ...sources(join(repoRoot, 'probes'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+(\w+)/g)) parents.set(m[1]!, m[2]!);
  }
  const lineage = (name: string): boolean => name === 'FdscanError' || (parents.has(name) && lineage(parents.get(name)!));
  return ['FdscanError', ...[...parents.keys()].filter((name) => name !== 'FdscanError' && lineage(name))].sort();
}

/** Throw `new exportName(...args)` in a new worker thread; what it posted. */
function throwInWorker(request: ThrowRequest): Promise<SerializedError> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./helpers/throw-in-worker.js', import.meta.url), { workerData: request });
    worker.once('message', (message: SerializedError) => { resolve(message); void worker.terminate(); });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker ended (code ${code}) without posting`)));
  });
}

test('every FdscanError class of the sources has a sample here', (t) => {
  const found = fdscanErrorClasses();
  t.true(found.length >= 13, found.join(', '));
  t.deepEqual(found, Object.keys(SAMPLES).sort());
});

for (const [name, sample] of Object.entries(SAMPLES)) {
  test(`${name} thrown in a worker thread arrives as ${name}, with its code, message and fields`, async (t) => {
    const moduleUrl = pathToFileURL(join(repoRoot, 'dist', sample.module)).href;
    const errorClass = sample.errorClass as unknown as new (...args: unknown[]) => Error;
    const here = new errorClass(...sample.args) as Error & { code: string };
    const posted = await throwInWorker({ moduleUrl, exportName: name, args: sample.args, cause: sample.cause });
    const back = deserializeError(structuredClone(posted)) as Error & { code: string };
    t.is(back.constructor, errorClass);
    t.true(back instanceof errorClass);
    t.is(back.name, name);
    t.is(back.code, here.code);
    t.is(back.message, here.message);
    // Every field the class sets (pid, call, errno, status, result, ...), as it set it.
    t.deepEqual({ ...back }, { ...here });
    t.true(Object.keys(here).length >= 2, 'name and code at least');
    t.regex(back.stack ?? '', /throw-in-worker\.[jt]s/, 'the stack is the worker\'s, where it was thrown');
    if (sample.cause !== undefined) t.is((back.cause as Error | undefined)?.message, sample.cause);
  });
}

test('a bug in a worker arrives as a plain Error with its message, never as a typed error', async (t) => {
  const posted = await throwInWorker({ moduleUrl: 'node:util', exportName: 'TextDecoder', args: ['no-such-encoding'] });
  const back = deserializeError(structuredClone(posted));
  t.is(back.constructor, Error);
  t.regex(back.message, /no-such-encoding/);
  t.false('code' in back, 'a Node error code (ERR_...) does not make it a typed error');
});
