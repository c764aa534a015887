/* Reading a file from start to end on a thread of its own, ahead of the
 * thread that uses the bytes.
 *
 * Why: a snapshot load's large arrays are read around the page cache,
 * and a direct read keeps its thread waiting on the disk. When the
 * threads that wait are the ones that copy, check and index, the disk
 * idles while they compute and they idle while it reads. Here one thread
 * does nothing but wait on the disk, filling a small ring of aligned
 * buffers in file order; the consumer takes bytes from the ring as a
 * pd_read_fn, so every byte of the file passes it exactly once, in
 * order, and the disk stays busy while the consumer computes. */
#ifndef PD_IO_READAHEAD_H
#define PD_IO_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

typedef struct pd_readahead pd_readahead;

/* Start reading the file of dfd (from pd_direct_open_read; fd is an
 * ordinary descriptor of the same file, read instead where a direct read
 * is refused) from offset 0 to `size` bytes on a new thread. NULL when
 * the ring cannot be allocated or the thread cannot be started (nothing
 * to undo: read the file another way). Neither descriptor's offset is
 * used or moved; both must stay open until pd_readahead_end(). */
pd_readahead *pd_readahead_begin(const pd_allocator *a, int dfd, int fd,
                                 uint64_t size);

/* The pd_read_fn over the file (user = the pd_readahead): up to len of
 * the next bytes into buf, waiting for the disk when none are read yet;
 * *got = 0 at the end of the file. -1 once a read has failed. Only one
 * thread may consume. */
int32_t pd_readahead_read(void *user, void *buf, size_t len, size_t *got);

/* Stop the reading thread (wherever it is), join it and free. NULL is a
 * no-op. */
void pd_readahead_end(pd_readahead *ra);

#endif
