/** What a command that ends on Ctrl-C prints next to the terminal's `^C`. */

/**
 * After Ctrl-C the terminal has echoed `^C` where the cursor was, and a command that handles
 * SIGINT (its summary, or the shell's prompt after it) went on on that line: `^Csummary for pid`.
 * On a terminal, a new line first.
 */
export function newLineAfterCtrlC(signal: NodeJS.Signals | undefined, stream: NodeJS.WriteStream = process.stdout): void {
  if (signal === 'SIGINT' && stream.isTTY === true) stream.write('\n');
}
