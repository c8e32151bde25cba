/** Socket addresses as text, the same on every platform. */

/**
 * An IPv6 address in RFC 5952's canonical form: lowercase hex, no leading zeros, the longest run
 * of two or more zero groups (the first of equal runs) shown as `::`, IPv4-mapped addresses dotted.
 */
export function formatIpv6(bytes: Uint8Array | readonly number[]): string {
  if (bytes.length !== 16) throw new RangeError(`an IPv6 address has 16 bytes, not ${bytes.length}`);
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = bytes[i] === 0;
  if (mapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
