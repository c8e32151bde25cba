/**
 * A strict reader of the exposition text fdscan writes, for the tests: HELP and TYPE before each
 * family's samples, label values unescaped as the formats define (`\\`, `\"`, `\n`; any other
 * backslash is an error), `# EOF` only as the last line. Written from the format's text, not from
 * fdscan's renderer.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  help: Map<string, string>;
  types: Map<string, string>;
  units: Map<string, string>;
  eof: boolean;
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const out: Exposition = { samples: [], help: new Map(), types: new Map(), units: new Map(), eof: false };
  lines.forEach((line, i) => {
    if (out.eof) throw new Error(`line ${i + 1} after # EOF`);
    if (line === '# EOF') {
      out.eof = true;
      return;
    }
    const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const map = meta[1] === 'HELP' ? out.help : meta[1] === 'TYPE' ? out.types : out.units;
      if (map.has(meta[2]!)) throw new Error(`line ${i + 1}: second ${meta[1]} for ${meta[2]}`);
      map.set(meta[2]!, meta[3]!);
      return;
    }
    out.samples.push(parseSample(line, i + 1));
  });
  for (const s of out.samples) if (!out.types.has(s.name) || !out.help.has(s.name)) throw new Error(`${s.name} has no HELP or TYPE`);
  return out;
}

function parseSample(line: string, number: number): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) throw new Error(`line ${number}: no metric name: ${JSON.stringify(line)}`);
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    while (line[at] !== '}') {
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*="/.exec(line.slice(at));
      if (!label) throw new Error(`line ${number}: bad label at ${at}: ${JSON.stringify(line)}`);
      at += label[0].length;
      let value = '';
      for (;;) {
        const c = line[at++];
        if (c === undefined) throw new Error(`line ${number}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[at++];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new Error(`line ${number}: bad escape \\${e}`);
        } else value += c;
      }
      labels[label[0].slice(0, -2)] = value;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') throw new Error(`line ${number}: expected , or } at ${at}`);
    }
    at++;
  }
  const rest = line.slice(at);
  if (!/^ (\+Inf|-Inf|NaN|-?\d+(\.\d+)?(e[+-]?\d+)?)$/.test(rest)) throw new Error(`line ${number}: bad value ${JSON.stringify(rest)}`);
  const value = rest === ' +Inf' ? Infinity : Number(rest.slice(1));
  return { name, labels, value };
}

/** The value of the one sample of `name` whose labels include `labels`; throws when not exactly one. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = samplesOf(exposition, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

export function samplesOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
