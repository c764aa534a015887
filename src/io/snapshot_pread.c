/* pd_snap_pread: a large section read by chunks that threads take in any
 * order; each chunk keeps its own checksum and outcome, combined in file
 * order on the calling thread. */
#include "snapshot_pread.h"

#include "core/crc32c.h"
#include "core/parallel.h"
#include "direct_io.h"

/* ---- CRC-32C of a concatenation ----------------------------------------- */

/* The reflected CRC-32C polynomial. */
#define POLY 0x82F63B78u

/* a * b modulo the polynomial, both as reflected bit strings (the bit
 * for x^0 is the highest). */
static uint32_t mul_mod(uint32_t a, uint32_t b) {
  uint32_t p = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) p ^= b;
    b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
  }
  return p;
}

/* x^(8 len) modulo the polynomial: appending len zero bytes to a message
 * multiplies its (unconditioned) remainder by this. */
static uint32_t shift_for(uint64_t len) {
  uint32_t p = 1u << 31;  /* x^0 */
  uint32_t sq = 1u << 23; /* x^8: one byte */
  for (; len != 0; len >>= 1) {
    if (len & 1) p = mul_mod(sq, p);
    sq = mul_mod(sq, sq);
  }
  return p;
}

/* The conditioning (inverted start and end) cancels out of this form:
 * the CRC of a || b is crc_a moved past len_b bytes, plus crc_b. */
uint32_t pd_snap_crc32c_combine(uint32_t crc_a, uint32_t crc_b,
                                uint64_t len_b) {
  return mul_mod(shift_for(len_b), crc_a) ^ crc_b;
}

/* ---- the read ----------------------------------------------------------- */

/* At most this many chunks (their outcomes live on the stack). */
#define MAX_CHUNKS 1024

typedef struct pread_job {
  int fd;
  const pd_snap_direct *direct; /* or NULL */
  uint64_t pos;
  unsigned char *dst;
  size_t n, chunk;
  uint32_t crc[MAX_CHUNKS];
  int result[MAX_CHUNKS];
} pread_job;

static void read_chunk(void *ctx, size_t c, int32_t worker) {
  pread_job *j = ctx;
  const pd_snap_direct *d = j->direct;
  size_t from = c * j->chunk;
  size_t len = j->n - from < j->chunk ? j->n - from : j->chunk;
  int result =
      d != NULL
          ? pd_direct_pread(d->fd, j->fd, j->pos + from, j->dst + from, len,
                            d->bounce + (size_t)worker * d->bounce_bytes,
                            d->bounce_bytes)
          : pd_pread_exact(j->fd, j->pos + from, j->dst + from, len);
  j->result[c] = result;
  j->crc[c] = result == 0 ? pd_crc32c(0, j->dst + from, len) : 0;
}

int pd_snap_pread(int fd, uint64_t pos, unsigned char *dst, size_t n,
                  int32_t threads, size_t chunk_min, uint32_t *crc) {
  return pd_snap_pread_direct(fd, NULL, pos, dst, n, threads, chunk_min, crc);
}

int pd_snap_pread_direct(int fd, const pd_snap_direct *d, uint64_t pos,
                         unsigned char *dst, size_t n, int32_t threads,
                         size_t chunk_min, uint32_t *crc) {
  if (n == 0) return 0;
  if (d != NULL && threads > d->workers) threads = d->workers;
  pread_job j;
  j.fd = fd;
  j.direct = d;
  j.pos = pos;
  j.dst = dst;
  j.n = n;
  j.chunk = n / MAX_CHUNKS + 1;
  if (j.chunk < chunk_min) j.chunk = chunk_min;
  size_t chunks = (n + j.chunk - 1) / j.chunk;
  pd_parallel_for_workers(threads, chunks, read_chunk, &j);
  uint32_t sum = *crc;
  for (size_t c = 0; c < chunks; c++) {
    if (j.result[c] != 0) return j.result[c];
    size_t len = c + 1 < chunks ? j.chunk : n - c * j.chunk;
    sum = pd_snap_crc32c_combine(sum, j.crc[c], len);
  }
  *crc = sum;
  return 0;
}
