/** Terminal styling: colour only on a TTY, never when NO_COLOR is set, always with FORCE_COLOR. */

export interface Style {
  color: boolean;
  /** Usable width in columns, or undefined when output is not a terminal (no wrapping). */
  width?: number;
}

/** The style for a stream, from its TTY-ness and the environment. */
export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const color = forced || (stream.isTTY === true && !('NO_COLOR' in env && env.NO_COLOR !== '') && env.TERM !== 'dumb');
  const width = stream.isTTY ? stream.columns : Number(env.COLUMNS) || undefined;
  return { color, width };
}

const CODES = { bold: [1, 22], dim: [2, 22], yellow: [33, 39], red: [31, 39], green: [32, 39], cyan: [36, 39] } as const;

/** Wrap text in an ANSI style when colour is on. */
export function paint(style: Style, name: keyof typeof CODES, text: string): string {
  if (!style.color) return text;
  const [open, close] = CODES[name];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}
