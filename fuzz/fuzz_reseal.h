/* Serialised aggregates and partials end in a CRC-32C of every byte
 * before it, so almost every mutation a fuzzer makes is refused at the
 * checksum. The targets also try each input resealed (its last four
 * bytes replaced by the right CRC), which lets mutations reach the
 * payload checks behind it. */
#ifndef PD_FUZZ_RESEAL_H
#define PD_FUZZ_RESEAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/le_bytes.h"

/* A copy of data with its trailing CRC made right (free() it), or NULL
 * when it is too short to carry one or the CRC is right already. */
static inline uint8_t *fuzz_resealed(const uint8_t *data, size_t size) {
  if (size < 20) return NULL;
  uint32_t crc = pd_crc32c(0, data, size - 4);
  uint8_t tail[4];
  pd_le32(tail, crc);
  if (memcmp(tail, data + size - 4, 4) == 0) return NULL;
  uint8_t *copy = malloc(size);
  if (copy == NULL) return NULL;
  memcpy(copy, data, size - 4);
  memcpy(copy + size - 4, tail, 4);
  return copy;
}

/* Run one_input on data, then on data resealed (when that differs). */
static inline void fuzz_also_resealed(const uint8_t *data, size_t size,
                                      void (*one_input)(const uint8_t *,
                                                        size_t)) {
  one_input(data, size);
  uint8_t *resealed = fuzz_resealed(data, size);
  if (resealed != NULL) {
    one_input(resealed, size);
    free(resealed);
  }
}

#endif
