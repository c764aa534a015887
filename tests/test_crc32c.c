/* Specification of CRC-32C: the standard check values, incremental
 * computation, and the hardware path agreeing with the portable one on
 * every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/crc32c.h"

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void check_values_match_the_standard_on_both_paths(void **state) {
  (void)state;
  /* RFC 3720 B.4 and the usual "123456789" check value. */
  unsigned char zeros[32], ones[32], inc[32];
  for (int i = 0; i < 32; i++) {
    zeros[i] = 0;
    ones[i] = 0xFF;
    inc[i] = (unsigned char)i;
  }
  assert_int_equal(pd_crc32c(0, "123456789", 9), 0xE3069283u);
  assert_int_equal(pd_crc32c_portable(0, "123456789", 9), 0xE3069283u);
  assert_int_equal(pd_crc32c(0, zeros, 32), 0x8A9136AAu);
  assert_int_equal(pd_crc32c_portable(0, zeros, 32), 0x8A9136AAu);
  assert_int_equal(pd_crc32c(0, ones, 32), 0x62A8AB43u);
  assert_int_equal(pd_crc32c_portable(0, ones, 32), 0x62A8AB43u);
  assert_int_equal(pd_crc32c(0, inc, 32), 0x46DD794Eu);
  assert_int_equal(pd_crc32c_portable(0, inc, 32), 0x46DD794Eu);
}

static void empty_input_leaves_the_crc_unchanged(void **state) {
  (void)state;
  assert_int_equal(pd_crc32c(0, "", 0), 0);
  assert_int_equal(pd_crc32c(0x12345678u, NULL, 0), 0x12345678u);
  assert_int_equal(pd_crc32c_portable(0x12345678u, NULL, 0), 0x12345678u);
}

static void fast_path_equals_portable_path_for_all_lengths_and_offsets(
    void **state) {
  (void)state;
  enum { MAX = 4096 };
  static unsigned char buf[MAX + 16];
  uint64_t s = 0x9E3779B97F4A7C15u;
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (unsigned char)rng_next(&s);
  for (size_t off = 0; off < 8; off++)
    for (size_t len = 0; len <= MAX; len++) {
      uint32_t seed = (uint32_t)(len * 2654435761u);
      assert_int_equal(pd_crc32c(seed, buf + off, len),
                       pd_crc32c_portable(seed, buf + off, len));
    }
}

static void incremental_equals_one_shot(void **state) {
  (void)state;
  static unsigned char buf[1000];
  uint64_t s = 42;
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (unsigned char)rng_next(&s);
  uint32_t one = pd_crc32c(0, buf, sizeof buf);
  for (size_t cut = 0; cut <= sizeof buf; cut += 7) {
    assert_int_equal(pd_crc32c(pd_crc32c(0, buf, cut), buf + cut,
                               sizeof buf - cut),
                     one);
    assert_int_equal(pd_crc32c_portable(pd_crc32c(0, buf, cut), buf + cut,
                                        sizeof buf - cut),
                     one);
  }
}

static void a_flipped_bit_changes_the_crc(void **state) {
  (void)state;
  unsigned char buf[64] = {0};
  uint32_t base = pd_crc32c(0, buf, sizeof buf);
  for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
    buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    assert_true(pd_crc32c(0, buf, sizeof buf) != base);
    buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
  }
}

static void hardware_is_used_where_the_cpu_has_it(void **state) {
  (void)state;
  int hw = pd_crc32c_hardware();
  assert_true(hw == 0 || hw == 1);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  assert_int_equal(hw, __builtin_cpu_supports("sse4.2") != 0);
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(check_values_match_the_standard_on_both_paths),
      cmocka_unit_test(empty_input_leaves_the_crc_unchanged),
      cmocka_unit_test(
          fast_path_equals_portable_path_for_all_lengths_and_offsets),
      cmocka_unit_test(incremental_equals_one_shot),
      cmocka_unit_test(a_flipped_bit_changes_the_crc),
      cmocka_unit_test(hardware_is_used_where_the_cpu_has_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
