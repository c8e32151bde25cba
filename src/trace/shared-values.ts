/**
 * One object for every equal row, table and program image a trace keeps. Most execs of a tree
 * receive the very rows their siblings received (a build runs the compiler a thousand times with
 * the same 0, 1, 2 and jobserver pipe), so a trace holds each distinct row once and each exec a
 * reference: a few hundred bytes per process instead of several kilobytes. The structured clone
 * that carries the result to the main thread keeps the sharing.
 *
 * Shared objects are never modified afterwards: the recorder and its readers only build new rows.
 */
import type { ProgramImage, StackFrame, TracedDescriptor } from '../probe-kit/trace-result.js';

/** Past this many distinct rows a trace is not repetitive: new rows are kept as they are, without a key. */
const MAX_DISTINCT = 200_000;

export class SharedValues {
  private readonly rows = new Map<string, number>();
  private readonly byId: TracedDescriptor[] = [];
  private readonly tables = new Map<string, TracedDescriptor[]>();
  private readonly images = new Map<string, ProgramImage>();
  /** Origins' flag lists and stacks: one call site makes the same ones every time. */
  private readonly stringLists = new Map<string, string[]>();
  private readonly stacks = new Map<string, StackFrame[]>();

  /** The equal list of strings seen before (an origin's flags), else `list`. */
  strings(list: string[]): string[] {
    const key = list.join('\0');
    const known = this.stringLists.get(key);
    if (known) return known;
    if (this.stringLists.size < MAX_DISTINCT) this.stringLists.set(key, list);
    return list;
  }

  /** The equal stack seen before (same objects, offsets and names), else `frames`. */
  frames(frames: StackFrame[]): StackFrame[] {
    const key = JSON.stringify(frames);
    const known = this.stacks.get(key);
    if (known) return known;
    if (this.stacks.size < MAX_DISTINCT) this.stacks.set(key, frames);
    return frames;
  }

  /** `table` with each row replaced by the equal one seen before, and the array by an equal array seen before. */
  table(table: TracedDescriptor[]): TracedDescriptor[] {
    let key = '';
    const shared: TracedDescriptor[] = new Array<TracedDescriptor>(table.length);
    for (let i = 0; i < table.length; i++) {
      const row = table[i]!;
      const rowKey = JSON.stringify(row);
      let id = this.rows.get(rowKey);
      if (id === undefined) {
        if (this.byId.length >= MAX_DISTINCT) return table;
        id = this.byId.length;
        this.byId.push(row);
        this.rows.set(rowKey, id);
      }
      shared[i] = this.byId[id]!;
      key += `${id},`;
    }
    const known = this.tables.get(key);
    if (known) return known;
    if (this.tables.size < MAX_DISTINCT) this.tables.set(key, shared);
    return shared;
  }

  /** The equal image seen before, else `image`. */
  image(image: ProgramImage): ProgramImage {
    const key = `${image.exe}\0${image.argv.join('\0')}\0${image.argv.length}`;
    const known = this.images.get(key);
    if (known) return known;
    if (this.images.size < MAX_DISTINCT) this.images.set(key, image);
    return image;
  }
}
