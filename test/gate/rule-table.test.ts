/**
 * The gate's rules are one table (RECEIPT_RULES) judged by one loop: a rule added to the table is
 * all it takes for what it blames to reach every report, and its place in the table is its
 * precedence. Runs a real traced shell that leaks /etc/hostname at fd 7 into /bin/true.
 */
import test from 'ava';
import { traceCommand, type TraceResult } from '../../src/index.js';
import { judgeTrace, RECEIPT_RULES, type ReceiptRule } from '../../src/gate/gate-analysis.js';
import { parseAllow } from '../../src/gate/allow-list.js';
import { gateDocument, renderGateText, renderGithubAnnotations, renderJunit } from '../../src/render/gate-report.js';

const linux = process.platform === 'linux' ? test : test.skip;
if (process.platform !== 'linux') test.skip('the rule table is shown on a real trace: needs the Linux exec tracer', () => {});

const TARGET = '/etc/hostname';
let trace: TraceResult | undefined;
async function hostnameLeak(): Promise<TraceResult> {
  trace ??= await traceCommand(['sh', '-c', `exec 7<${TARGET}; /bin/true`], { origins: false });
  return trace;
}

/** A rule that blames what it matches as the leak rule does, whatever the rules after it say. */
const denyHostname: ReceiptRule = {
  name: 'deny-hostname',
  doc: `${TARGET} is never let through`,
  counted: true,
  applies: (d) => (d.target === TARGET ? true : undefined),
  file: RECEIPT_RULES.find((r) => r.name === 'leak')!.file,
};

/** The table with `rule` inserted before the rule named `before`. */
function withRule(rule: ReceiptRule, before: string): ReceiptRule[] {
  const at = RECEIPT_RULES.findIndex((r) => r.name === before);
  return [...RECEIPT_RULES.slice(0, at), rule, ...RECEIPT_RULES.slice(at)];
}

test('every rule of the table has a name of its own and a line for the docs; the last one applies to anything', (t) => {
  const names = RECEIPT_RULES.map((r) => r.name);
  t.deepEqual(names, ['stdio', 'ambient', 'protocol', 'allow', 'reexec-kept', 'leak']);
  for (const r of RECEIPT_RULES) t.regex(r.doc, /\w{3,}/, r.name);
});

linux('a rule added to the table ahead of allow blames what allow lets through, in text, JSON, JUnit and annotations', async (t) => {
  const traced = await hostnameLeak();
  const allow = parseAllow([TARGET]);
  const allowed = judgeTrace(traced, allow);
  t.is(allowed.findings.length, 0, 'the allow rule lets it through');
  t.true(allowed.allowed.some((g) => g.target === TARGET && g.fd === 7));

  const verdict = judgeTrace(traced, allow, withRule(denyHostname, 'allow'));
  t.deepEqual(verdict.allowed, []);
  t.is(verdict.findings.length, 1);
  const text = renderGateText(traced, verdict, { color: false });
  t.regex(text, /^fdscan gate: 1 finding/);
  t.regex(text, /leak {2}fd 7 REG \/etc\/hostname\n/);
  const json = gateDocument(traced, verdict) as { passed: boolean; findings: Array<{ kind: string; fd: number; target: string }> };
  t.false(json.passed);
  t.like(json.findings[0], { kind: 'inherited', fd: 7, target: TARGET });
  t.regex(renderJunit(traced, verdict), /<testcase classname="fdscan.gate.inherited" name="fd 7 \/etc\/hostname -&gt; pid \d+">\n\s+<failure /);
  t.regex(renderGithubAnnotations(traced, verdict), /^::error title=fdscan gate::fd 7 REG \/etc\/hostname opened by sh/);
});

linux('a rule\'s place is its precedence: the same rule after allow changes nothing', async (t) => {
  const traced = await hostnameLeak();
  const allow = parseAllow([TARGET]);
  const verdict = judgeTrace(traced, allow, withRule(denyHostname, 'reexec-kept'));
  t.deepEqual(verdict, judgeTrace(traced, allow));
  t.is(verdict.findings.length, 0);
});
