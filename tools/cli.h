/* tools/cli.h — the subcommands of the `vkmm` command and the little they share. */
#ifndef VKMM_TOOLS_CLI_H
#define VKMM_TOOLS_CLI_H

#include <stdio.h>

typedef struct vkmm_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name; returns the exit status */
} vkmm_cli_command;

/* One line per subcommand file: */
int vkmm_cmd_devices(int argc, char **argv);
int vkmm_cmd_bench(int argc, char **argv);
int vkmm_bench_ops(int argc, char **argv);
int vkmm_cmd_tokenize(int argc, char **argv);

/* JSON string output with escaping. */
void vkmm_cli_json_string(FILE *f, const char *s);

#endif
