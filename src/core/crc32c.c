#include "crc32c.h"

#include <string.h>
#include <threads.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PD_CRC_X86 1
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PD_CRC_ARM 1
#include <arm_acle.h>
#endif

/* Slicing-by-8 tables, built once per process. */
static uint32_t table[8][256];
static once_flag table_once = ONCE_FLAG_INIT;

static void build_tables(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
}

uint32_t pd_crc32c_portable(uint32_t crc, const void *data, size_t len) {
  call_once(&table_once, build_tables);
  const unsigned char *p = data;
  crc = ~crc;
  while (len >= 8) {
    uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                         (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    crc = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^
          table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
          table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
    p += 8;
    len -= 8;
  }
  while (len--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

#if defined(PD_CRC_X86)
/* The SSE4.2 instruction consumes 8 bytes per step. One dependent stream
 * already runs at several GB/s, far above what snapshots and the journal
 * need, so there is no interleaving of streams to recombine. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc,
                                                          const void *data,
                                                          size_t len) {
  const unsigned char *p = data;
  uint64_t c = ~crc;
  while (len >= 32) {
    uint64_t a, b, d, e;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    memcpy(&d, p + 16, 8);
    memcpy(&e, p + 24, 8);
    c = __builtin_ia32_crc32di(c, a);
    c = __builtin_ia32_crc32di(c, b);
    c = __builtin_ia32_crc32di(c, d);
    c = __builtin_ia32_crc32di(c, e);
    p += 32;
    len -= 32;
  }
  while (len >= 8) {
    uint64_t a;
    memcpy(&a, p, 8);
    c = __builtin_ia32_crc32di(c, a);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (len--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}

static int use_hw;
static once_flag hw_once = ONCE_FLAG_INIT;
static void detect(void) {
  __builtin_cpu_init();
  use_hw = __builtin_cpu_supports("sse4.2") != 0;
}

int pd_crc32c_hardware(void) {
  call_once(&hw_once, detect);
  return use_hw;
}

uint32_t pd_crc32c(uint32_t crc, const void *data, size_t len) {
  return pd_crc32c_hardware() ? crc_hw(crc, data, len)
                              : pd_crc32c_portable(crc, data, len);
}

#elif defined(PD_CRC_ARM)
int pd_crc32c_hardware(void) { return 1; }

uint32_t pd_crc32c(uint32_t crc, const void *data, size_t len) {
  const unsigned char *p = data;
  uint32_t c = ~crc;
  while (len >= 8) {
    uint64_t a;
    memcpy(&a, p, 8);
    c = __crc32cd(c, a);
    p += 8;
    len -= 8;
  }
  while (len--) c = __crc32cb(c, *p++);
  return ~c;
}

#else
int pd_crc32c_hardware(void) { return 0; }

uint32_t pd_crc32c(uint32_t crc, const void *data, size_t len) {
  return pd_crc32c_portable(crc, data, len);
}
#endif
