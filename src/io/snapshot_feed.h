/* Building the event-id index while a snapshot's columns are still being
 * read.
 *
 * Why: after the read, the index build was the larger half of a load's
 * CPU (10M users: 10 s of 15), and the read itself mostly waits on the
 * disk. A file read ahead (readahead.h) declares in its section headers
 * how many events it holds, so the index can be sized before the first
 * column arrives; threads of their own, one per lane of bucket ranges,
 * then place each column's ids as the reading thread copies them in
 * (event_index.h's fed build, which gives the same buckets as the build
 * after the read). If the columns
 * read turn out not to be the ones declared, the fed build is dropped
 * and the index is built after the read as before. */
#ifndef PD_IO_SNAPSHOT_FEED_H
#define PD_IO_SNAPSHOT_FEED_H

#include <stdint.h>

#include "store/event_index.h"

/* The events a snapshot file declares, summed over its event sections'
 * headers (read with direct reads through dfd where it is >= 0, else
 * through fd; neither offset moves), or UINT64_MAX when the headers do
 * not chain up to the end marker within `size` bytes or a count does not
 * fill its section (so the count is at most size / 8). Only a hint for
 * sizing: nothing read here is trusted. */
uint64_t pd_snap_declared_events(const pd_allocator *a, int dfd, int fd,
                                 uint64_t size);

typedef struct pd_snap_feed pd_snap_feed;

/* Begin a fed index build for `events` events of store s and start its
 * threads: one per lane, `lanes` of them (fewer for a small index; see
 * event_index.h). NULL when that cannot be done (out of memory, a thread
 * that would not start): build the index after the read. */
pd_snap_feed *pd_snap_feed_begin(pd_store *s, uint64_t events,
                                 int32_t lanes);

/* The reading thread: kind k's event ids are about to be read into eid
 * (n of them, the array final: never moved or freed before
 * pd_snap_feed_stop). Kinds are announced in increasing order. */
void pd_snap_feed_column(pd_snap_feed *f, int k, const uint64_t *eid,
                         uint32_t n);
/* The reading thread: the first `ready` ids of the column last announced
 * are in memory. */
void pd_snap_feed_ready(pd_snap_feed *f, uint32_t ready);

/* Nothing more will be announced: the threads place what they have, and
 * the first lane's then runs after(ctx) unless stopped first (after may
 * be NULL); they end. */
void pd_snap_feed_close(pd_snap_feed *f, void (*after)(void *ctx),
                        void *ctx);

/* Join the threads and free. When `out` is not NULL and the ids placed
 * are exactly the store's columns, *out receives the build (to finish
 * with pd_st_index_build_end or _abandon) and 1 is returned; otherwise
 * the build is abandoned and 0 returned. Before any announced column is
 * freed, call this (with out NULL it also stops the threads at once).
 * NULL is a no-op returning 0. */
int pd_snap_feed_stop(pd_snap_feed *f, pd_st_index_build *out);

#endif
