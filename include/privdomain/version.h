/*
 * libprivdomain — version information.
 *
 * The macros give the version of the headers a program was compiled
 * against; pd_version() and pd_version_string() give the version of the
 * library actually loaded. A program can compare the two at start-up.
 */
#ifndef PRIVDOMAIN_VERSION_H
#define PRIVDOMAIN_VERSION_H

#include <stdint.h>

#include "export.h"

#define PD_VERSION_MAJOR 0
#define PD_VERSION_MINOR 1
#define PD_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH, e.g. 100 for 0.1.0. */
#define PD_VERSION_NUMBER \
  (PD_VERSION_MAJOR * 10000 + PD_VERSION_MINOR * 100 + PD_VERSION_PATCH)
#define PD_VERSION_STRING "0.1.0"

PD_BEGIN_DECLS

/**
 * pd_version - the loaded library's version as PD_VERSION_NUMBER would
 * compute it.
 *
 * Thread safety: safe from any thread. Never fails.
 */
PD_API uint32_t pd_version(void);

/**
 * pd_version_string - the loaded library's version as "MAJOR.MINOR.PATCH".
 *
 * Returns a static, NUL-terminated string owned by the library; do not free.
 * Thread safety: safe from any thread. Never fails.
 */
PD_API const char *pd_version_string(void);

PD_END_DECLS

#endif /* PRIVDOMAIN_VERSION_H */
