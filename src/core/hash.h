/* 64-bit hashing for hash tables and caller-visible event ids. Not
 * cryptographic; see src/core/hmac (issue 5) for keyed hashing. */
#ifndef PD_CORE_HASH_H
#define PD_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A bijective 64-bit mixer: spreads every input bit over the output. */
static inline uint64_t pd_mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/* Hash of len bytes, seeded. Stable across platforms and versions (it may
 * be persisted), independent of alignment. */
uint64_t pd_hash_bytes(const void *data, size_t len, uint64_t seed);

#endif
