/**
 * The exposition text itself: label values escaped as the formats say and read back exactly
 * (fast-check, with a parser written from the format's text), content negotiation as Prometheus
 * asks for it, the families of both modes, and promtool's own checks where it is installed.
 */
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import type { MetricsReading } from '../../src/metrics/collect.js';
import { escapeLabelValue, renderExposition, wantsOpenMetrics } from '../../src/metrics/exposition.js';
import { parseExposition, valueOf } from '../helpers/exposition.js';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

function reading(command: string, user = 'root', per: 'pid' | 'command' = 'pid'): MetricsReading {
  const processes = [
    { pid: 42, command, user, open: 45, limits: { soft: 50, hard: 4096 }, inheritable: 20, byType: { REG: 40, SOCK: 5 } },
    { pid: 43, command, user, open: 7, limits: { soft: null, hard: null }, inheritable: 1 },
    { pid: 44, command: 'other', user: '1000', open: 3 },
  ];
  return {
    per, processes, unreadable: 1, skipped: 0, durationSeconds: 0.0123,
    commands: per === 'command' ? [{ command, user, processes: 2, open: 52, inheritable: 21, worstUsage: 0.9, byType: { REG: 40, SOCK: 5 } }] : [],
  };
}

test('label values: backslash, double quote and newline are escaped, nothing else', (t) => {
  t.is(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  t.is(escapeLabelValue('tab\there é \x1b'), 'tab\there é \x1b');
});

test('any command and user name reads back exactly, in both formats', (t) => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-ascii' }), (command, user) => {
    for (const format of ['openmetrics', 'prometheus'] as const) {
      const parsed = parseExposition(renderExposition(reading(command, user), format));
      const sample = parsed.samples.find((s) => s.name === 'fdscan_process_open_fds' && s.labels.pid === '42')!;
      if (sample.labels.command !== command || sample.labels.user !== user) return false;
    }
    return true;
  }), { numRuns: 300 });
  t.pass();
});

test('OpenMetrics ends with # EOF and declares the unit; the 0.0.4 text has neither', (t) => {
  const open = renderExposition(reading('x'), 'openmetrics');
  t.true(open.endsWith('\n# EOF\n'));
  t.true(open.includes('# UNIT fdscan_scrape_duration_seconds seconds\n'));
  const text = renderExposition(reading('x'), 'prometheus');
  t.false(text.includes('# EOF'));
  t.false(text.includes('# UNIT'));
  t.is(text, open.replace('# UNIT fdscan_scrape_duration_seconds seconds\n', '').replace('# EOF\n', ''));
});

test('per process: every family, an unlimited limit as +Inf, unknown values left out', (t) => {
  const parsed = parseExposition(renderExposition(reading('svc'), 'openmetrics'));
  t.true(parsed.eof);
  for (const name of parsed.types.keys()) t.is(parsed.types.get(name), 'gauge');
  t.is(valueOf(parsed, 'fdscan_process_open_fds', { pid: '42', command: 'svc', user: 'root' }), 45);
  t.is(valueOf(parsed, 'fdscan_process_max_fds', { pid: '42' }), 50);
  t.is(valueOf(parsed, 'fdscan_process_max_fds', { pid: '43' }), Infinity);
  t.is(valueOf(parsed, 'fdscan_process_inheritable_fds', { pid: '42' }), 20);
  t.is(valueOf(parsed, 'fdscan_process_open_fds_by_type', { pid: '42', type: 'REG' }), 40);
  t.is(valueOf(parsed, 'fdscan_process_open_fds', { pid: '44', user: '1000' }), 3);
  t.false(parsed.samples.some((s) => s.labels.pid === '44' && s.name !== 'fdscan_process_open_fds'), 'no limit, inheritable or type known for 44');
  t.is(valueOf(parsed, 'fdscan_processes_unreadable'), 1);
  t.is(valueOf(parsed, 'fdscan_processes_skipped'), 0);
  t.is(valueOf(parsed, 'fdscan_scrape_duration_seconds'), 0.0123);
});

test('per command: fdscan_command_* families labelled command and user', (t) => {
  const parsed = parseExposition(renderExposition(reading('svc', 'www', 'command'), 'openmetrics'));
  t.is(valueOf(parsed, 'fdscan_command_processes', { command: 'svc', user: 'www' }), 2);
  t.is(valueOf(parsed, 'fdscan_command_open_fds', { command: 'svc' }), 52);
  t.is(valueOf(parsed, 'fdscan_command_worst_usage_ratio', { command: 'svc' }), 0.9);
  t.is(valueOf(parsed, 'fdscan_command_inheritable_fds', { command: 'svc' }), 21);
  t.is(valueOf(parsed, 'fdscan_command_open_fds_by_type', { command: 'svc', type: 'SOCK' }), 5);
  t.false(parsed.samples.some((s) => s.name.startsWith('fdscan_process_') || 'pid' in s.labels));
});

test('on a terminal every control character of a name is escaped too', (t) => {
  const out = renderExposition(reading('a\x1b]0;x\x07"\\\n'), 'openmetrics', { terminal: true });
  t.false(/[\x00-\x09\x0b-\x1f\x7f]/.test(out));
  t.true(out.includes('command="a\\x1b]0;x\\x07\\"\\\\\\n"'));
});

test('content negotiation: OpenMetrics only when the Accept header prefers it', (t) => {
  // What Prometheus 2.x sends.
  t.true(wantsOpenMetrics('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'));
  t.true(wantsOpenMetrics('application/openmetrics-text; version=1.0.0'));
  t.false(wantsOpenMetrics(undefined));
  t.false(wantsOpenMetrics('*/*'));
  t.false(wantsOpenMetrics('text/plain;version=0.0.4'));
  t.false(wantsOpenMetrics('text/plain,application/openmetrics-text;q=0.5'));
  t.false(wantsOpenMetrics('application/openmetrics-text;q=0'));
});

(hasPromtool ? test : test.skip)(`promtool check metrics accepts both formats of a hostile reading${hasPromtool ? '' : ' (skipped: promtool not installed)'}`, (t) => {
  for (const per of ['pid', 'command'] as const) {
    for (const format of ['openmetrics', 'prometheus'] as const) {
      const text = renderExposition(reading('we"ird\\na\nme\x1b', 'us"er', per), format);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      t.is(check.status, 0, `${per} ${format}: ${check.stdout}${check.stderr}`);
      t.is(`${check.stdout}${check.stderr}`, '', `${per} ${format}: no lint findings`);
    }
  }
});
