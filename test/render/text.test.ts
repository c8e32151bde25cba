/** The one text door: escapes that read back to exactly one string, quoting a shell reads back, XML and annotations that hold. */
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { SaxesParser } from 'saxes';
import { describeDescriptor, descriptorTarget, escapeBytes, escapeText, githubCommand, quoteArgv, xmlText } from '../../src/render/text.js';

/** What may never reach a terminal raw: C0 (newline included: inside a name it is data), DEL, C1, lone surrogates, U+FFFD. */
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd-\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The reader of escapeText's output, written from its documentation: a second, independent decoder. */
function unescapeText(text: string): string {
  return text.replace(/\\(\\|n|t|x[0-9a-f]{2}|u[0-9a-f]{4})/g, (_, e: string) =>
    e === '\\' ? '\\' : e === 'n' ? '\n' : e === 't' ? '\t' : String.fromCharCode(parseInt(e.slice(1), 16)));
}

/** The reader of escapeBytes's output: `\xNN` is a raw byte, the rest is escapeText's. */
function unescapeBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(/\\(\\|n|t|x[0-9a-f]{2}|u[0-9a-f]{4})/g)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'));
    const e = m[1]!;
    parts.push(e.startsWith('x') ? Buffer.from([parseInt(e.slice(1), 16)]) : Buffer.from(unescapeText(m[0]), 'utf8'));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

test('escapeText on recorded names', (t) => {
  const cases: Array<[string, string]> = [
    ['/var/log/app.log', '/var/log/app.log'],
    ['ünïcødé ✓ 😀', 'ünïcødé ✓ 😀'],
    ['osc \u001b]0;X\u0007 title', 'osc \\x1b]0;X\\x07 title'],
    ['clear \u001b[2J', 'clear \\x1b[2J'],
    ['line\nbreak\ttab\rcr', 'line\\nbreak\\ttab\\x0dcr'],
    ['\n::warning file=x::injected', '\\n::warning file=x::injected'],
    ['nul \u0000 del \u007f', 'nul \\x00 del \\x7f'],
    ['c1 \u0085 \u009b31m', 'c1 \\u0085 \\u009b31m'],
    ['back\\nslash', 'back\\\\nslash'],
    ['lossy \ufffd\ufffd', 'lossy \\ufffd\\ufffd'],
    ['lone \ud800 and \udc00', 'lone \\ud800 and \\udc00'],
    ['bidi \u202e rlo \u2066 \u2028', 'bidi \\u202e rlo \\u2066 \\u2028'],
    ['not xml \uffff', 'not xml \\uffff'],
  ];
  for (const [input, expected] of cases) t.is(escapeText(input), expected, JSON.stringify(input));
});

test('escapeText: nothing raw comes out, and the escape reads back to exactly the input', (t) => {
  const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: fc.constantFrom('\\', 'n', 'x', '1', 'b', '\n', '\u001b', '\u0085', '\ud800', '\udc00', 'é'), maxLength: 30 }));
  fc.assert(fc.property(text, (s) => {
    const shown = escapeText(s);
    return !RAW.test(shown) && unescapeText(shown) === s;
  }), { numRuns: 2000 });
  t.pass();
});

test('escapeBytes: invalid UTF-8 bytes as \\xNN exactly, valid text as escapeText shows it', (t) => {
  const bytes = Buffer.concat([Buffer.from('/tmp/a '), Buffer.from([0xff, 0xfe]), Buffer.from(' é\n'),
    Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from('😀'), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from([0xc2, 0x85])]);
  t.is(escapeBytes(bytes), '/tmp/a \\xff\\xfe é\\n\\xed\\xa0\\x80\\xc0\\xaf😀\\xf0\\x9f\\x98\\u0085');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (raw) => {
    const shown = escapeBytes(raw);
    return !RAW.test(shown) && unescapeBytes(shown).equals(Buffer.from(raw));
  }), { numRuns: 2000 });
});

test('descriptorTarget shows a non-UTF-8 path from its raw bytes, like lsof', (t) => {
  const raw = Buffer.from([...Buffer.from('/tmp/latin1 '), 0xe9, 0x74, 0xe9, 0x0a]);
  const row = { fd: 3, type: 'REG', target: raw.toString('utf8'), targetBytes: raw.toString('base64') };
  t.is(descriptorTarget(row), '/tmp/latin1 \\xe9t\\xe9\\n');
  t.is(describeDescriptor(row), 'fd 3 REG /tmp/latin1 \\xe9t\\xe9\\n');
  // A memfd's target drops the link's leading "/": the bytes of what is shown.
  const memfd = Buffer.from([...Buffer.from('/memfd:x'), 0xff]);
  t.is(descriptorTarget({ target: memfd.subarray(1).toString('utf8'), targetBytes: memfd.toString('base64') }), 'memfd:x\\xff');
  t.is(descriptorTarget({ target: 'tab\there' }), 'tab\\there');
});

