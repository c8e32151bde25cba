/**
 * The one door through which text from the system (argv, comm, paths, socket names, peer commands,
 * warnings that embed them) reaches a terminal, a log, a GitHub Actions annotation or XML. A name
 * is data, never terminal input: like strace -x and lsof's safestrprt, whatever is not printable
 * text is shown as an escape, and every escape reads back to exactly one string.
 *
 * - `\n` and `\t` as themselves; every other C0 control and DEL as `\xNN` (ESC is `\x1b`).
 * - A backslash as `\\`, so a `\` in the output always starts an escape: a file really named
 *   `a\nb` (backslash, n) reads `a\\nb`, one named `a`+newline+`b` reads `a\nb`.
 * - Raw bytes that are not UTF-8 (a path's `targetBytes`) as `\xNN`, exactly those bytes, as lsof.
 * - Code points that are not text as `\uNNNN`: the C1 controls U+0080-U+009F (so the byte 0x85 of
 *   an invalid name, `\x85`, and the character U+0085, `\u0085`, stay told apart), lone surrogates,
 *   U+FFFD (what UTF-8 decoding leaves of invalid bytes where the raw bytes are not kept, as in
 *   argv), the non-characters U+FFFE and U+FFFF (not allowed in XML), the line and paragraph
 *   separators U+2028/U+2029 and the bidirectional controls, which reorder what a terminal shows.
 *
 * JSON output never goes through here: it keeps the exact strings.
 */
import type { Descriptor } from '../probe-kit/contract.js';

// Everything escapeText rewrites, but the backslash (kept apart for quoteArgv, which quotes it instead).
const NOT_TEXT = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ufffd-\\uffff';
// Without the `u` flag the expression sees UTF-16 code units, so a lone surrogate is one match.
const LONE_SURROGATE = '[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const UNSAFE = new RegExp(`[\\\\${NOT_TEXT}]|${LONE_SURROGATE}`, 'g');
const UNSAFE_BUT_BACKSLASH = new RegExp(`[${NOT_TEXT}]|${LONE_SURROGATE}`, 'g');
// XML 1.0 `Char` excludes most C0 controls, lone surrogates, U+FFFE and U+FFFF, even as references.
const NOT_XML = new RegExp(`[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]|${LONE_SURROGATE}`, 'g');

/** The escape of one character (one UTF-16 code unit for a lone surrogate). */
function escapeChar(c: string): string {
  if (c === '\\') return '\\\\';
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  const code = c.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A string from the system, safe for a terminal, a log line or a CI annotation (see the header). */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Raw bytes, such as a path that is not UTF-8: valid UTF-8 runs as escapeText shows them, other bytes as `\xNN`. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < bytes.length;) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += escapeText(Buffer.from(bytes.subarray(run, i)).toString('utf8')) + `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
    run = ++i;
  }
  return out + escapeText(Buffer.from(bytes.subarray(run)).toString('utf8'));
}

/** Length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), 0 when the byte there starts none. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const within = (at: number, lo = 0x80, hi = 0xbf): boolean => at < b.length && b[at]! >= lo && b[at]! <= hi;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return within(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    // No overlong forms (E0 80-9F) and no surrogates (ED A0-BF).
    const ok = within(i + 1, c === 0xe0 ? 0xa0 : 0x80, c === 0xed ? 0x9f : 0xbf) && within(i + 2);
    return ok ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const ok = within(i + 1, c === 0xf0 ? 0x90 : 0x80, c === 0xf4 ? 0x8f : 0xbf) && within(i + 2) && within(i + 3);
    return ok ? 4 : 0;
  }
  return 0;
}

/**
 * A descriptor's target, escaped; from its raw bytes when the path was not UTF-8, so each invalid
 * byte shows as `\xNN` instead of the U+FFFD that decoding left in `target`.
 */
export function descriptorTarget(d: Pick<Descriptor, 'target' | 'targetBytes'>): string {
  if (d.targetBytes === undefined) return escapeText(d.target);
  const bytes = Buffer.from(d.targetBytes, 'base64');
  // The probe may show less than the link held (a memfd's target drops the leading "/"): use the
  // bytes of what the target shows, or the target itself when they do not line up.
  for (let skip = 0; skip <= Math.min(4, bytes.length); skip++) {
    if (bytes.subarray(skip).toString('utf8') === d.target) return escapeBytes(bytes.subarray(skip));
  }
  return escapeText(d.target);
}

type Named = Pick<Descriptor, 'fd' | 'type' | 'target' | 'targetBytes'>;

/** `fd 3    REG      /path`: number and type padded so rows line up, the target escaped. */
export function descriptorLine(d: Named): string {
  return `fd ${String(d.fd).padEnd(4)} ${escapeText(d.type).padEnd(8)} ${descriptorTarget(d)}`;
}

/** `fd 3 REG /path`, for a descriptor named within a sentence. */
export function describeDescriptor(d: Named): string {
  return `fd ${d.fd} ${escapeText(d.type)} ${descriptorTarget(d)}`;
}

const SHELL_PLAIN = /^[\w@%+=:,./-]+$/;

/**
 * A command line as a shell would take it back: plain words as they are, others in single quotes,
 * and words holding what escapeText escapes in bash's `$'...'` with those escapes (GNU ls's
 * shell-escape style), so a newline in an argument never starts a new line of output.
 */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map((arg) => {
    if (SHELL_PLAIN.test(arg)) return arg;
    // Inside '...' a backslash is literal to a shell: unambiguous without escaping it.
    if (arg.search(UNSAFE_BUT_BACKSLASH) === -1) return `'${arg.replace(/'/g, `'\\''`)}'`;
    return `$'${escapeText(arg).replace(/'/g, "\\'")}'`;
  }).join(' ');
}

