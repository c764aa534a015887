/* The read-ahead thread (see readahead.h): a ring of SLOTS buffers of
 * SLOT_BYTES each; slot j % SLOTS holds bytes [j, j + 1) * SLOT_BYTES
 * of the file. The reader fills slots in order as the consumer frees
 * them; the consumer copies out of filled slots in order. */
#include "readahead.h"

#include <errno.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

#include "direct_io.h"

/* A few megabytes per read keep the disk streaming; eight of them let the
 * consumer fall a moment behind (a long check) without stopping it. */
#define SLOT_BYTES ((size_t)4 << 20)
#define SLOTS 8

struct pd_readahead {
  const pd_allocator *a;
  int dfd, fd;
  int direct; /* 0 once a direct read was refused */
  uint64_t size;
  void *block;
  unsigned char *ring;
  mtx_t mu;
  cnd_t cv;
  /* under mu: */
  uint64_t filled;   /* bytes [0, filled) were read */
  uint64_t consumed; /* bytes [0, consumed) were handed on */
  int done;          /* the reader stopped (end of file, failure or stop) */
  int failed;        /* a read at offset `filled` failed */
  int stop;
  int reader_waits, consumer_waits;
  thrd_t thread;
};

/* Read up to want bytes at off into dst (aligned): the count read (less
 * only at the end of the file), or -1. */
static long long fill(pd_readahead *ra, unsigned char *dst, uint64_t off,
                      size_t want) {
  size_t got = 0;
  while (got < want) {
    ssize_t r;
    if (ra->direct && got % PD_DIRECT_ALIGN == 0) {
      size_t len = want - got;
      len += (PD_DIRECT_ALIGN - len % PD_DIRECT_ALIGN) % PD_DIRECT_ALIGN;
      r = pread(ra->dfd, dst + got, len, (off_t)(off + got));
      if (r < 0 && errno == EINVAL) {
        ra->direct = 0; /* read through the page cache from here on */
        continue;
      }
    } else {
      r = pread(ra->fd, dst + got, want - got, (off_t)(off + got));
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (long long)(got < want ? got : want);
}

static int reader(void *arg) {
  pd_readahead *ra = arg;
  for (uint64_t off = 0; off < ra->size; off += SLOT_BYTES) {
    mtx_lock(&ra->mu);
    /* the slot's previous bytes, SLOTS slots back, must be handed on */
    while (!ra->stop &&
           off + SLOT_BYTES > ra->consumed + (uint64_t)SLOTS * SLOT_BYTES) {
      ra->reader_waits = 1;
      cnd_wait(&ra->cv, &ra->mu);
    }
    ra->reader_waits = 0;
    int stop = ra->stop;
    mtx_unlock(&ra->mu);
    if (stop) break;
    size_t want = ra->size - off < SLOT_BYTES ? (size_t)(ra->size - off)
                                               : SLOT_BYTES;
    unsigned char *dst = ra->ring + (size_t)(off / SLOT_BYTES % SLOTS) *
                                        SLOT_BYTES;
    long long got = fill(ra, dst, off, want);
    mtx_lock(&ra->mu);
    if (got < 0) ra->failed = 1;
    else ra->filled = off + (uint64_t)got;
    if (ra->consumer_waits) cnd_broadcast(&ra->cv);
    mtx_unlock(&ra->mu);
    if (got < 0 || (size_t)got < want) break;
  }
  mtx_lock(&ra->mu);
  ra->done = 1;
  cnd_broadcast(&ra->cv);
  mtx_unlock(&ra->mu);
  return 0;
}

pd_readahead *pd_readahead_begin(const pd_allocator *a, int dfd, int fd,
                                 uint64_t size) {
  pd_readahead *ra = pd_malloc(a, sizeof *ra);
  if (!ra) return NULL;
  memset(ra, 0, sizeof *ra);
  ra->a = a;
  ra->dfd = dfd;
  ra->fd = fd;
  ra->direct = dfd >= 0;
  ra->size = size;
  ra->ring = pd_direct_alloc(a, SLOTS * SLOT_BYTES, &ra->block);
  if (!ra->ring) {
    pd_free(a, ra);
    return NULL;
  }
  int mu = mtx_init(&ra->mu, mtx_plain) == thrd_success;
  int cv = mu && cnd_init(&ra->cv) == thrd_success;
  if (cv && thrd_create(&ra->thread, reader, ra) == thrd_success) return ra;
  if (cv) cnd_destroy(&ra->cv);
  if (mu) mtx_destroy(&ra->mu);
  pd_free(a, ra->block);
  pd_free(a, ra);
  return NULL;
}

int32_t pd_readahead_read(void *user, void *buf, size_t len, size_t *got) {
  pd_readahead *ra = user;
  *got = 0;
  if (len == 0) return 0;
  mtx_lock(&ra->mu);
  while (ra->consumed == ra->filled && !ra->done) {
    ra->consumer_waits = 1;
    cnd_wait(&ra->cv, &ra->mu);
  }
  ra->consumer_waits = 0;
  uint64_t at = ra->consumed, avail = ra->filled - at;
  int failed = ra->failed;
  mtx_unlock(&ra->mu);
  if (avail == 0) return failed ? -1 : 0;
  /* the rest of this slot at most: the next one may not be filled yet */
  size_t in_slot = SLOT_BYTES - (size_t)(at % SLOT_BYTES);
  size_t n = len;
  if (n > avail) n = (size_t)avail;
  if (n > in_slot) n = in_slot;
  memcpy(buf, ra->ring + (size_t)(at / SLOT_BYTES % SLOTS) * SLOT_BYTES +
                  at % SLOT_BYTES,
         n);
  mtx_lock(&ra->mu);
  ra->consumed = at + n;
  if (ra->reader_waits) cnd_broadcast(&ra->cv);
  mtx_unlock(&ra->mu);
  *got = n;
  return 0;
}

void pd_readahead_end(pd_readahead *ra) {
  if (!ra) return;
  mtx_lock(&ra->mu);
  ra->stop = 1;
  cnd_broadcast(&ra->cv);
  mtx_unlock(&ra->mu);
  thrd_join(ra->thread, NULL);
  cnd_destroy(&ra->cv);
  mtx_destroy(&ra->mu);
  pd_free(ra->a, ra->block);
  pd_free(ra->a, ra);
}
