/* tools/cli.h — the subcommands of the `vkmm` command and the little they share. */
#ifndef VKMM_TOOLS_CLI_H
#define VKMM_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
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
int vkmm_bench_json(int argc, char **argv);   /* tools/bench_json.c: loader/json.c against jansson */
int vkmm_cmd_bench_model(int argc, char **argv);
int vkmm_cmd_run(int argc, char **argv);
int vkmm_cmd_chat(int argc, char **argv);
int vkmm_cmd_serve(int argc, char **argv);    /* tools/serve/cmd_serve.c */
int vkmm_cmd_tokenize(int argc, char **argv);
int vkmm_cmd_info(int argc, char **argv);
int vkmm_cmd_synth(int argc, char **argv);
int vkmm_cmd_models(int argc, char **argv);
int vkmm_info_image(int argc, char **argv);    /* tools/info_inputs.c: `vkmm info --image FILE` */
int vkmm_info_manifest(int argc, char **argv); /* tools/info_inputs.c: `vkmm info --model-file FILE.yaml` */
int vkmm_info_audio(int argc, char **argv);    /* tools/info_audio.c: `vkmm info --audio FILE` */

/* JSON string output with escaping. */
void vkmm_cli_json_string(FILE *f, const char *s);

/* Text from untrusted files (tools/text.c). */
/* A malloc'ed copy of at most max bytes of s as valid UTF-8 with no NUL (bad bytes become U+FFFD), "..." when
 * cut; with escape, control characters become \n, \t, \r or \xNN so the text stays on one line. */
char *vkmm_cli_clean_text(const char *s, uint64_t len, size_t max, bool escape);
/* The shortest decimal that reads back as v (as a float when f32); "nan", "inf", "-inf" otherwise. */
void vkmm_cli_format_float(char *buf, size_t size, double v, bool f32);
/* "123 bytes", "1.50 MiB", ... */
void vkmm_cli_format_bytes(char *buf, size_t size, uint64_t bytes);

#endif
