/* Reading one large stretch of a snapshot file on several threads, and
 * the checksum arithmetic that lets each thread sum its own part. */
#ifndef PD_IO_SNAPSHOT_PREAD_H
#define PD_IO_SNAPSHOT_PREAD_H

#include <stddef.h>
#include <stdint.h>

#include "persist_internal.h"

/* The CRC-32C of a || b from crc_a = pd_crc32c(0, a), crc_b =
 * pd_crc32c(0, b) and the length of b. */
uint32_t pd_snap_crc32c_combine(uint32_t crc_a, uint32_t crc_b,
                                uint64_t len_b);

/* Read the n bytes at file offset pos of fd into dst with positioned
 * reads on up to `threads` threads (in chunks of a few megabytes, so the
 * kernel's copying and page zeroing are shared out too; chunks are at
 * least chunk_min bytes, at most 1024 of them), and continue
 * *crc (a pd_crc32c value) over them. 0 on success; -1 when a read fails;
 * -2 when the file ends first. The first failing chunk in file order
 * decides, so the answer does not depend on the thread count. Allocates
 * nothing; does not move the file offset. */
int pd_snap_pread(int fd, uint64_t pos, unsigned char *dst, size_t n,
                  int32_t threads, size_t chunk_min, uint32_t *crc);

/* Direct reads for pd_snap_pread_direct(): a descriptor from
 * pd_direct_open_read() and one bounce buffer per worker. */
typedef struct pd_snap_direct {
  int fd;
  unsigned char *bounce; /* workers * bounce_bytes, aligned */
  size_t bounce_bytes;   /* per worker; a multiple of PD_DIRECT_ALIGN */
  int32_t workers;
} pd_snap_direct;

/* pd_snap_pread() reading around the page cache through d (on at most
 * d->workers threads); the same bytes, checksum and outcome. */
int pd_snap_pread_direct(int fd, const pd_snap_direct *d, uint64_t pos,
                         unsigned char *dst, size_t n, int32_t threads,
                         size_t chunk_min, uint32_t *crc);

/* Sections of a snapshot file at least this long are read with
 * pd_snap_pread() when the load may use several threads (below it,
 * starting threads costs more than it saves). */
#define PD_SNAP_PREAD_FROM ((size_t)32 << 20)

/* pd_snap_load_path() with another threshold, for tests that cannot
 * afford 32 MB sections. */
pd_status pd_snap_load_path_pread(const char *path,
                                  const pd_persist_options *o,
                                  pd_store **out, pd_snap_info *info,
                                  pd_errbuf *err, size_t pread_from);
/* The same, choosing direct reads of the large sections: -1 when the
 * file is not in the page cache (what pd_snap_load_path does), 0 never,
 * 1 always (where the file system offers them; for tests). */
pd_status pd_snap_load_path_direct(const char *path,
                                   const pd_persist_options *o,
                                   pd_store **out, pd_snap_info *info,
                                   pd_errbuf *err, size_t pread_from,
                                   int direct);

#endif
