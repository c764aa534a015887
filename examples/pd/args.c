#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/fit.h>

int pd_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("pd: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return code;
}

int pd_args_want_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
      return 1;
  return 0;
}

int pd_args_parse(int argc, char **argv, const pd_opt *opts, size_t n_opts,
                  const char **positional, size_t max_positional,
                  size_t *n_positional) {
  size_t np = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] == '\0') {
      if (np >= max_positional)
        return pd_fail(2, "%s: unexpected argument '%s'", argv[0], a);
      positional[np++] = a;
      continue;
    }
    const pd_opt *o = NULL;
    for (size_t k = 0; k < n_opts; k++)
      if (strcmp(opts[k].name, a) == 0) o = &opts[k];
    if (!o) return pd_fail(2, "%s: unknown option '%s'", argv[0], a);
    if (o->present) *o->present = 1;
    if (o->takes_value) {
      if (i + 1 >= argc)
        return pd_fail(2, "%s: option %s needs a value", argv[0], a);
      *o->value = argv[++i];
    }
  }
  *n_positional = np;
  return 0;
}

int pd_args_parse_model(int argc, char **argv, const pd_opt *opts,
                        size_t n_opts, const char *no_model, int32_t *model,
                        const char **name) {
  const char *pos[1];
  size_t np;
  int rc = pd_args_parse(argc, argv, opts, n_opts, pos, 1, &np);
  if (rc) return rc;
  if (np != 1) return pd_fail(2, "%s", no_model);
  *model = pd_model_from_name(pos[0]);
  *name = pos[0];
  return 0;
}

int pd_arg_double(const char *flag, const char *text, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
    return pd_fail(2, "%s: '%s' is not a number", flag, text);
  *out = v;
  return 0;
}

int pd_arg_uint(const char *flag, const char *text, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  if (text[0] < '0' || text[0] > '9')
    return pd_fail(2, "%s: '%s' is not a whole number", flag, text);
  unsigned long v = strtoul(text, &end, 10);
  if (*end != '\0' || errno == ERANGE)
    return pd_fail(2, "%s: '%s' is not a whole number", flag, text);
  *out = v;
  return 0;
}
