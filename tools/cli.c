/* tools/cli.c — what the vkmm and vkmm-dev commands share: dispatching to a subcommand, and JSON strings. Both
 * use the public API alone here (vkmm_version), so the vkmm command links nothing else. */
#include <string.h>

#include "cli.h"
#include "vkmm.h"

static void usage(FILE *f, const char *prog, const char *title, const vkmm_cli_command *cmds, size_t n)
{
    fprintf(f, "%s %s — %s\n\nusage: %s <command> [options]\n\n", prog, vkmm_version(), title, prog);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\n  --version  print the version\n  --help     this text\n");
}

int vkmm_cli_main(const char *prog, const char *title, const vkmm_cli_command *cmds, size_t n, int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr, prog, title, cmds, n);
        return 2;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("%s %s\n", prog, vkmm_version());
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout, prog, title, cmds, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n\n", prog, argv[1]);
    usage(stderr, prog, title, cmds, n);
    return 2;
}