test('quoteArgv on recorded command lines', (t) => {
  const cases: Array<[string[], string]> = [
    [['sh', '-c', '/bin/true'], 'sh -c /bin/true'],
    [['python3', 'app.py', 'a b', ''], "python3 app.py 'a b' ''"],
    [["it's"], `'it'\\''s'`],
    [['C:\\Users\\x'], "'C:\\Users\\x'"],
    [['a\nb'], "$'a\\nb'"],
    [["\u001b]0;X\u0007", "x'\u0001\\"], "$'\\x1b]0;X\\x07' $'x\\'\\x01\\\\'"],
    [['\n::warning::argv', '\u009b'], "$'\\n::warning::argv' $'\\u009b'"],
  ];
  for (const [argv, expected] of cases) t.is(quoteArgv(argv), expected, JSON.stringify(argv));
});

const bash = spawnSync('bash', ['-c', 'true']).status === 0 ? test : test.skip;

bash('quoteArgv: bash reads every quoted command line back to exactly the argv', (t) => {
  // No NUL (argv cannot hold one) and no lone surrogate (not encodable in UTF-8 to pass to bash).
  const char = fc.oneof(fc.constantFrom('\n', '\t', '\r', '\u0001', '\u001b', '\u007f', '\u0085', '\u009b', '\'', '"', '\\', '$', '`', ' ', '!', '*', '\ufffd', 'é', '😀'),
    fc.string({ minLength: 1, maxLength: 1 }).filter((c) => c !== '\u0000'));
  const argv = fc.array(fc.array(char, { maxLength: 8 }).map((cs) => cs.join('')), { minLength: 1, maxLength: 5 });
  fc.assert(fc.property(argv, (args) => {
    const quoted = quoteArgv(args);
    if (RAW.test(quoted.replace(/\ufffd/g, ''))) return false;
    const printed = spawnSync('bash', ['-c', `printf '%s\\0' ${quoted}`], { env: { ...process.env, LC_ALL: 'C.UTF-8' } }).stdout;
    return printed.equals(Buffer.from(args.map((a) => `${a}\0`).join(''), 'utf8'));
  }), { numRuns: 150 });
  t.pass();
});

function xmlErrors(xml: string): string[] {
  const errors: string[] = [];
  const parser = new SaxesParser();
  parser.on('error', (error) => errors.push(error.message));
  parser.write(xml).close();
  return errors;
}

test('xmlText keeps XML 1.0 well-formed whatever the text holds (checked by a strict parser)', (t) => {
  const hostile = 'a & b < c > "d" \u0001 \u001b[2J \u0000 \uffff \ud800 é';
  // The control: the same text with only the markup characters escaped is not XML 1.0.
  const naive = hostile.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  t.not(xmlErrors(`<?xml version="1.0"?><x a="${naive}">${naive}</x>`).length, 0);
  t.deepEqual(xmlErrors(`<?xml version="1.0"?><x a="${xmlText(hostile)}">${xmlText(hostile)}</x>`), []);
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => xmlErrors(`<x a="${xmlText(s)}">${xmlText(s)}</x>`).length === 0), { numRuns: 1000 });
});

/** What the Actions runner does with a command line: split off the command, decode the message as its toolkit encoded it. */
function parseWorkflowCommand(line: string): { command: string; properties: Record<string, string>; message: string } | undefined {
  const match = /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line.trimStart());
  if (!match) return undefined;
  const decode = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  const properties = Object.fromEntries((match[2] ?? '').split(',').filter(Boolean).map((p) => p.split('=')).map(([k, v]) => [k!, decode(v ?? '')]));
  return { command: match[1]!, properties, message: decode(match[3]!) };
}

test('githubCommand: one line, one command; the message and title decode back as GitHub decodes them', (t) => {
  const message = 'fd 3 /tmp/x\n::warning::injected %0A::error::y \r\u001b[2J';
  const title = 'fdscan: gate, 100%';
  const line = githubCommand('error', { title }, message);
  t.is(line.split('\n').length, 2, 'one line and its newline');
  const parsed = parseWorkflowCommand(line.trimEnd());
  t.deepEqual(parsed, { command: 'error', properties: { title }, message: 'fd 3 /tmp/x\n::warning::injected %0A::error::y \r\\x1b[2J' });
  t.false(RAW.test(line.slice(0, -1)));
});
