/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by
 * iSCSI and ext4; the checksum of snapshot sections and journal records.
 * Computed with the CPU's CRC-32C instruction where there is one (x86-64
 * SSE4.2, detected at run time; ARMv8 CRC when the compiler targets it),
 * else with portable slicing-by-8 tables; both give the same values. */
#ifndef PD_CORE_CRC32C_H
#define PD_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; crc32c("123456789") == 0xE3069283.
 * Thread-safe. */
uint32_t pd_crc32c(uint32_t crc, const void *data, size_t len);

/* The portable table-driven path alone (what pd_crc32c uses without a
 * CRC instruction); for tests and benchmarks. */
uint32_t pd_crc32c_portable(uint32_t crc, const void *data, size_t len);

/* 1 if pd_crc32c uses a CPU instruction on this machine, else 0. */
int pd_crc32c_hardware(void);

#endif
