/* Reading a whole file into memory through a handle's allocator. */
#ifndef PD_IO_FILE_H
#define PD_IO_FILE_H

#include <stddef.h>

#include <privdomain/status.h>

#include "core/alloc.h"
#include "core/error.h"

/* Reads `path` into a new buffer (*data, *len; free with pd_free). On
 * failure returns PD_E_IO or PD_E_NOMEM with a message in `why`. */
pd_status pd_io_read_file(const pd_allocator *a, const char *path,
                          char **data, size_t *len, pd_errbuf *why);

#endif
