/*
 * libprivdomain — the conventions every layer shares: the valid range of
 * times and the "NUL-terminated" length marker.
 *
 * Time is int64_t seconds since 1970-01-01T00:00:00Z (UTC) everywhere in
 * the API, the store, the models' summaries and the importers.
 */
#ifndef PRIVDOMAIN_TYPES_H
#define PRIVDOMAIN_TYPES_H

#include <stddef.h>
#include <stdint.h>

/** Earliest accepted time: 1970-01-01T00:00:00Z. */
#define PD_TIME_MIN INT64_C(0)
/** Latest accepted time: 2100-01-01T00:00:00Z (anything later is taken to
 *  be a unit mistake, e.g. milliseconds passed as seconds). */
#define PD_TIME_MAX INT64_C(4102444800)
/** Length value meaning "the string is NUL-terminated". */
#define PD_NTS ((size_t)-1)

#endif /* PRIVDOMAIN_TYPES_H */
