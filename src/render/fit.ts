/**
 * Text fitted to a terminal's width. Text is handled as spans (escaped text plus the paint of the
 * span) and painted only once it is cut into lines, so every line carries its own complete styles:
 * an escape sequence is never split and no colour runs onto the next line. Widths are display
 * columns as cli-table3 and terminals count them (string-width: a wide character is 2).
 */
import stringWidth from 'string-width';
import { type Paint, type Style, paint } from './style.js';

/** A run of already escaped text in one paint. */
export interface Span {
  text: string;
  paint?: Paint;
}

/** One painted line and the columns it takes. */
export interface Line {
  text: string;
  width: number;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// Made on first use: creating it loads ICU's break rules, ~10 ms of start-up that text of printable
// ASCII, most of what fdscan prints, never needs.
let graphemes: Intl.Segmenter | undefined;

/** Columns `text` takes on a terminal (escaped text: no control characters). */
export function displayWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text);
}

/** Columns the spans take together. */
export function spansWidth(spans: readonly Span[]): number {
  let width = 0;
  for (const span of spans) width += displayWidth(span.text);
  return width;
}

/**
 * The spans cut into painted lines of at most `width` columns (at least one, possibly empty).
 * `words`: break after the last space that fits, where there is one, as prose is broken (the space
 * is dropped); `'separators'`: after the last space or `/` that fits, both kept, as a target is
 * broken (its lines joined give its text back); otherwise anywhere. A grapheme wider than `width`
 * still gets a line of its own.
 */
export function wrapSpans(spans: readonly Span[], width: number, style: Style, words: boolean | 'separators' = false): Line[] {
  const text = spans.map((s) => s.text).join('');
  return lineRanges(text, Math.max(1, width), words).map(([start, end, w]) => ({ text: paintRange(spans, start, end, style), width: w }));
}

/** The spans on one line of at most `width` columns, cut with `…` when they do not fit. */
export function truncateSpans(spans: readonly Span[], width: number, style: Style): string {
  return cutSpans(spans, width, style).text;
}

/** As truncateSpans, with the columns the line takes (a wide character that does not fit leaves one short). */
export function cutSpans(spans: readonly Span[], width: number, style: Style): Line {
  const text = spans.map((s) => s.text).join('');
  const whole = displayWidth(text);
  if (whole <= width) return { text: paintRange(spans, 0, text.length, style), width: whole };
  const [first] = lineRanges(text, Math.max(1, width - 1), false);
  return { text: `${paintRange(spans, first![0], first![1], style)}…`, width: displayWidth(`${text.slice(first![0], first![1])}…`) };
}

/** Prose lines: broken between words at the terminal's width, or one line without a terminal. */
export function proseLines(spans: readonly Span[], style: Style): string[] {
  return style.width ? wrapSpans(spans, style.width, style, true).map((line) => line.text) : [paintSpans(spans, style)];
}

/** The spans painted on one line, whatever its width. */
export function paintSpans(spans: readonly Span[], style: Style): string {
  return spans.map((s) => (s.paint && s.text ? paint(style, s.paint, s.text) : s.text)).join('');
}

/**
 * [start, end) of each line in UTF-16 units of `text`, and its width. With `words` or
 * `'separators'`, a line breaks at its last break point when that is past the line's middle (a
 * long path still fills lines): for `words` its last space, which starts no line; for
 * `'separators'` after its last space, else after its last `/`.
 */
function lineRanges(text: string, width: number, words: boolean | 'separators'): Array<[number, number, number]> {
  const ranges: Array<[number, number, number]> = [];
  const separators = words === 'separators';
  // `at` is where the next line would start (for `words`, the space before it is dropped); `before`
  // the columns of the line up to it.
  const breakable = (at: number, start: number, before: number): boolean => words !== false && at > start && before * 2 >= width;
  if (PRINTABLE_ASCII.test(text)) {
    let start = 0;
    while (text.length - start > width) {
      let end = start + width;
      let next = end;
      if (separators) {
        const after = (c: string): number => text.lastIndexOf(c, end - 1) + 1;
        const at = [after(' '), after('/')].find((i) => breakable(i, start, i - start));
        if (at !== undefined) end = next = at;
      } else {
        const space = text.lastIndexOf(' ', end);
        if (breakable(space, start, space - start)) {
          end = space;
          next = space + 1;
        }
      }
      ranges.push([start, end, end - start]);
      start = next;
    }
    ranges.push([start, text.length, text.length - start]);
    return ranges;
  }
  let start = 0;
  let used = 0;
  // Break points of the line so far, with the width of the line before each: the last space (its
  // index for `words`, the index after it for 'separators') and the index after the last `/`.
  let space = -1;
  let beforeSpace = 0;
  let slash = -1;
  let beforeSlash = 0;
  for (const { segment, index } of (graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width && index > start) {
      if (words === true && segment === ' ') {
        ranges.push([start, index, used]);
        start = index + 1;
        used = 0;
        space = -1;
        continue;
      }
      const [at, before] = breakable(space, start, beforeSpace) ? [space, beforeSpace] : separators && breakable(slash, start, beforeSlash) ? [slash, beforeSlash] : [-1, 0];
      if (at !== -1) {
        ranges.push([start, at, before]);
        used -= before + (separators ? 0 : 1);
        start = separators ? at : at + 1;
      } else {
        ranges.push([start, index, used]);
        start = index;
        used = 0;
      }
      space = slash = -1;
    }
    if (segment === ' ' && !separators) {
      space = index;
      beforeSpace = used;
    }
    used += w;
    if (separators && segment === ' ') {
      space = index + 1;
      beforeSpace = used;
    }
    if (separators && segment === '/') {
      slash = index + 1;
      beforeSlash = used;
    }
  }
  ranges.push([start, text.length, used]);
  return ranges;
}

/** The part [start, end) of the spans' text, each piece in its span's paint. */
function paintRange(spans: readonly Span[], start: number, end: number, style: Style): string {
  let out = '';
  let at = 0;
  for (const span of spans) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + span.text.length);
    if (from < to) {
      const piece = span.text.slice(from - at, to - at);
      out += span.paint ? paint(style, span.paint, piece) : piece;
    }
    at += span.text.length;
    if (at >= end) break;
  }
  return out;
}
