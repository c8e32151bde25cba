/*
 * Holds exactly N open descriptors for the bench: raises RLIMIT_NOFILE to the hard limit, opens
 * 4 TCP listeners on 127.0.0.1, then cycles regular files (64 distinct files in WORKDIR, 4 of
 * every 10 descriptors), pipes (2 of 10) and unix socketpairs (4 of 10); every other descriptor is
 * close-on-exec. Prints "PID COUNT" once ready, then waits until stdin closes. Dies with its parent.
 * Usage: holder N WORKDIR
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static long open_count(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  long n = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL) if (entry->d_name[0] != '.') n++;
  closedir(dir);
  return n - 1; /* the directory's own descriptor */
}

static long made = 0;
static void mark(int fd) {
  if (fd < 0) { perror("holder: open"); exit(3); }
  /* Alternate: half the descriptors a child would inherit, half not. */
  fcntl(fd, F_SETFD, (made++ % 2) ? FD_CLOEXEC : 0);
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: holder N WORKDIR\n"); return 2; }
  long want = strtol(argv[1], NULL, 10);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if ((rlim_t)want + 8 > limit.rlim_cur) { fprintf(stderr, "holder: %ld exceeds the limit %lu\n", want, (unsigned long)limit.rlim_cur); return 2; }

  char paths[64][4096];
  for (int i = 0; i < 64; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/file-%02d.dat", argv[2], i);
    int fd = open(paths[i], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "fdscan bench\n", 13) != 13) { perror(paths[i]); return 3; }
    close(fd);
  }
  long have = open_count();
  for (int i = 0; i < 4 && have < want; i++, have++) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (s < 0 || bind(s, (struct sockaddr *)&address, sizeof address) < 0 || listen(s, 8) < 0) { perror("holder: tcp"); return 3; }
    mark(s);
  }
  long step = 0;
  while (have < want) {
    long slot = step++ % 7; /* 4 files, 1 pipe (2 fds), 2 socketpairs (4 fds): 10 descriptors */
    int pair[2];
    if (slot < 4 || want - have < 2) {
      mark(open(paths[step % 64], (step % 3 ? O_RDONLY : O_RDWR)));
      have++;
    } else if (slot == 4) {
      if (pipe(pair) < 0) { perror("holder: pipe"); return 3; }
      mark(pair[0]); mark(pair[1]);
      have += 2;
    } else {
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) { perror("holder: socketpair"); return 3; }
      mark(pair[0]); mark(pair[1]);
      have += 2;
    }
  }
  printf("%d %ld\n", getpid(), open_count());
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) { }
  return 0;
}
