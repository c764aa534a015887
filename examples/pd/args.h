/* Command-line helpers for pd subcommands: --flag VALUE options,
 * positional arguments, number parsing, and the one-line error report. */
#ifndef PD_TOOL_ARGS_H
#define PD_TOOL_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* One option a subcommand accepts. A flag without a value sets *present;
 * one with a value stores it in *value (and sets *present, if given). */
typedef struct pd_opt {
  const char *name; /* "--summary" */
  int takes_value;
  const char **value;
  int *present;
} pd_opt;

/* Parses argv[1..argc-1] (argv[0] is the subcommand). Positional arguments
 * go to positional[0..max_positional-1], their count to *n_positional.
 * Returns 0, or 2 after reporting a usage error. */
int pd_args_parse(int argc, char **argv, const pd_opt *opts, size_t n_opts,
                  const char **positional, size_t max_positional,
                  size_t *n_positional);

/* For commands of the form `pd COMMAND MODEL [OPTIONS]`: parses the
 * options as pd_args_parse does and takes the one positional MODEL name.
 * Sets *model to pd_model_from_name() of it (0 when it names no model; the
 * caller says which models it takes) and *name to the text. Returns 0, or 2
 * after reporting a usage error (@no_model when MODEL is missing). */
int pd_args_parse_model(int argc, char **argv, const pd_opt *opts,
                        size_t n_opts, const char *no_model, int32_t *model,
                        const char **name);

/* Prints "pd: <message>" and a newline on stderr; returns `code` so
 * commands can `return pd_fail(2, ...)`. */
int pd_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A finite number / a non-negative whole number from an option value;
 * 0 on success, else reports "--flag: ..." and returns 2. */
int pd_arg_double(const char *flag, const char *text, double *out);
int pd_arg_uint(const char *flag, const char *text, unsigned long *out);

/* Whether argv holds -h or --help. */
int pd_args_want_help(int argc, char **argv);

#endif
