/* The journal file format (docs/FORMAT.md): a 36-byte header, then
 * records of [u32 length][u32 CRC-32C of the length bytes and payload]
 * [payload = one encoded mutation, mutation_codec.h]. Record i (from 0)
 * holds the change at position start + i. */
#ifndef PD_IO_JOURNAL_FORMAT_H
#define PD_IO_JOURNAL_FORMAT_H

#include <stdint.h>

#include "core/alloc.h"
#include "core/error.h"

#define PD_JRNL_MAGIC "\x89PDJRNL\n"
#define PD_JRNL_VERSION 1u
#define PD_JRNL_HEADER_BYTES 36u
#define PD_JRNL_RECORD_HEADER 8u

/* What a scan of a journal found. */
typedef struct pd_jscan {
  uint64_t generation, start;
  uint64_t records;   /* intact records from the start */
  uint64_t good_end;  /* offset just after the last of them */
  uint64_t file_size;
  int damaged_middle; /* an intact record follows the damage */
} pd_jscan;

/* Called for each intact record in order (position = start + index);
 * return PD_OK to go on, anything else stops the scan with that status. */
typedef pd_status (*pd_jrecord_fn)(void *ctx, uint64_t position,
                                   const unsigned char *payload, size_t len);

/* Scan the journal open on fd from offset 0. PD_OK (also for a torn or
 * damaged tail: see out), PD_E_CORRUPT (bad header, or a record that is
 * intact but cannot be decoded), PD_E_VERSION, PD_E_IO, PD_E_NOMEM, or the
 * callback's status. */
pd_status pd_jscan_fd(int fd, const pd_allocator *a, pd_jrecord_fn fn,
                      void *ctx, pd_jscan *out, pd_errbuf *err);

#endif
