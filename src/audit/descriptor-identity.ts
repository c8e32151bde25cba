/**
 * When two rows are "the same": one object (objectKey), or one object at one number
 * (descriptorKey). Numbers are reused at once, so a number alone never says it.
 */
import type { Descriptor } from '../probe-kit/descriptor.js';

/** The object a descriptor refers to: type, device and inode, or type and target where there is no inode. */
export function objectKey(d: Descriptor): string {
  return d.inode !== undefined ? `${d.type}|${d.device ?? '?'}|${d.inode}` : `${d.type}|${d.target}`;
}

/** The same object at the same number: a descriptor closed and reopened elsewhere is another one. */
export function descriptorKey(d: Descriptor): string {
  return `${d.fd}|${objectKey(d)}`;
}

/** Same object, known by inode (never guessed from a target). */
export function sameObject(a: Descriptor, b: Descriptor): boolean {
  return a.inode !== undefined && a.inode === b.inode && a.device === b.device && a.type === b.type;
}
