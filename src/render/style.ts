/**
 * Terminal styling: colour only on a TTY, never when NO_COLOR is set, always with FORCE_COLOR.
 * Renderers are pure functions of (data, Style); the decision is taken once, here, per stream.
 */
import { createRequire } from 'node:module';

// Required when used, not imported: see src/errors.ts (an ES import of node:util opens stderr).
const styleText: typeof import('node:util').styleText = (...args) => (createRequire(import.meta.url)('node:util') as typeof import('node:util')).styleText(...args);

export interface Style {
  color: boolean;
  /** Usable width in columns, or undefined when output is not a terminal (no wrapping). */
  width?: number;
}

/**
 * The style for a stream, from its TTY-ness and the environment. Not `stream.hasColors()`: it
 * answers differently for a TTY without TERM (no colour), an empty NO_COLOR (no colour), a
 * FORCE_COLOR other than 1/2/3/true (no colour) and NODE_DISABLE_COLORS, and is absent on pipes;
 * fdscan keeps the rule it documents.
 */
export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const color = forced || (stream.isTTY === true && !('NO_COLOR' in env && env.NO_COLOR !== '') && env.TERM !== 'dumb');
  return { color, width: usableWidth(stream.isTTY ? stream.columns : Number(env.COLUMNS)) };
}

/**
 * The narrowest width fdscan lays text out for: a narrower terminal or COLUMNS gets this many
 * columns. The audit's stacked list (FD TYPE MODE INHERIT) fits in it up to fd 99999.
 */
export const MIN_WIDTH = 24;

/**
 * The one rule for a terminal's width, from the terminal or COLUMNS: not a whole number above 0
 * (`COLUMNS=-5`, `0.5`, `abc`) counts as unknown (no wrapping); a whole number below MIN_WIDTH is
 * raised to it (`COLUMNS=1` had drawn one character per line).
 */
function usableWidth(columns: number | undefined): number | undefined {
  if (columns === undefined || !Number.isInteger(columns) || columns < 1) return undefined;
  return Math.max(columns, MIN_WIDTH);
}

export type Paint = 'bold' | 'dim' | 'yellow' | 'red' | 'green' | 'cyan' | 'grey';

/**
 * Wrap text in an ANSI style when colour is on. `validateStream: false`: styleText would otherwise
 * decide again from process.stdout on Node 22 (and 20.18+), against the stream this Style is for.
 */
export function paint(style: Style, name: Paint, text: string): string {
  return style.color ? styleText(name, text, { validateStream: false }) : text;
}
