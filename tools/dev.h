/* tools/dev.h — the subcommands of `vkmm-dev`, the developer tool: they reach vkmm's internal layers (synthetic
 * models of the real architectures, kernel benchmarks) and are not installed. */
#ifndef VKMM_TOOLS_DEV_H
#define VKMM_TOOLS_DEV_H

#include "cli.h"

int vkmm_dev_synth(int argc, char **argv);     /* tools/cmd_synth.c */
int vkmm_dev_bench_ops(int argc, char **argv); /* tools/bench_ops.c */
int vkmm_dev_bench_json(int argc, char **argv); /* tools/bench_json.c: loader/json.c against jansson */
int vkmm_dev_bench_audio(int argc, char **argv); /* tools/bench_audio.c: audio-encode ms per second of audio */

#endif
