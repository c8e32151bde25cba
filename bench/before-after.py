#!/usr/bin/env python3
"""Compares two built checkouts of fdscan (a change's before and after) on the two cases a change
to the table reads must not slow down: `fdscan PID --json` of a holder of 10,000 descriptors
(bench/native/holder.c), and `fdscan gate` of a shell script that execs /bin/true 200 times.
Runs are interleaved (before, after, then after, before, ...) so that load on the machine falls
on both alike; prints the median wall time of each, and the median CPU time (user + sys of fdscan
and the children it waited for), which contention on a busy machine disturbs less.
Usage: bench/before-after.py BEFORE_DIR AFTER_DIR [RUNS=11]   (each dir built: npm run build)
"""
import os, statistics, subprocess, sys, tempfile, time

before, after = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 11
trees = {'before': before, 'after': after}
work = tempfile.mkdtemp(prefix='fdscan-before-after-')
holder_bin = os.path.join(work, 'holder')
subprocess.run(['gcc', '-O2', '-o', holder_bin, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'native', 'holder.c')], check=True)
script = os.path.join(work, 'execs.sh')
with open(script, 'w') as f:
    f.write('i=0\nwhile [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done\n')
holder = subprocess.Popen([holder_bin, '10000', work], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
pid, count = holder.stdout.readline().split()
cases = {'scan': ['node', 'bin/fdscan.js', pid, '--json'], 'gate': ['node', 'bin/fdscan.js', 'gate', '--', 'sh', script]}
wall, cpu = {}, {}

def run(tree, case):
    start = time.perf_counter()
    child = subprocess.Popen(cases[case], cwd=trees[tree], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall.setdefault((case, tree), []).append((time.perf_counter() - start) * 1000)
    cpu.setdefault((case, tree), []).append((usage.ru_utime + usage.ru_stime) * 1000)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f'{case} in {trees[tree]} exited {os.waitstatus_to_exitcode(status)}')

try:
    print(f'holder pid {pid} holds {count} descriptors; {runs} runs each, interleaved')
    for i in range(runs):
        for case in cases:
            for tree in (('before', 'after') if i % 2 == 0 else ('after', 'before')):
                run(tree, case)
finally:
    holder.stdin.close()
    holder.wait()
for case in cases:
    for tree in trees:
        w, c = wall[(case, tree)], cpu[(case, tree)]
        print(f'{case:4} {tree:6} wall median {statistics.median(w):7.1f} ms (min {min(w):7.1f}, max {max(w):7.1f})   cpu median {statistics.median(c):7.1f} ms')
