/* pd — the libprivdomain command-line tool: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include <privdomain/privdomain.h>

#include "args.h"
#include "commands.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"summary", cmd_summary,
     "summarise transactions per customer (x, t_x, T, monetary value)"},
    {"fit", cmd_fit, "fit a customer-base model to summaries or survivors"},
    {"predict", cmd_predict,
     "predict purchases, P(alive), spend and CLV per customer"},
    {"demo", cmd_demo,
     "build a synthetic private domain (8 shops, 1 year) and report on it"},
    {"report", cmd_report,
     "overview of a private domain (demo or order log), text/JSON/SVG"},
    {"save", cmd_save, "save the demo store as a snapshot file"},
    {"load", cmd_load, "load a snapshot and print the demo summary of it"},
    {"check", cmd_check, "verify a snapshot or journal file (exit 1 if damaged)"},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: pd COMMAND [OPTIONS]   (pd COMMAND --help for details)\n"
          "       pd --version\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
      strcmp(name, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(name, "--version") == 0) {
    printf("pd %s (libprivdomain %s)\n", PD_VERSION_STRING,
           pd_version_string());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  return pd_fail(2, "unknown command '%s' (try pd --help)", name);
}
