#!/usr/bin/env python3
"""Run a command with a chosen set of inherited descriptors, as different CI runners have them.

Usage: .ci/with-descriptors.py MODE COMMAND [ARGS...]
  clean     only 0, 1 and 2 open
  stray     also an inheritable pipe on 3/4 and files on 5, 7, 9, 20, 40, 42, 63, 100 and 1000
            (/etc/hostname on the odd ones, several opens of one file; /dev/null on the others)
  nostdin   like clean, with 0 closed
Example: python3 .ci/with-descriptors.py stray npx ava
"""
import os, sys

if len(sys.argv) < 3 or sys.argv[1] not in ('clean', 'stray', 'nostdin'):
    sys.stderr.write(__doc__)
    sys.exit(2)
mode = sys.argv[1]
os.closerange(3, 65536)
if mode == 'stray':
    read_end, write_end = os.pipe()  # 3 and 4: the lowest free numbers
    for fd in (read_end, write_end):
        os.set_inheritable(fd, True)
    for number in (5, 7, 9, 20, 40, 42, 63, 100, 1000):
        opened = os.open('/etc/hostname' if number % 2 else '/dev/null', os.O_RDONLY)
        if opened != number:
            os.dup2(opened, number)
            os.close(opened)
        os.set_inheritable(number, True)
if mode == 'nostdin':
    os.close(0)
os.execvp(sys.argv[2], sys.argv[2:])
