/* tools/cmd_bench.c — `vkmm bench`: `ops` times kernels; model benchmarks come with the engine. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int vkmm_cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "ops"))
        return vkmm_bench_ops(argc - 1, argv + 1);
    fprintf(stderr, "usage: vkmm bench ops [--json] [-r REPS] [--filter TEXT] [--quick]\n");
    return 2;
}
