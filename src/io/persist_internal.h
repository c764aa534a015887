/* What the persistence modules (snapshot, journal, checks) share inside
 * the io layer. */
#ifndef PD_IO_PERSIST_INTERNAL_H
#define PD_IO_PERSIST_INTERNAL_H

#include <stdint.h>

#include <privdomain/persist.h>

#include "core/error.h"
#include "store/store_internal.h"

/* Validated options (defaults for NULL): PD_OK or PD_E_INVALID. */
pd_status pd_persist_opts(const pd_persist_options *in,
                          pd_persist_options *out, pd_errbuf *err);
/* Copy a failure's message to the caller's errmsg buffer, if any. */
pd_status pd_persist_fail(const pd_persist_options *o, const pd_errbuf *err,
                          pd_status st);

/* ---- snapshots (snapshot_save.c, snapshot_load.c) ---------------------- */

/* Write the snapshot of s (lock held) recording journal generation `gen`
 * and position `pos`. PD_OK, PD_E_IO (write failed), PD_E_NOMEM; the
 * message in s->err. */
pd_status pd_snap_write_locked(pd_store *s, pd_write_fn fn, void *user,
                               uint64_t gen, uint64_t pos);
/* The same to `path`, atomically (temporary file, fsync, rename, fsync of
 * the directory). */
pd_status pd_snap_save_locked(pd_store *s, const char *path, uint64_t gen,
                              uint64_t pos);
/* Snapshots of at least this many bytes are written around the page
 * cache (direct_io.h): the durable save then runs at the disk's speed
 * instead of the page cache's copy and writeback. */
#define PD_SNAP_DIRECT_FROM ((uint64_t)64 << 20)
/* pd_snap_save_locked() with another threshold (tests). */
pd_status pd_snap_save_locked_direct(pd_store *s, const char *path,
                                     uint64_t gen, uint64_t pos,
                                     uint64_t direct_from);

typedef struct pd_snap_info {
  uint64_t generation, position, events;
} pd_snap_info;

/* Read and validate a snapshot into a new store. */
pd_status pd_snap_read(pd_read_fn fn, void *user, const pd_persist_options *o,
                       pd_store **out, pd_snap_info *info, pd_errbuf *err);
pd_status pd_snap_load_path(const char *path, const pd_persist_options *o,
                            pd_store **out, pd_snap_info *info,
                            pd_errbuf *err);

/* ---- the journal (journal.c) -------------------------------------------- */

/* The generation and next position of the journal attached to s (lock
 * held): 1 if s has one, else 0. */
int pd_journal_position(pd_store *s, uint64_t *gen, uint64_t *pos);
/* Sync the attached journal, if any (lock held). 0 or -1 with `why`. */
int pd_journal_sync_locked(pd_store *s, pd_errbuf *why);

/* ---- files (persist_file.c) ---------------------------------------------- */

/* Write all n bytes to fd (retrying short writes and EINTR): 0 or -1. */
int pd_pf_write_all(int fd, const void *buf, size_t n);
/* Read up to n bytes (retrying): the count, or -1 on error. */
long long pd_pf_read_full(int fd, void *buf, size_t n);
/* fsync the directory holding `path`: 0 or -1. */
int pd_pf_sync_dir(const char *path);
/* `path` with `suffix` appended, allocated with a (free with pd_free). */
char *pd_pf_path_with(const pd_allocator *a, const char *path,
                      const char *suffix);
/* The pd_write_fn over a file descriptor (user = int *fd). */
int32_t pd_pf_fd_writer(void *user, const void *buf, size_t len);
/* The pd_read_fn over a file descriptor (user = int *fd). */
int32_t pd_pf_fd_reader(void *user, void *buf, size_t len, size_t *got);

#endif
