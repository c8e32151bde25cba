/** Reads text as a terminal would: SGR escapes parsed into styled runs, widths in columns. */
import stringWidth from 'string-width';

export interface Attributes {
  fg?: string;
  bg?: string;
  bold: boolean;
  dim: boolean;
}

export interface Run {
  text: string;
  attributes: Attributes;
}

export interface ParsedLine {
  runs: Run[];
  /** The text without escapes. */
  visible: string;
  /** Escapes that close what is not open (the mark of a colour cut across lines), or that are not SGR. */
  stray: string[];
  /** Attributes still set when the line ends. */
  open: Attributes;
}

const ESCAPE = /\x1b\[([0-9;]*)([A-Za-z])|\x1b/g;

/** One line of terminal output, parsed. */
export function parseLine(line: string, start: Attributes = { bold: false, dim: false }): ParsedLine {
  const runs: Run[] = [];
  const stray: string[] = [];
  let attributes = { ...start };
  let at = 0;
  const push = (text: string): void => {
    if (text) runs.push({ text, attributes: { ...attributes } });
  };
  for (const match of line.matchAll(ESCAPE)) {
    push(line.slice(at, match.index));
    at = match.index + match[0].length;
    if (match[2] !== 'm') {
      stray.push(JSON.stringify(match[0]));
      continue;
    }
    const codes = match[1] === '' ? [0] : match[1]!.split(';').map(Number);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      if (code === 0) attributes = { bold: false, dim: false };
      else if (code === 1) attributes.bold = true;
      else if (code === 2) attributes.dim = true;
      else if (code === 22) {
        if (!attributes.bold && !attributes.dim) stray.push('\\e[22m');
        attributes.bold = attributes.dim = false;
      } else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) attributes.fg = String(code);
      else if (code === 38) {
        attributes.fg = codes.slice(i, i + 3).join(';');
        i += codes[i + 1] === 5 ? 2 : 4;
      } else if (code === 39) {
        if (attributes.fg === undefined) stray.push('\\e[39m');
        delete attributes.fg;
      } else if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107)) attributes.bg = String(code);
      else if (code === 49) {
        if (attributes.bg === undefined) stray.push('\\e[49m');
        delete attributes.bg;
      }
    }
  }
  push(line.slice(at));
  return { runs, visible: runs.map((r) => r.text).join(''), stray, open: attributes };
}

/** Columns a line of escape-free text takes. */
export function columns(text: string): number {
  return stringWidth(text);
}

/** True when no attribute is set. */
export function isPlain(a: Attributes): boolean {
  return a.fg === undefined && a.bg === undefined && !a.bold && !a.dim;
}

/** The cells of a grid line (`│ a │ b │`), untrimmed; undefined for a line that is not one. */
export function gridCells(visible: string): string[] | undefined {
  if (!visible.startsWith('│') || !visible.endsWith('│')) return undefined;
  return visible.slice(1, -1).split('│');
}
