/* tools/vkmm_dev.c — `vkmm-dev`, the developer tool: commands that reach vkmm's internal layers, kept out of the
 * `vkmm` command (which uses the public API alone) and not installed. */
#include "dev.h"

static const vkmm_cli_command commands[] = {
    {"synth", "write a synthetic GGUF pair of a real architecture (random weights)", vkmm_dev_synth},
    {"bench-ops", "every kernel family on real model shapes: GB/s and GFLOP/s next to a copy's bandwidth",
     vkmm_dev_bench_ops},
    {"bench-audio", "audio-encode time per second of audio through an audio tower (an mmproj's or a synthetic one)",
     vkmm_dev_bench_audio},
    {"bench-json", "parse JSON files with vkmm's reader and with jansson, and time both", vkmm_dev_bench_json},
};

int main(int argc, char **argv)
{
    return vkmm_cli_main("vkmm-dev", "vkmm's developer tool", commands, sizeof commands / sizeof commands[0], argc,
                         argv);
}
