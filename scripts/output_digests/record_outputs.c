/* An LD_PRELOAD shim for scripts/output_digests.sh: every rename() or
 * renameat2() that puts a model output in place (a file named *.gguf or
 * *.safetensors, or a folder that holds a *.safetensors file) appends one
 * line per file to $LMPACK_OUTPUT_DIGESTS: a 64-bit FNV-1a digest of the
 * bytes and the path. lmpack's outputs all arrive by rename (core/atomic_file,
 * core/atomic_folder), so a test suite run under the shim lists every model
 * file it wrote; two such lists, before and after a change, show whether the
 * change altered any output byte. A development tool, never linked into lmpack.
 * The record of how a file was made (GGUF key lmpack.recipe; "lmpack_recipe"
 * in a folder's JSON) is left out of the digest: a file that carries one gets
 * the digest of the same file written without it, so that adding the record
 * to a command's outputs shows as no change in what the model is. */
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

static uint64_t fnv(uint64_t h, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static const uint64_t kFnvStart = 1469598103934665603ULL;

/* A GGUF reader just deep enough to find one key-value pair's bytes. */
struct Cursor {
  const unsigned char* p;
  size_t n, at;
  int bad;
};

static uint64_t take(struct Cursor* c, size_t bytes) {
  uint64_t v = 0;
  if (c->bad || c->n - c->at < bytes) { c->bad = 1; return 0; }
  for (size_t i = 0; i < bytes && i < 8; ++i) v |= (uint64_t)c->p[c->at + i] << (8 * i);
  c->at += bytes;
  return v;
}

static void skip_value(struct Cursor* c, uint32_t type, int depth) {
  static const size_t sizes[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  if (depth > 4 || type > 12) { c->bad = 1; return; }
  if (type == 8) { take(c, (size_t)take(c, 8)); return; }
  if (type != 9) { take(c, sizes[type]); return; }
  uint32_t inner = (uint32_t)take(c, 4);
  uint64_t count = take(c, 8);
  for (uint64_t i = 0; i < count && !c->bad; ++i) skip_value(c, inner, depth + 1);
}

/* The digest of a GGUF file as if its lmpack.recipe pair were not there; 0 when it has none or is not GGUF. */
static int gguf_digest_without_recipe(const unsigned char* p, size_t n, uint64_t* out) {
  struct Cursor c = {p, n, 0, 0};
  if (take(&c, 4) != 0x46554747u) return 0; /* "GGUF" */
  take(&c, 4);
  uint64_t tensors = take(&c, 8), kvs = take(&c, 8);
  size_t skip_from = 0, skip_to = 0;
  uint64_t alignment = 32;
  for (uint64_t i = 0; i < kvs && !c.bad; ++i) {
    size_t start = c.at;
    uint64_t len = take(&c, 8);
    if (c.bad || c.n - c.at < len) return 0;
    const char* key = (const char*)p + c.at;
    c.at += len;
    uint32_t type = (uint32_t)take(&c, 4);
    if (len == 13 && memcmp(key, "lmpack.recipe", 13) == 0) skip_from = start;
    if (len == 17 && memcmp(key, "general.alignment", 17) == 0 && type == 4) alignment = take(&c, 4);
    else skip_value(&c, type, 0);
    if (skip_from == start) skip_to = c.at;
  }
  for (uint64_t i = 0; i < tensors && !c.bad; ++i) {
    take(&c, (size_t)take(&c, 8));
    uint32_t dims = (uint32_t)take(&c, 4);
    take(&c, 8 * (size_t)dims + 4 + 8);
  }
  if (c.bad || skip_to == 0 || alignment == 0) return 0;
  size_t infos_end = c.at;
  size_t data = (infos_end + alignment - 1) / alignment * alignment;
  if (data > n) return 0;
  unsigned char kv_count[8];
  for (int i = 0; i < 8; ++i) kv_count[i] = (unsigned char)((kvs - 1) >> (8 * i));
  uint64_t h = fnv(kFnvStart, p, 16);
  h = fnv(h, kv_count, 8);
  h = fnv(h, p + 24, skip_from - 24);
  h = fnv(h, p + skip_to, infos_end - skip_to);
  size_t shorter_end = infos_end - (skip_to - skip_from);
  size_t pad = (alignment - shorter_end % alignment) % alignment;
  static const unsigned char zero = 0;
  for (size_t i = 0; i < pad; ++i) h = fnv(h, &zero, 1);
  *out = fnv(h, p + data, n - data);
  return 1;
}

/* The digest of a JSON file as if its ",\n  \"lmpack_recipe\": ..." line were not there. */
static int json_digest_without_recipe(const unsigned char* p, size_t n, uint64_t* out) {
  static const char key[] = "\"lmpack_recipe\": ";
  const unsigned char* k = memmem(p, n, key, sizeof key - 1);
  if (k == NULL) return 0;
  const unsigned char* from = k;
  while (from > p && from[-1] != ',') --from;
  if (from == p) return 0;
  --from;
  const unsigned char* to = memchr(k, '\n', (size_t)(p + n - k));
  if (to == NULL) return 0;
  *out = fnv(fnv(kFnvStart, p, (size_t)(from - p)), to, (size_t)(p + n - to));
  return 1;
}

static int digest_file(const char* path, uint64_t* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0) { close(fd); return -1; }
  size_t n = (size_t)st.st_size;
  unsigned char* p = n ? malloc(n) : NULL;
  size_t got = 0;
  while (p != NULL && got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (n && (p == NULL || got != n)) { free(p); return -1; }
  if (!(ends_with(path, ".gguf") && gguf_digest_without_recipe(p, n, out)) &&
      !(ends_with(path, ".json") && json_digest_without_recipe(p, n, out)))
    *out = fnv(kFnvStart, p, n);
  free(p);
  return 0;
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
