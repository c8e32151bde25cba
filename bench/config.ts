/** The bench's options, from flags (`npm run bench -- --quick`) and FDSCAN_BENCH_* variables. */

export interface BenchConfig {
  quick: boolean;
  /** Timed runs per cell (after `warmup` untimed ones). */
  runs: number;
  warmup: number;
  /** Descriptor counts of the holder. */
  sizes: number[];
  /** How many times the tracing script execs `true`. */
  execs: number;
  /** Runs of the slow rows (whole machine, tracing, fleet). */
  slowRuns: number;
  /** Extra idle processes started for the fleet rows (top, metrics), one row each. */
  crowds: number[];
  /** The Nodes fdscan runs on, one lane each: `machine` (the Node running the bench) or a major (fetched). */
  nodes: string[];
  /** Processes the machine should have for the `--all` rows (a crowd makes up the difference; 0: as it is). */
  allProcesses: number;
  /** Compiler runs of the `make -j2` row (0: no make row). */
  compiles: number;
  /** A second, longer exec count for the memory per traced process (0: not measured). */
  memoryExecs: number;
  /** Inheritable descriptors the worst-case origins program makes (0: no such row). */
  originDescriptors: number;
  /** Install lsof, lsfd, strace and make with apt-get when missing (as root). */
  install: boolean;
  /** Where to write the JSON results; undefined: do not write. */
  out?: string;
}

const USAGE = `Usage: npm run bench -- [--quick] [--runs N] [--sizes 30,1000,10000,19000] [--execs N] [--nodes machine,26]
                       [--all-processes N] [--compiles N] [--memory-execs N] [--origin-descriptors N] [--crowds 0,250,1000] [--no-install]
                       [--out FILE | --no-write]
  --quick           smoke run: 3 runs, 30, 1,000 and 10,000 descriptors, 50 execs, this Node only (add --nodes machine,26
                    for both lanes), no crowd, results not written
  --runs N          timed runs per cell (default 11, or FDSCAN_BENCH_RUNS)
  --sizes           descriptor counts of the holder process (default 30,1000,10000,19000, or FDSCAN_BENCH_SIZES)
  --execs N         execs of /bin/true in the tracing script (default 500)
  --nodes           Nodes to run fdscan on, a lane each: machine (this one) and majors fetched from npm (default machine,26)
  --all-processes N processes on the machine for the --all rows; a crowd of idle ones makes up the difference (default 1000)
  --compiles N      compiler runs of the make -j2 row (default 100; 0: none)
  --memory-execs N  execs of a second tracing run, for the memory per traced process (default 2500; 0: none)
  --origin-descriptors N  inheritable descriptors of the worst-case origins program (default 100000; 0: none)
  --crowds          extra idle processes for the top and metrics rows, machine lane only (default 0,250,1000)
  --no-install      do not apt-get what is missing (lsof, util-linux, strace, make)
  --out FILE        where the JSON goes (default bench/results.json; quick mode writes nothing unless given)`;

/** Parse argv; throws with the usage text on a bad flag. */
export function parseConfig(args: string[], env: NodeJS.ProcessEnv, defaultOut: string): BenchConfig {
  const quick = args.includes('--quick');
  const config: BenchConfig = {
    quick,
    runs: quick ? 3 : positive(env.FDSCAN_BENCH_RUNS ?? '11', 'FDSCAN_BENCH_RUNS'),
    warmup: 1,
    sizes: quick ? [30, 1000, 10000] : sizes(env.FDSCAN_BENCH_SIZES ?? '30,1000,10000,19000'),
    execs: quick ? 50 : 500,
    slowRuns: quick ? 1 : 5,
    crowds: quick ? [0] : [0, 250, 1000],
    nodes: quick ? ['machine'] : ['machine', '26'],
    allProcesses: quick ? 0 : 1000,
    compiles: quick ? 4 : 100,
    memoryExecs: quick ? 0 : 2500,
    originDescriptors: quick ? 1000 : 100_000,
    install: true,
    out: quick ? undefined : defaultOut,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    if (flag === '--quick') continue;
    else if (flag === '--runs') config.runs = positive(value(), flag);
    else if (flag === '--sizes') config.sizes = sizes(value());
    else if (flag === '--execs') config.execs = positive(value(), flag);
    else if (flag === '--crowds') config.crowds = value().split(',').map((c) => counting(c.trim(), flag));
    else if (flag === '--nodes') config.nodes = value().split(',').map((n) => node(n.trim()));
    else if (flag === '--all-processes') config.allProcesses = counting(value(), flag);
    else if (flag === '--compiles') config.compiles = counting(value(), flag);
    else if (flag === '--memory-execs') config.memoryExecs = counting(value(), flag);
    else if (flag === '--origin-descriptors') config.originDescriptors = counting(value(), flag);
    else if (flag === '--no-install') config.install = false;
    else if (flag === '--out') config.out = value();
    else if (flag === '--no-write') config.out = undefined;
    else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else throw new Error(`unknown flag ${flag}\n${USAGE}`);
  }
  if (!quick) config.slowRuns = Math.max(3, Math.ceil(config.runs / 3));
  return config;
}

function positive(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got '${text}'`);
  return n;
}

function counting(text: string, name: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new Error(`${name}: expected whole numbers, got '${text}'`);
  return n;
}

function node(text: string): string {
  if (text !== 'machine' && !/^\d+$/.test(text)) throw new Error(`--nodes: expected machine or a Node major (26), got '${text}'`);
  return text;
}

function sizes(text: string): number[] {
  return text.split(',').map((s) => positive(s.trim(), '--sizes'));
}
