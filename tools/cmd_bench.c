/* tools/cmd_bench.c — `vkmm bench`: `ops` times kernels, `json` JSON readers, anything else benchmarks a model. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int vkmm_cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "ops"))
        return vkmm_bench_ops(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "json"))
        return vkmm_bench_json(argc - 1, argv + 1);
    return vkmm_cmd_bench_model(argc, argv);
}
