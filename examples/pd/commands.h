/* The pd subcommands. Each takes argv[0] = its own name and returns the
 * process exit status (0 ok, 1 failure, 2 bad usage). To add one, write
 * cmd_<name>.c, declare it here and add a line to the table in main.c. */
#ifndef PD_TOOL_COMMANDS_H
#define PD_TOOL_COMMANDS_H

int cmd_summary(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
