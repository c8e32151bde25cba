/*
 * Runs one command and reports its wall time and peak memory as one JSON line on stdout:
 * {"wallNs":..,"maxRssKb":..,"userUs":..,"sysUs":..,"status":..}. The command's stdout goes to
 * /dev/null (as `> /dev/null` would); its stderr passes through. Timing is fork to wait4, so the
 * bench's own spawn cost is not counted; ru_maxrss comes from wait4 for exactly this child.
 * Usage: measure CMD [ARGS...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: measure CMD [ARGS...]\n"); return 2; }
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) { perror("open /dev/null"); return 2; }
  long long start = now_ns();
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return 2; }
  if (pid == 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  if (wait4(pid, &status, 0, &usage) < 0) { perror("wait4"); return 2; }
  long long wall = now_ns() - start;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("{\"wallNs\":%lld,\"maxRssKb\":%ld,\"userUs\":%lld,\"sysUs\":%lld,\"status\":%d}\n", wall,
         usage.ru_maxrss, (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec,
         (long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec, code);
  return 0;
}
