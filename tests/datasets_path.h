/* Opening a file of the shared CDNOW data sets (../shared/datasets, passed
 * in env PD_DATASETS by tests/meson.build). Missing data fail the test when
 * CI=true and skip it otherwise. Test-only, header-only. */
#ifndef PD_TESTS_DATASETS_PATH_H
#define PD_TESTS_DATASETS_PATH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opens `name` or returns NULL after skip()/fail() (the caller returns). */
static FILE *open_dataset(const char *name) {
  const char *dir = getenv("PD_DATASETS");
  const char *ci = getenv("CI");
  char path[4096];
  FILE *f = NULL;
  if (dir && snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path)
    f = fopen(path, "r");
  if (!f) {
    if (ci && strcmp(ci, "true") == 0)
      fail_msg("data set %s not found under PD_DATASETS=%s (required in CI)",
               name, dir ? dir : "(unset)");
    else
      fprintf(stderr, "skipping: data set %s not found under PD_DATASETS=%s\n",
              name, dir ? dir : "(unset)");
  }
  return f;
}

#endif
