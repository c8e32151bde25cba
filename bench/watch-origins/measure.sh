#!/bin/sh
# What `fdscan watch PID --origins` costs a syscall-heavy process while attached: getppid() calls per
# second of syscall-loop.c alone, with the watch attached (6 s), and after it detached. Seconds that
# straddle the attach or the detach are left out. Run from the repository root after `npm run build`:
# sh bench/watch-origins/measure.sh
set -e
dir=$(mktemp -d)
trap 'kill $loop 2>/dev/null; rm -rf "$dir"' EXIT
cc -O2 -o "$dir/loop" bench/watch-origins/syscall-loop.c
"$dir/loop" > "$dir/rates" &
loop=$!
sleep 4.2
node bin/fdscan.js watch "$loop" --origins --interval 1s > /dev/null &
watch=$!
until grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$loop/status"; do sleep 0.05; done
before=$(wc -l < "$dir/rates")
sleep 6.2
kill -INT $watch
wait $watch || true
during=$(wc -l < "$dir/rates")
sleep 4.2
kill $loop
awk -v b="$before" -v d="$during" '
  NR >= 2 && NR <= b { alone += $2; na++ }
  NR > b + 1 && NR < d { attached += $2; nd++ }
  NR > d + 1 { after += $2; nf++ }
  END {
    printf "alone    %d calls/s (%d s)\n", alone / na, na
    printf "attached %d calls/s (%d s)\n", attached / nd, nd
    printf "after    %d calls/s (%d s)\n", after / nf, nf
    printf "cost: %.0fx slower while attached\n", (alone / na) / (attached / nd)
  }' "$dir/rates"
