/* An LD_PRELOAD shim for scripts/output_digests.sh: every rename() or
 * renameat2() that puts a model output in place (a file named *.gguf or
 * *.safetensors, or a folder that holds a *.safetensors file) appends one
 * line per file to $LMPACK_OUTPUT_DIGESTS: a 64-bit FNV-1a digest of the
 * bytes and the path. lmpack's outputs all arrive by rename (core/atomic_file,
 * core/atomic_folder), so a test suite run under the shim lists every model
 * file it wrote; two such lists, before and after a change, show whether the
 * change altered any output byte. A development tool, never linked into lmpack. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ends_with(const char* s, const char* tail) {
  size_t n = strlen(s), m = strlen(tail);
  return n >= m && strcmp(s + n - m, tail) == 0;
}

static int digest_file(const char* path, uint64_t* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  uint64_t h = 1469598103934665603ULL;
  static __thread unsigned char buf[1 << 16];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; ++i) h = (h ^ buf[i]) * 1099511628211ULL;
  close(fd);
  *out = h;
  return n < 0 ? -1 : 0;
}

static void log_file(const char* path) {
  const char* log = getenv("LMPACK_OUTPUT_DIGESTS");
  uint64_t h = 0;
  if (log == NULL || digest_file(path, &h) != 0) return;
  char line[4096];
  int len = snprintf(line, sizeof line, "%016llx %s\n", (unsigned long long)h, path);
  if (len <= 0 || len >= (int)sizeof line) return;
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, line, (size_t)len) != len) { /* a lost line shows as a difference */ }
  close(fd);
}

static void log_output(const char* path) {
  struct stat st;
  if (getenv("LMPACK_OUTPUT_DIGESTS") == NULL || stat(path, &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    if (ends_with(path, ".gguf") || ends_with(path, ".safetensors")) log_file(path);
    return;
  }
  if (!S_ISDIR(st.st_mode)) return;
  struct dirent** names = NULL;
  int n = scandir(path, &names, NULL, alphasort);
  int has_tensors = 0;
  for (int i = 0; i < n; ++i) has_tensors |= ends_with(names[i]->d_name, ".safetensors");
  for (int i = 0; i < n; ++i) {
    if (has_tensors && names[i]->d_name[0] != '.') {
      char child[4096];
      if (snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name) < (int)sizeof child) log_file(child);
    }
    free(names[i]);
  }
  free(names);
}

int rename(const char* from, const char* to) {
  static int (*real)(const char*, const char*) = NULL;
  if (real == NULL) real = (int (*)(const char*, const char*))dlsym(RTLD_NEXT, "rename");
  int rc = real(from, to);
  if (rc == 0) log_output(to);
  return rc;
}

int renameat2(int from_dir, const char* from, int to_dir, const char* to, unsigned flags) {
  static int (*real)(int, const char*, int, const char*, unsigned) = NULL;
  if (real == NULL) real = (int (*)(int, const char*, int, const char*, unsigned))dlsym(RTLD_NEXT, "renameat2");
  int rc = real(from_dir, from, to_dir, to, flags);
  if (rc == 0 && to_dir == AT_FDCWD) log_output(to);
  return rc;
}
