/**
 * One self-contained HTML page (`--html FILE`), written as a stream: the head first, then each part
 * of the body as the caller makes it, so a run of thousands of processes is never held in memory
 * twice (once as data, once as markup). No network: styles and scripts are inlined; the page opens
 * from file:// or a CI artifact.
 *
 * The API, in full:
 *   const file = openPageFile(path, '--html');       // now, before CMD runs: refusals exit 2 at once
 *   file.write({ title, verdict, scripts, styles }, (page) => {
 *     page.write(html`<p>${name}</p>`);              // every ${value} escaped; Html fragments kept
 *     page.write(html`<p>${terminalText(line)}</p>`); // a text renderer's line (already escapeText'd)
 *     page.section({ id, title }, () => { ... });   // <section id><h2>title</h2> ... </section>
 *     page.data('tree', value);                      // <script type="application/json" id="tree">
 *   });                                              // scripts, then the file closed (also on error)
 *   writePage(sink, head, body)                      // the same into any (chunk: string) => void
 *
 * Escaping, the one door of the page (as src/render/text.ts is the terminal's):
 * - `html` escapes every interpolated string: first as the terminal shows it (escapeText: controls,
 *   invalid UTF-8's U+FFFD, bidi controls, U+2028 as visible `\x..`/`\u....`), then `& < > " '` as
 *   entities. So a value is safe in text and in a QUOTED attribute value (data-*, title, id), never
 *   in a URL, an event handler, a style or a script: nothing here writes one from data.
 * - Data for scripts goes through `page.data` only: JSON with `<`, `>`, `&`, U+2028 and U+2029 as
 *   \u escapes, so neither `</script>` nor `<!--` can end or change the block; JSON keeps exact strings.
 * - A Content-Security-Policy meta allows no network and only the page's own scripts and styles, by
 *   their sha256: even markup that escaped the escaping could not run a script.
 * Readable without colour: the verdict carries a word (PASS, FAIL, ERROR), not a colour alone.
 */
import { createHash } from 'node:crypto';
import { escapeText } from '../text.js';
import { openReportStream } from '../../report-file.js';
import { BASE_STYLE } from './page-style.js';

/** Markup made by `html` (or the page itself): inserted as it is. Anything else is escaped. */
export class Html {
  /** Only `html` makes these: a string never becomes markup by being wrapped elsewhere. */
  private constructor(readonly markup: string) {}
  /** @internal */
  static of(markup: string): Html {
    return new Html(markup);
  }
  toString(): string {
    return this.markup;
  }
}

/** What may stand in `${...}` of `html`: text (escaped), numbers, fragments, lists of them; nothing for null, undefined, false. */
export type HtmlValue = string | number | bigint | boolean | null | undefined | Html | readonly HtmlValue[];

