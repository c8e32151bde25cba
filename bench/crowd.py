#!/usr/bin/env python3
"""The bench's crowd: starts N idle `sleep` processes, each holding a few descriptors (a pipe,
/dev/null, this file, stdio), so `fdscan top` and `fdscan metrics --all` can be timed against the
number of processes. Usage: crowd.py N. Prints "READY N" once every one is started; ends them all
when stdin closes."""
import os, signal, sys

n = int(sys.argv[1])
sleep = next(p for p in ('/bin/sleep', '/usr/bin/sleep') if os.path.exists(p))
children = []
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        try:
            null = os.open('/dev/null', os.O_RDWR)
            os.dup2(null, 0)  # not the crowd's stdin: its end closes the crowd
            for fd in (*os.pipe(), null, os.open(sys.argv[0], os.O_RDONLY)):
                os.set_inheritable(fd, True)
            os.execv(sleep, ['sleep', 'infinity'])
        finally:
            os._exit(127)
    children.append(pid)
print(f'READY {len(children)}', flush=True)
sys.stdin.read()
for pid in children:
    os.kill(pid, signal.SIGKILL)
for pid in children:
    os.waitpid(pid, 0)
