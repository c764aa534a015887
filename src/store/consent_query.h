/* The consent state of one user, for the metrics layer (contact checks,
 * follow-up plans). Store lock held; `root` canonical and not erased. */
#ifndef PD_STORE_CONSENT_QUERY_H
#define PD_STORE_CONSENT_QUERY_H

#include <stdint.h>

#include "store_internal.h"

/* 1 if `purpose` (a PD_CONSENT_*) is granted at as_of (the default when
 * nothing is recorded), 0 if withdrawn; *since (may be NULL) receives the
 * time of the deciding event, -1 for the default. */
int32_t pd_st_consent_at(const pd_store *s, uint32_t root, int32_t purpose,
                         uint32_t as_of, int64_t *since);

#endif
