/**
 * Listening to signals for as long as something runs: the signals that end a command fdscan runs
 * until stopped, and one way to install a listener on several signals and take it off again.
 */

/** What ends `watch`, `top`, `serve` and `lifecycle`: Ctrl-C, kill, and the terminal closing. */
export const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `listener` on each of `signals` (with `once`, for the first of each only: a second one then has
 * its default effect); the function returned takes it off every one of them.
 */
export function onSignals(signals: readonly NodeJS.Signals[], listener: (signal: NodeJS.Signals) => void, options: { once?: boolean } = {}): () => void {
  for (const signal of signals) {
    if (options.once) process.once(signal, listener);
    else process.on(signal, listener);
  }
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}
