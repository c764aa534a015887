/* What a fuzz target does when an invariant breaks: report it on stderr
 * and abort, so that libFuzzer (and the corpus replay test) records the
 * input as a crash. Fuzz targets are front ends, not library code: they
 * may print and abort. */
#ifndef PD_FUZZ_CHECK_H
#define PD_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
              #cond);                                                     \
      abort();                                                            \
    }                                                                     \
  } while (0)

#endif
