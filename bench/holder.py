#!/usr/bin/env python3
"""Fallback holder of the bench when there is no C compiler; same mix as bench/native/holder.c.
Usage: holder.py N WORKDIR. Prints "PID COUNT" once ready, then waits until stdin closes."""
import os, resource, socket, sys

want, work = int(sys.argv[1]), sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
paths = []
for i in range(64):
    paths.append(os.path.join(work, f'file-{i:02d}.dat'))
    with open(paths[-1], 'w') as f:
        f.write('fdscan bench\n')
count = lambda: len(os.listdir('/proc/self/fd')) - 1
made = [0]
def mark(fd):
    os.set_inheritable(fd, made[0] % 2 == 0)
    made[0] += 1
have = count()
for _ in range(min(4, want - have)):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0)); s.listen(8)
    mark(s.detach()); have += 1
step = 0
while have < want:
    slot = step % 7; step += 1
    if slot < 4 or want - have < 2:
        mark(os.open(paths[step % 64], os.O_RDONLY if step % 3 else os.O_RDWR)); have += 1
    elif slot == 4:
        for fd in os.pipe(): mark(fd)
        have += 2
    else:
        for s in socket.socketpair(): mark(s.detach())
        have += 2
print(os.getpid(), count(), flush=True)
sys.stdin.buffer.read()
