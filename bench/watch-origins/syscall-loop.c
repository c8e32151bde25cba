/* A syscall-heavy loop for measuring `fdscan watch --origins`: getppid() as fast as it goes, printing
 * the calls made in each second ("rate N") until killed. Build: cc -O2 -o syscall-loop syscall-loop.c */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec start, now;
  long calls = 0;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    getppid();
    if ((++calls & 1023) == 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
      if (elapsed >= 1.0) {
        printf("rate %.0f\n", calls / elapsed);
        fflush(stdout);
        calls = 0;
        start = now;
      }
    }
  }
}