/** A fragment of markup from a template whose every `${value}` is escaped (see the header). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += markupOf(values[i]) + strings[i + 1]!;
  return Html.of(out);
}

function markupOf(value: HtmlValue): string {
  if (value instanceof Html) return value.markup;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(markupOf).join('');
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'bigint' || value === true) return String(value);
  // An object here is a bug (it would print as [object Object]), not data to show.
  throw new TypeError(`html: cannot insert a ${typeof value}`);
}

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A string as text or a quoted attribute value: shown as the terminal shows it, markup characters as entities. */
export function escapeHtml(text: string): string {
  return escapeText(text).replace(/[&<>"']/g, (c) => ENTITY[c]!);
}

/**
 * Text a text renderer already made safe for a terminal (escapeText, quoteArgv, describeDescriptor,
 * originLines): only the markup characters become entities, so its backslashes are not doubled.
 */
export function terminalText(text: string): Html {
  return Html.of(text.replace(/[&<>"']/g, (c) => ENTITY[c]!));
}

/** JSON for a `<script type="application/json">` block: nothing in it can close the block or start a comment. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How the run ended, on top of the page: a word and a sentence. */
export interface PageVerdict {
  status: 'pass' | 'fail' | 'error' | 'info';
  /** The word shown before `text`; defaults to PASS, FAIL, ERROR or nothing (info). */
  label?: string;
  text: string | Html;
}

/** What the page's head and its end hold. */
export interface PageHead {
  title: string;
  verdict?: PageVerdict;
  /** Lines under the verdict (the command, the time, the method): text, escaped. */
  facts?: readonly (string | Html)[];
  /** JavaScript run at the end of the body, in order, each inlined and allowed by its hash. */
  scripts?: readonly string[];
  /** CSS added after the base style. */
  styles?: readonly string[];
}

/** The body of a page being written. */
export interface PageBody {
  /** Append markup (made with `html`). */
  write(fragment: Html): void;
  /** `<section id><h2>title</h2>`, what `body` writes, `</section>`. */
  section(heading: { id: string; title: string; note?: string }, body: () => void): void;
  /** Data for the page's scripts: `<script type="application/json" id="ID">`, read with JSON.parse(el.textContent). */
  data(id: string, value: unknown): void;
}

/** A page file opened now, written once later. */
export interface PageFile {
  write(head: PageHead, body: (page: PageBody) => void): void;
}

/** Open `path` for a page now (same rules as every report file: src/report-file.ts); `option` names it in errors. */
export function openPageFile(path: string, option: string): PageFile {
  const file = openReportStream(path, option);
  return {
    write: (head, body) => {
      const out = file.begin();
      try {
        writePage(out.write, head, body);
      } finally {
        out.end();
      }
    },
  };
}

// Markup is gathered up to this size before one write: 5,000 processes are not 50,000 write calls.
const CHUNK = 64 * 1024;

/** Write a whole page into `sink`, in pieces of about 64 KiB. */
export function writePage(sink: (chunk: string) => void, head: PageHead, body: (page: PageBody) => void): void {
  let pending = '';
  const emit = (markup: string): void => {
    pending += markup;
    if (pending.length >= CHUNK) {
      sink(pending);
      pending = '';
    }
  };
  const scripts = (head.scripts ?? []).map(inlineScript);
  const style = [BASE_STYLE, ...(head.styles ?? [])].join('\n');
  if (/<\/style/i.test(style)) throw new Error('a page style holds "</style"');
  emit(openingMarkup(head, style, scripts));
  const page: PageBody = {
    write: (fragment) => emit(markupOf(fragment)),
    section: (heading, inner) => {
      emit(html`<section id="${heading.id}"><h2>${heading.title}</h2>${heading.note ? html`<p class="note">${heading.note}</p>` : ''}`.markup);
      inner();
      emit('</section>\n');
    },
    data: (id, value) => emit(`<script type="application/json" id="${escapeHtml(id)}">${scriptJson(value)}</script>\n`),
  };
  body(page);
  emit('</main>\n');
  for (const script of scripts) emit(`<script>${script}</script>\n`);
  emit('</body>\n</html>\n');
  if (pending !== '') sink(pending);
}

/** The doctype, the head (policy, style) and the verdict. */
function openingMarkup(head: PageHead, style: string, scripts: string[]): string {
  // No source but the page: no fetch, no image or font from elsewhere, no form, no <base>; scripts
  // and the style only by hash. An image as a data: URL (a screenshot, a chart) stays possible.
  const policy = [
    "default-src 'none'",
    `script-src ${scripts.map((s) => `'${sha256(s)}'`).join(' ') || "'none'"}`,
    `style-src '${sha256(style)}'`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const verdict = head.verdict;
  const label = verdict?.label ?? { pass: 'PASS', fail: 'FAIL', error: 'ERROR', info: '' }[verdict?.status ?? 'info'];
  return '<!doctype html>\n' + html`<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fdscan">
<title>${head.title}</title>
<style>${Html.of(style)}</style>
</head>
<body>
<header class="page-head">
<h1>${head.title}</h1>
${verdict ? html`<p class="verdict" data-status="${verdict.status}" role="status">${label ? html`<strong class="verdict-label">${label}</strong> ` : ''}${verdict.text}</p>` : ''}
${head.facts?.length ? html`<ul class="facts">${head.facts.map((f) => html`<li>${f}</li>`)}</ul>` : ''}
</header>
<main>
`.markup;
}

/** A script as it can stand between `<script>` and `</script>` unchanged: one that could not is a bug, refused. */
function inlineScript(source: string): string {
  // `<\/script` means the same as `</script` inside a JavaScript string, regular expression or comment.
  const text = source.replace(/<\/(script)/gi, '<\\/$1');
  if (/<!--/.test(text)) throw new Error('an inline script holds "<!--", which changes how HTML parses it');
  return text;
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}
