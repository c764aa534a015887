/* The pd subcommands. Each takes argv[0] = its own name and returns the
 * process exit status (0 ok, 1 failure, 2 bad usage). To add one, write
 * cmd_<name>.c, declare it here and add a line to the table in main.c. */
#ifndef PD_TOOL_COMMANDS_H
#define PD_TOOL_COMMANDS_H

#include <stdint.h>

int cmd_summary(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* pd demo's summary of a store holding the demo built with (seed, users):
 * printed by pd demo and by pd load (cmd_demo.c). */
struct demo_data;
struct pd_store;
int demo_report(struct pd_store *store, const struct demo_data *d,
                uint64_t seed, uint32_t users, int json);
int cmd_report(int argc, char **argv);

#endif
