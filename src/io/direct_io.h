/* Large snapshot files written and read around the page cache (Linux's
 * O_DIRECT). A snapshot is written once and read once; sending its
 * gigabytes through the page cache costs a copy into freshly allocated
 * cache pages on the way out and again on the way in, and, on the way
 * out, a writeback that fsync() then waits for. Where the system or file
 * system refuses direct I/O, every function here falls back to ordinary
 * reads and writes with the same results. */
#ifndef PD_IO_DIRECT_IO_H
#define PD_IO_DIRECT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

/* Offsets, lengths and buffer addresses of direct transfers are
 * multiples of this (the largest logical block size in common use). */
#define PD_DIRECT_ALIGN ((size_t)4096)

/* ---- writing --------------------------------------------------------------
 *
 * A pd_write_fn that gathers what it is given in an aligned buffer and
 * writes it out in whole buffers, directly when it can. The last partial
 * buffer goes out through the page cache (direct writes must be whole
 * blocks), so the file has exactly the bytes written. */
typedef struct pd_direct_writer {
  int fd;
  int direct;          /* O_DIRECT is set on fd */
  const pd_allocator *a;
  void *block;         /* the allocation holding buf */
  unsigned char *buf;  /* PD_DIRECT_WRITE_BUFFER bytes, aligned */
  size_t len;          /* bytes gathered in buf */
  int err;             /* the errno of the first failed write, or 0 */
} pd_direct_writer;

/* The writer's buffer: large writes keep a disk busy between calls. */
#define PD_DIRECT_WRITE_BUFFER ((size_t)8 << 20)

/* Start writing to fd (open for writing, at offset 0, kept open by the
 * caller) and try to switch it to direct writes. 0, or -1 when the
 * buffer cannot be allocated (nothing to undo). */
int pd_direct_writer_begin(pd_direct_writer *w, const pd_allocator *a,
                           int fd);
/* The pd_write_fn (user = the writer): 0, or -1 once a write failed. */
int32_t pd_direct_writer_write(void *user, const void *data, size_t len);
/* Write what is gathered, switch fd back to ordinary writes and free the
 * buffer. 0, or -1 with errno set when any write failed. */
int pd_direct_writer_end(pd_direct_writer *w);

/* ---- reading ------------------------------------------------------------ */

/* 1 when most of the file's pages seem to be in the page cache (a sample
 * of them is asked about), 0 when most are not; 1 where the system cannot
 * tell, so that such a file is read as it always was. */
int pd_direct_file_cached(int fd, uint64_t size);

/* Ordinary positioned reads of exactly n bytes at file offset pos of fd
 * (retrying short reads and EINTR): 0, -1 when a read fails, -2 when the
 * file ends first. */
int pd_pread_exact(int fd, uint64_t pos, unsigned char *dst, size_t n);

/* A second descriptor on path for direct reads, or -1 when the system or
 * file system does not offer them. */
int pd_direct_open_read(const char *path);

/* Read n bytes at file offset pos of dfd (from pd_direct_open_read) into
 * dst, through `bounce` (PD_DIRECT_ALIGN-aligned, bounce_bytes long, at
 * least 2 * PD_DIRECT_ALIGN, a multiple of it). When a direct read is
 * refused, the rest is read through fd (ordinary reads of the same
 * file). 0, -1 when a read fails, -2 when the file ends first. */
int pd_direct_pread(int dfd, int fd, uint64_t pos, unsigned char *dst,
                    size_t n, unsigned char *bounce, size_t bounce_bytes);

/* An aligned block of `bytes` (a multiple of PD_DIRECT_ALIGN) from a:
 * the aligned address, with *block to give back to pd_free; NULL when
 * out of memory. */
unsigned char *pd_direct_alloc(const pd_allocator *a, size_t bytes,
                               void **block);

#endif
