/* SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104): the keyed hash the
 * store uses to keep identity keys pseudonymised (PIPL). Incremental and
 * one-shot forms; no allocation, reentrant. */
#ifndef PD_CORE_SHA256_H
#define PD_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PD_SHA256_SIZE 32
#define PD_SHA256_BLOCK 64

typedef struct pd_sha256_ctx {
  uint32_t h[8];
  uint64_t bytes; /* message length so far */
  uint8_t buf[PD_SHA256_BLOCK];
  size_t fill; /* bytes waiting in buf */
} pd_sha256_ctx;

void pd_sha256_init(pd_sha256_ctx *c);
void pd_sha256_update(pd_sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void pd_sha256_final(pd_sha256_ctx *c, uint8_t out[PD_SHA256_SIZE]);
void pd_sha256(const void *data, size_t len, uint8_t out[PD_SHA256_SIZE]);

/* HMAC-SHA-256 keyed once, then used for many messages: the inner and
 * outer states after the padded key are kept, so each message costs two
 * compressions fewer than keying again. */
typedef struct pd_hmac_sha256_key {
  pd_sha256_ctx inner, outer;
} pd_hmac_sha256_key;

void pd_hmac_sha256_init(pd_hmac_sha256_key *k, const void *key,
                         size_t key_len);
/* MAC of the concatenation of n parts (parts[i], lens[i]) under key k;
 * k itself is not changed, so one key serves many threads' reads. */
void pd_hmac_sha256_parts(const pd_hmac_sha256_key *k, const void *const *parts,
                          const size_t *lens, size_t n,
                          uint8_t out[PD_SHA256_SIZE]);
void pd_hmac_sha256(const void *key, size_t key_len, const void *data,
                    size_t len, uint8_t out[PD_SHA256_SIZE]);
/* Overwrite keyed state so the key does not linger in memory. */
void pd_hmac_sha256_wipe(pd_hmac_sha256_key *k);

#endif
