/* A handle's last-error message: a fixed buffer formatted without
 * allocation, so reporting out-of-memory can never itself fail. */
#ifndef PD_CORE_ERROR_H
#define PD_CORE_ERROR_H

#include <privdomain/status.h>

#define PD_ERRMSG_MAX 256

typedef struct pd_errbuf {
  char msg[PD_ERRMSG_MAX];
} pd_errbuf;

/* Records `status` with a printf-style message and returns `status`, so
 * error paths read `return pd_err(&h->err, PD_E_RANGE, "...", ...)`. */
pd_status pd_err(pd_errbuf *e, pd_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clears the message (after a successful call nothing stale remains). */
void pd_err_clear(pd_errbuf *e);

#endif
