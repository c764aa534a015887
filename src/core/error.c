#include "error.h"

#include <stdarg.h>
#include <stdio.h>

pd_status pd_err(pd_errbuf *e, pd_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return status;
}

void pd_err_clear(pd_errbuf *e) { e->msg[0] = '\0'; }
