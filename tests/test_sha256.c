/* Specification of SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104) in
 * src/core/sha256.h: the published test vectors, and incremental input
 * giving the one-shot answer whatever the split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/sha256.h"

static void hex(const uint8_t d[PD_SHA256_SIZE], char out[65]) {
  for (int i = 0; i < PD_SHA256_SIZE; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void assert_sha(const void *data, size_t len, const char *want) {
  uint8_t d[PD_SHA256_SIZE];
  char h[65];
  pd_sha256(data, len, d);
  hex(d, h);
  assert_string_equal(h, want);
}

static void assert_hmac(const void *key, size_t key_len, const void *data,
                        size_t len, const char *want) {
  uint8_t d[PD_SHA256_SIZE];
  char h[65];
  pd_hmac_sha256(key, key_len, data, len, d);
  hex(d, h);
  assert_string_equal(h, want);
}

static void sha256_of_abc_is_the_fips_180_4_value(void **state) {
  (void)state;
  assert_sha(
      "abc", 3,
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void sha256_of_the_empty_string_is_the_fips_value(void **state) {
  (void)state;
  assert_sha(
      "", 0,
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void sha256_of_the_448_bit_message_is_the_fips_value(void **state) {
  (void)state;
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  assert_sha(
      m, strlen(m),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void sha256_of_a_million_a_is_the_fips_value(void **state) {
  (void)state;
  char block[1000];
  memset(block, 'a', sizeof block);
  pd_sha256_ctx c;
  pd_sha256_init(&c);
  for (int i = 0; i < 1000; i++) pd_sha256_update(&c, block, sizeof block);
  uint8_t d[PD_SHA256_SIZE];
  char h[65];
  pd_sha256_final(&c, d);
  hex(d, h);
  assert_string_equal(
      h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void incremental_input_gives_the_one_shot_digest_at_every_split(
    void **state) {
  (void)state;
  uint8_t msg[200];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 3);
  for (size_t len = 0; len <= sizeof msg; len += 13) {
    uint8_t one[PD_SHA256_SIZE];
    pd_sha256(msg, len, one);
    for (size_t cut = 0; cut <= len; cut++) {
      pd_sha256_ctx c;
      uint8_t two[PD_SHA256_SIZE];
      pd_sha256_init(&c);
      pd_sha256_update(&c, msg, cut);
      pd_sha256_update(&c, msg + cut, len - cut);
      pd_sha256_final(&c, two);
      assert_memory_equal(one, two, PD_SHA256_SIZE);
    }
  }
}

static void hmac_rfc4231_case_1(void **state) {
  (void)state;
  uint8_t key[20];
  memset(key, 0x0b, sizeof key);
  assert_hmac(
      key, sizeof key, "Hi There", 8,
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void hmac_rfc4231_case_2_key_shorter_than_output(void **state) {
  (void)state;
  const char *d = "what do ya want for nothing?";
  assert_hmac(
      "Jefe", 4, d, strlen(d),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void hmac_rfc4231_case_3(void **state) {
  (void)state;
  uint8_t key[20], data[50];
  memset(key, 0xaa, sizeof key);
  memset(data, 0xdd, sizeof data);
  assert_hmac(
      key, sizeof key, data, sizeof data,
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

static void hmac_rfc4231_case_4(void **state) {
  (void)state;
  uint8_t key[25], data[50];
  for (int i = 0; i < 25; i++) key[i] = (uint8_t)(i + 1);
  memset(data, 0xcd, sizeof data);
  assert_hmac(
      key, sizeof key, data, sizeof data,
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

static void hmac_rfc4231_case_6_key_longer_than_a_block(void **state) {
  (void)state;
  uint8_t key[131];
  memset(key, 0xaa, sizeof key);
  const char *d = "Test Using Larger Than Block-Size Key - Hash Key First";
  assert_hmac(
      key, sizeof key, d, strlen(d),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void hmac_rfc4231_case_7_key_and_data_longer_than_a_block(void **state) {
  (void)state;
  uint8_t key[131];
  memset(key, 0xaa, sizeof key);
  const char *d =
      "This is a test using a larger than block-size key and a larger than "
      "block-size data. The key needs to be hashed before being used by the "
      "HMAC algorithm.";
  assert_hmac(
      key, sizeof key, d, strlen(d),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void hmac_of_parts_equals_hmac_of_their_concatenation(void **state) {
  (void)state;
  pd_hmac_sha256_key k;
  pd_hmac_sha256_init(&k, "Jefe", 4);
  const void *parts[3] = {"what do ya", " want for ", "nothing?"};
  size_t lens[3] = {10, 10, 8};
  uint8_t a[PD_SHA256_SIZE], b[PD_SHA256_SIZE];
  pd_hmac_sha256_parts(&k, parts, lens, 3, a);
  /* The keyed state is reusable: the same MAC a second time. */
  pd_hmac_sha256_parts(&k, parts, lens, 3, b);
  assert_memory_equal(a, b, PD_SHA256_SIZE);
  pd_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, b);
  assert_memory_equal(a, b, PD_SHA256_SIZE);
  pd_hmac_sha256_wipe(&k);
  const uint8_t zero[sizeof k] = {0};
  assert_memory_equal(&k, zero, sizeof k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sha256_of_abc_is_the_fips_180_4_value),
      cmocka_unit_test(sha256_of_the_empty_string_is_the_fips_value),
      cmocka_unit_test(sha256_of_the_448_bit_message_is_the_fips_value),
      cmocka_unit_test(sha256_of_a_million_a_is_the_fips_value),
      cmocka_unit_test(
          incremental_input_gives_the_one_shot_digest_at_every_split),
      cmocka_unit_test(hmac_rfc4231_case_1),
      cmocka_unit_test(hmac_rfc4231_case_2_key_shorter_than_output),
      cmocka_unit_test(hmac_rfc4231_case_3),
      cmocka_unit_test(hmac_rfc4231_case_4),
      cmocka_unit_test(hmac_rfc4231_case_6_key_longer_than_a_block),
      cmocka_unit_test(hmac_rfc4231_case_7_key_and_data_longer_than_a_block),
      cmocka_unit_test(hmac_of_parts_equals_hmac_of_their_concatenation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
