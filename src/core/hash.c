#include "hash.h"

#include <string.h>

static uint64_t load_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

uint64_t pd_hash_bytes(const void *data, size_t len, uint64_t seed) {
  const unsigned char *p = data;
  /* Each 8-byte block is folded into the state through the mixer; the
   * length is mixed in last so "a" and "a\0" differ. */
  uint64_t h = pd_mix64(seed ^ 0x9e3779b97f4a7c15ULL);
  while (len >= 8) {
    h = pd_mix64(h ^ load_le64(p)) + 0x632be59bd9b4e019ULL;
    p += 8;
    len -= 8;
  }
  if (len) {
    unsigned char tail[8] = {0};
    memcpy(tail, p, len);
    h = pd_mix64(h ^ load_le64(tail)) + 0x632be59bd9b4e019ULL;
  }
  return pd_mix64(h ^ (uint64_t)len * 0xff51afd7ed558ccdULL);
}
