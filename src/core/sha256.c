/* SHA-256 per FIPS 180-4 section 6.2, HMAC per RFC 2104. Written for
 * clarity over speed: identity keys are short, so one or two compressions
 * per call dominate and a table-free loop is plenty. */
#include "sha256.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu,
    0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u,
    0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u,
    0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
    0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u,
    0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u,
    0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u, 0x1e376c08u,
    0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu,
    0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

static inline uint32_t rotr(uint32_t x, unsigned n) {
  return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
  uint32_t e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
                  ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) +
                  ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

void pd_sha256_init(pd_sha256_ctx *c) {
  static const uint32_t iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u,
                                 0xa54ff53au, 0x510e527fu, 0x9b05688cu,
                                 0x1f83d9abu, 0x5be0cd19u};
  memcpy(c->h, iv, sizeof iv);
  c->bytes = 0;
  c->fill = 0;
}

void pd_sha256_update(pd_sha256_ctx *c, const void *data, size_t len) {
  const uint8_t *p = data;
  c->bytes += len;
  if (c->fill > 0) {
    size_t take = PD_SHA256_BLOCK - c->fill;
    if (take > len) take = len;
    memcpy(c->buf + c->fill, p, take);
    c->fill += take;
    p += take;
    len -= take;
    if (c->fill < PD_SHA256_BLOCK) return;
    compress(c->h, c->buf);
    c->fill = 0;
  }
  for (; len >= PD_SHA256_BLOCK; p += PD_SHA256_BLOCK, len -= PD_SHA256_BLOCK)
    compress(c->h, p);
  if (len > 0) {
    memcpy(c->buf, p, len);
    c->fill = len;
  }
}

void pd_sha256_final(pd_sha256_ctx *c, uint8_t out[PD_SHA256_SIZE]) {
  uint64_t bits = c->bytes * 8;
  uint8_t pad[PD_SHA256_BLOCK + 8] = {0x80};
  /* Pad to 56 mod 64, then the 64-bit big-endian bit length. */
  size_t n = (c->fill < 56 ? 56 : 120) - c->fill;
  for (int i = 0; i < 8; i++)
    pad[n + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
  pd_sha256_update(c, pad, n + 8);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(c->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)c->h[i];
  }
  memset(c, 0, sizeof *c);
}

void pd_sha256(const void *data, size_t len, uint8_t out[PD_SHA256_SIZE]) {
  pd_sha256_ctx c;
  pd_sha256_init(&c);
  pd_sha256_update(&c, data, len);
  pd_sha256_final(&c, out);
}

void pd_hmac_sha256_init(pd_hmac_sha256_key *k, const void *key,
                         size_t key_len) {
  uint8_t block[PD_SHA256_BLOCK] = {0};
  /* Keys longer than a block are hashed first (RFC 2104 section 2). */
  if (key_len > PD_SHA256_BLOCK)
    pd_sha256(key, key_len, block);
  else if (key_len > 0)
    memcpy(block, key, key_len);
  uint8_t pad[PD_SHA256_BLOCK];
  for (int i = 0; i < PD_SHA256_BLOCK; i++) pad[i] = block[i] ^ 0x36;
  pd_sha256_init(&k->inner);
  pd_sha256_update(&k->inner, pad, sizeof pad);
  for (int i = 0; i < PD_SHA256_BLOCK; i++) pad[i] = block[i] ^ 0x5c;
  pd_sha256_init(&k->outer);
  pd_sha256_update(&k->outer, pad, sizeof pad);
  memset(block, 0, sizeof block);
  memset(pad, 0, sizeof pad);
}

void pd_hmac_sha256_parts(const pd_hmac_sha256_key *k, const void *const *parts,
                          const size_t *lens, size_t n,
                          uint8_t out[PD_SHA256_SIZE]) {
  pd_sha256_ctx c = k->inner;
  for (size_t i = 0; i < n; i++) pd_sha256_update(&c, parts[i], lens[i]);
  uint8_t inner[PD_SHA256_SIZE];
  pd_sha256_final(&c, inner);
  c = k->outer;
  pd_sha256_update(&c, inner, sizeof inner);
  pd_sha256_final(&c, out);
  memset(inner, 0, sizeof inner);
}

void pd_hmac_sha256(const void *key, size_t key_len, const void *data,
                    size_t len, uint8_t out[PD_SHA256_SIZE]) {
  pd_hmac_sha256_key k;
  pd_hmac_sha256_init(&k, key, key_len);
  pd_hmac_sha256_parts(&k, &data, &len, 1, out);
  pd_hmac_sha256_wipe(&k);
}

void pd_hmac_sha256_wipe(pd_hmac_sha256_key *k) {
  /* volatile so the compiler cannot drop the wipe of a dying object */
  volatile uint8_t *p = (volatile uint8_t *)k;
  for (size_t i = 0; i < sizeof *k; i++) p[i] = 0;
}
