/**
 * Signal masks as Linux prints them in /proc/PID/status (SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt)
 * and as fdscan's launcher records its caller's (`sigign=`, src/caller-state.ts): hex, the bit
 * N-1 standing for signal N, up to 64 signals.
 */

/** The mask lines of /proc/PID/status. */
export type SignalMaskField = 'SigPnd' | 'ShdPnd' | 'SigBlk' | 'SigIgn' | 'SigCgt';

/** Signal numbers set in a hex mask, ascending; an empty mask is no signal. */
export function signalsInMask(hex: string): number[] {
  const bits = BigInt(`0x0${hex}`);
  const signals: number[] = [];
  for (let signo = 1; signo <= 64; signo++) if ((bits >> BigInt(signo - 1)) & 1n) signals.push(signo);
  return signals;
}

/** Signal numbers set in any of `fields` of a /proc/PID/status text; a field it lacks adds none. */
export function statusSignals(status: string, fields: readonly SignalMaskField[]): number[] {
  let mask = 0n;
  for (const field of fields) {
    const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1];
    if (hex !== undefined) mask |= BigInt(`0x${hex}`);
  }
  return signalsInMask(mask.toString(16));
}