/**
 * Rendered text for XML 1.0 (attribute values and element content): the markup characters as
 * entities, and any character XML cannot hold at all shown as its escape, so the document stays
 * well-formed even if a name reached here unescaped.
 */
export function xmlText(text: string): string {
  return text.replace(NOT_XML, escapeChar).replace(/[&<>"]/g, (c) => XML_ENTITIES[c]!);
}

// Attributes are always written in double quotes: a `'` needs no entity.
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * One GitHub Actions workflow command line, such as `::error title=T::message`. The message is
 * encoded as the Actions toolkit's escapeData does (`%`, CR, LF as `%25`, `%0D`, `%0A`), property
 * values as its escapeProperty does (`:` and `,` too); any other control character is escaped, so
 * no text can end the command or start another one.
 */
export function githubCommand(command: 'error' | 'warning' | 'notice', properties: Record<string, string>, message: string): string {
  const props = Object.entries(properties).map(([key, value]) => `${key}=${githubEncode(value, true)}`).join(',');
  return `::${command}${props ? ` ${props}` : ''}::${githubEncode(message, false)}\n`;
}

function githubEncode(text: string, property: boolean): string {
  const encoded = text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(UNSAFE_BUT_BACKSLASH, escapeChar);
  return property ? encoded.replace(/:/g, '%3A').replace(/,/g, '%2C') : encoded;
}

/** `1 descriptor`, `2 descriptors`: a count and its noun in agreement. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** The one line fdscan prints for a failure, `fdscan: MESSAGE`; the message may name a command or a path. */
export function errorLine(message: string): string {
  return `fdscan: ${escapeText(message)}\n`;
}

/**
 * A command line for a report line: quoteArgv's form of its first non-empty line only (the rest
 * of a multi-line `python -c` script is dropped, the quote left open), and at most `width` characters.
 * Too wide, paths lose the middle of their folder first, the longest path first
 * (`/root/…/fixtures/leak.py`): the program's or script's name says most; what still does not fit
 * is cut at the end. What was cut is marked `…`. JSON keeps the whole argv.
 */
export function shortArgv(argv: readonly string[], width = 72): string {
  const cut = argv.findIndex((arg) => arg.includes('\n'));
  const whole = cut === -1 ? argv : argv.slice(0, cut);
  const words = whole.map((arg) => quoteArgv([arg]));
  if (cut !== -1) {
    // A script that starts with a newline (`python -c '\nimport os...'`) is named by its first line of code.
    const head = argv[cut]!.split('\n').find((line) => line.trim() !== '')?.trimStart() ?? '';
    const last = quoteArgv([head]);
    // An open quote says the word goes on.
    const open = head === '' ? "'" : last.endsWith("'") && !SHELL_PLAIN.test(head) ? last.slice(0, -1) : last;
    words.push(`${open}…`);
  }
  const length = (upTo = words.length): number => words.slice(0, upTo).reduce((sum, word) => sum + Array.from(word).length, upTo - 1);
  // Only plain words are paths here: a quoted one may be a script whose slashes are not folders.
  const paths = whole.map((arg, i) => i).filter((i) => SHELL_PLAIN.test(whole[i]!) && whole[i]!.split('/').length > 2)
    .sort((a, b) => whole[b]!.length - whole[a]!.length);
  const total = length();
  if (total > width && paths.length > 0) {
    // Shorten only what brings a name into view: the whole line when that makes it fit, else the
    // words up to the last path's name (then ` …`), the rest being cut anyway.
    const saving = paths.reduce((sum, i) => sum + whole[i]!.length - shortPath(whole[i]!, 0).length, 0);
    const last = Math.max(...paths);
    let over = total - saving <= width ? total - width : length(last + 1) + (last < words.length - 1 ? 2 : 0) - width;
    for (const i of paths) {
      if (over <= 0) break;
      words[i] = shortPath(whole[i]!, whole[i]!.length - over);
      over -= whole[i]!.length - words[i]!.length;
    }
  }
  const text = words.join(' ');
  const chars = Array.from(text);
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * `path` with the middle of its folder replaced by `…`, its last name always kept: the longest such
 * form of at most `budget` characters, else the shortest (the first name, `…` and the last).
 */
function shortPath(path: string, budget: number): string {
  const names = path.split('/');
  let best: string | undefined;
  let shortest = path;
  for (let head = 1; head < names.length - 1; head++) {
    for (let tail = head + 1; tail < names.length; tail++) {
      const form = `${names.slice(0, head).join('/')}/…/${names.slice(tail).join('/')}`;
      if (form.length >= path.length) continue;
      if (form.length <= budget && (best === undefined || form.length > best.length)) best = form;
      if (form.length < shortest.length) shortest = form;
    }
  }
  return best ?? shortest;
}
