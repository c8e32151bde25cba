/*
 * The C floor of the bench: the least work that answers "what does PID hold, and would a child
 * inherit it": readdir /proc/PID/fd, then per descriptor readlinkat the link and read its fdinfo
 * (flags carry O_CLOEXEC). One line per descriptor on stdout. No stat, no socket tables, no peers.
 * Usage: floor PID
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: floor PID\n"); return 2; }
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/fd", argv[1]);
  int fd_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/%s/fdinfo", argv[1]);
  int info_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_dir < 0 || info_dir < 0) { perror("open /proc/PID"); return 2; }
  DIR *dir = fdopendir(fd_dir);
  if (!dir) { perror("fdopendir"); return 2; }
  static char link[4096], info[4096];
  long rows = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] == '.') continue;
    ssize_t n = readlinkat(fd_dir, entry->d_name, link, sizeof link - 1);
    if (n < 0) continue; /* closed meanwhile */
    link[n] = '\0';
    int f = openat(info_dir, entry->d_name, O_RDONLY | O_CLOEXEC);
    if (f < 0) continue;
    ssize_t m = read(f, info, sizeof info - 1);
    close(f);
    if (m < 0) continue;
    info[m] = '\0';
    char *flags = strstr(info, "flags:");
    unsigned long value = flags ? strtoul(flags + 6, NULL, 8) : 0;
    printf("%s %s %s\n", entry->d_name, (value & O_CLOEXEC) ? "cloexec" : "inherit", link);
    rows++;
  }
  closedir(dir);
  return rows > 0 ? 0 : 1;
}
