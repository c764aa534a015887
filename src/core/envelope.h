/* The envelope around every serialised aggregate (customer-summary
 * partials, cohort tables, funnel counts, quantile sketches): what lets a
 * partial computed on one machine be checked and merged on another.
 *
 *   offset 0   4 bytes  magic "PDAG"
 *          4   u16      envelope version (PD_ENVELOPE_VERSION)
 *          6   u16      kind of payload (the aggregate's own number)
 *          8   u64      payload length in bytes
 *         16   payload  (little-endian, the kind's documented layout)
 *   16 + len   u32      CRC-32C of every byte before it
 *
 * All integers little-endian (core/le_bytes.h). The layout is part of the
 * stable format described in docs/FORMAT.md; a reader refuses a newer
 * envelope version rather than guess. */
#ifndef PD_CORE_ENVELOPE_H
#define PD_CORE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/le_bytes.h"

#define PD_ENVELOPE_VERSION 1
#define PD_ENVELOPE_HEADER 16
#define PD_ENVELOPE_TRAILER 4

/* Starts an envelope of the given kind at the end of `b`; returns the
 * offset to pass to pd_envelope_close(). Write the payload with pd_put*. */
size_t pd_envelope_open(pd_obuf *b, uint16_t kind);

/* Fills in the payload length and appends the CRC. Afterwards b->failed
 * tells whether any write of the envelope failed (out of memory). */
void pd_envelope_close(pd_obuf *b, size_t start);

/* Why an envelope was refused. */
typedef enum pd_envelope_check {
  PD_ENVELOPE_OK = 0,
  PD_ENVELOPE_TRUNCATED, /* shorter than its header says */
  PD_ENVELOPE_BAD_MAGIC,
  PD_ENVELOPE_NEWER,     /* a version this build does not know */
  PD_ENVELOPE_WRONG_KIND,
  PD_ENVELOPE_BAD_CRC,
  PD_ENVELOPE_TRAILING   /* bytes after the envelope */
} pd_envelope_check;

/* Checks data[0, len) as exactly one envelope of `kind` and, when it is
 * good, points `payload` at its payload (nothing is copied). */
pd_envelope_check pd_envelope_read(const void *data, size_t len, uint16_t kind,
                                   pd_ibuf *payload);

/* A sentence for an error message. */
const char *pd_envelope_check_text(pd_envelope_check c);

#endif
