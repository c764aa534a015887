/* Little-endian encoding for every stable byte format (snapshots, journal,
 * serialised aggregates): a growable output buffer and a bounds-checked
 * input cursor. Every multi-byte value of those formats goes through
 * these, never through a struct. */
#ifndef PD_CORE_LE_BYTES_H
#define PD_CORE_LE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

static inline void pd_le32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}
static inline void pd_le64(unsigned char *p, uint64_t v) {
  pd_le32(p, (uint32_t)v);
  pd_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t pd_rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline uint64_t pd_rd64(const unsigned char *p) {
  return (uint64_t)pd_rd32(p) | (uint64_t)pd_rd32(p + 4) << 32;
}

/* ---- output buffer: a failed growth sets `failed` and later puts are
 * ignored, so a section is written without checking every call. */
typedef struct pd_obuf {
  const pd_allocator *a;
  unsigned char *p;
  size_t len, cap;
  int failed;
} pd_obuf;

static inline unsigned char *pd_obuf_room(pd_obuf *b, size_t n) {
  if (b->failed) return NULL;
  if (n > b->cap - b->len) {
    size_t need = b->len + n;
    if (need < b->len) {
      b->failed = 1;
      return NULL;
    }
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    unsigned char *q = pd_realloc_array(b->a, b->p, ncap, 1);
    if (!q) {
      b->failed = 1;
      return NULL;
    }
    b->p = q;
    b->cap = ncap;
  }
  unsigned char *r = b->p + b->len;
  b->len += n;
  return r;
}
static inline void pd_put8(pd_obuf *b, uint8_t v) {
  unsigned char *p = pd_obuf_room(b, 1);
  if (p) *p = v;
}
static inline void pd_put16(pd_obuf *b, uint16_t v) {
  unsigned char *p = pd_obuf_room(b, 2);
  if (p) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
  }
}
static inline void pd_put32(pd_obuf *b, uint32_t v) {
  unsigned char *p = pd_obuf_room(b, 4);
  if (p) pd_le32(p, v);
}
static inline void pd_put64(pd_obuf *b, uint64_t v) {
  unsigned char *p = pd_obuf_room(b, 8);
  if (p) pd_le64(p, v);
}
static inline void pd_putbytes(pd_obuf *b, const void *d, size_t n) {
  unsigned char *p = pd_obuf_room(b, n);
  if (p && n) memcpy(p, d, n);
}

/* ---- input cursor: a read past the end sets `bad` and yields zeros. */
typedef struct pd_ibuf {
  const unsigned char *p;
  size_t len, pos;
  int bad;
} pd_ibuf;

static inline size_t pd_ileft(const pd_ibuf *b) { return b->len - b->pos; }
static inline const unsigned char *pd_iget(pd_ibuf *b, size_t n) {
  if (b->bad || n > b->len - b->pos) {
    b->bad = 1;
    return NULL;
  }
  const unsigned char *r = b->p + b->pos;
  b->pos += n;
  return r;
}
static inline uint8_t pd_get8(pd_ibuf *b) {
  const unsigned char *p = pd_iget(b, 1);
  return p ? p[0] : 0;
}
static inline uint16_t pd_get16(pd_ibuf *b) {
  const unsigned char *p = pd_iget(b, 2);
  return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}
static inline uint32_t pd_get32(pd_ibuf *b) {
  const unsigned char *p = pd_iget(b, 4);
  return p ? pd_rd32(p) : 0;
}
static inline uint64_t pd_get64(pd_ibuf *b) {
  const unsigned char *p = pd_iget(b, 8);
  return p ? pd_rd64(p) : 0;
}

#endif
