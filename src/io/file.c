#include "file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

pd_status pd_io_read_file(const pd_allocator *a, const char *path,
                          char **data, size_t *len, pd_errbuf *why) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return pd_err(why, PD_E_IO, "cannot open '%.160s': %s", path,
                  strerror(errno));
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (pd_grow(a, (void **)&buf, &cap, n + 65536, 1) != 0) {
      pd_free(a, buf);
      fclose(f);
      return pd_err(why, PD_E_NOMEM, "out of memory reading '%.160s'", path);
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  int failed = ferror(f);
  int saved = errno;
  fclose(f);
  if (failed) {
    pd_free(a, buf);
    return pd_err(why, PD_E_IO, "cannot read '%.160s': %s", path,
                  strerror(saved));
  }
  *data = buf;
  *len = n;
  return PD_OK;
}
