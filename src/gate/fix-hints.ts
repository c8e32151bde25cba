/**
 * How to fix a finding, said in the language of the program that opened the descriptor when fdscan
 * can tell it from that program's image (its executable, or the argv[0] it was started as).
 */

/** The languages fdscan gives its own advice for; `other` gets C's (O_CLOEXEC), which every runtime ends in. */
export type FixLanguage = 'python' | 'shell' | 'node' | 'other';

/** Advice for one finding: the language it is written for and the advice itself. */
export interface FixHint {
  language: FixLanguage;
  text: string;
}

/** A program as the gate knows it: its image when known, and its argv. */
export interface ProgramRef {
  exe?: string;
  argv: readonly string[];
}

/** The language of `program`, from the name of its executable (or argv[0]). */
export function languageOf(program: ProgramRef): FixLanguage {
  const exe = program.exe && !program.exe.startsWith('(') ? program.exe : program.argv[0] ?? '';
  const name = exe.slice(Math.max(exe.lastIndexOf('/'), exe.lastIndexOf('\\')) + 1).replace(/\.exe$/i, '');
  if (/^(python|pypy)[\d.]*[dmu]*(-dbg)?$/.test(name)) return 'python';
  if (/^(sh|bash|dash|zsh|ksh|ksh93|mksh|ash|yash|posh|busybox)$/.test(name)) return 'shell';
  if (/^(node|nodejs)[\d.]*$/.test(name)) return 'node';
  return 'other';
}

/** How to stop leaking descriptor `fd` (its number in the program that opened it) to the programs it starts. */
export function leakFix(opener: ProgramRef, fd: number, platform: NodeJS.Platform = process.platform): FixHint {
  const language = languageOf(opener);
  if (platform === 'win32') return { language, text: WINDOWS_ADVICE(fd) };
  return { language, text: CHILD_ADVICE[language](fd) };
}

/**
 * Windows: inheritance is per handle, and CreateProcess(bInheritHandles=TRUE), which Node, Python
 * and most runtimes use, passes every inheritable one.
 */
const WINDOWS_ADVICE = (handle: number): string => `Windows: create handle ${handle} with bInheritHandle FALSE ` +
  `(SECURITY_ATTRIBUTES), or SetHandleInformation(${handle}, HANDLE_FLAG_INHERIT, 0) once it is open; a creator that must pass ` +
  'handles should list them in PROC_THREAD_ATTRIBUTE_HANDLE_LIST (`fdscan run --close-fds -- CMD` starts a command that way)';

/** How to stop a self-re-executing program from carrying `fds` (its own) into every new image. */
export function growthFix(program: ProgramRef, fds: readonly number[]): FixHint {
  const language = languageOf(program);
  return {
    language,
    text: `${REEXEC_ADVICE[language](fds[0] ?? 3)}; ` +
      (language === 'node' ? '' : "or mark every descriptor close-on-exec just before re-exec'ing (fdscan's markAllCloseOnExec() in Node); ") +
      'start it with `fdscan run --close-fds -- CMD` so that it begins with only 0, 1, 2',
  };
}

const CLOEXEC = (fd: number): string => 'open it with O_CLOEXEC (open, pipe2, and socket or accept4 with SOCK_CLOEXEC; fopen mode "e"), ' +
  `or fcntl(${fd}, F_SETFD, FD_CLOEXEC) right after opening`;

/** Advice for a descriptor that reaches the programs a process starts. */
const CHILD_ADVICE: Record<FixLanguage, (fd: number) => string> = {
  python: (fd) => `Python: os.set_inheritable(${fd}, False) once it is open (Python opens files close-on-exec unless told otherwise); ` +
    `subprocess: close_fds=True (the default), and pass_fds=[${fd}] only for a child that needs it`,
  shell: (fd) => `shell: close it for the commands that must not get it (\`cmd ${fd}>&-\`), ` +
    `or \`exec ${fd}>&-\` as soon as the script no longer needs it`,
  node: (fd) => `Node: give child_process only the stdio a child needs (fd ${fd} in stdio: [...] passes it on); ` +
    'Node opens its own descriptors close-on-exec, so a `stdio` entry or an addon is the likely source',
  other: (fd) => `C and others: ${CLOEXEC(fd)}`,
};

/** Advice for a descriptor a program keeps across its own exec. */
const REEXEC_ADVICE: Record<FixLanguage, (fd: number) => string> = {
  python: (fd) => `Python: os.set_inheritable(${fd}, False) once it is open, or os.closerange(3, os.sysconf('SC_OPEN_MAX')) before os.execv`,
  shell: (fd) => `shell: \`exec ${fd}>&-\` before the script execs itself again`,
  node: () => "Node: fdscan's markAllCloseOnExec() before re-exec'ing",
  other: (fd) => `C and others: ${CLOEXEC(fd)}`,
};
