/* tools/cli.h — the subcommands of the `vkmm` command and the little they share. They reach vkmm through the
 * public API only (vkmm.h, the shared library); tools/dev.h lists the developer tool's. */
#ifndef VKMM_TOOLS_CLI_H
#define VKMM_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "text_out.h" /* common/text: vkmm_clean_text, vkmm_json_write_string */

typedef struct vkmm_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name; returns the exit status */
} vkmm_cli_command;

/* One line per subcommand file: */
int vkmm_cmd_devices(int argc, char **argv);
int vkmm_cmd_bench_model(int argc, char **argv);
int vkmm_cmd_run(int argc, char **argv);
int vkmm_cmd_chat(int argc, char **argv);
int vkmm_cmd_serve(int argc, char **argv);    /* tools/serve/cmd_serve.c */
int vkmm_cmd_tokenize(int argc, char **argv);
int vkmm_cmd_info(int argc, char **argv);
int vkmm_cmd_models(int argc, char **argv);

/* tools/cli.c: runs the subcommand argv[1] names (with --help, --version and a usage of them all); the exit status. */
int vkmm_cli_main(const char *prog, const char *title, const vkmm_cli_command *cmds, size_t n, int argc, char **argv);

#endif
