/* tools/vkmm.c — the `vkmm` command: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vkmm.h"

static const vkmm_cli_command commands[] = {
    {"run", "describe images / answer a prompt: -m model.gguf --mmproj mmproj.gguf --image a.png -p \"...\"",
     vkmm_cmd_run},
    {"chat", "interactive conversation (/image PATH, /reset, /quit)", vkmm_cmd_chat},
    {"serve", "HTTP server: OpenAI and Anthropic APIs, a chat page, /health, /metrics (--port 8080)", vkmm_cmd_serve},
    {"models", "model names (--model NAME): their files and whether they are here (--json)", vkmm_cmd_models},
    {"devices", "list Vulkan devices and their capabilities (--json)", vkmm_cmd_devices},
    {"bench", "speed: `vkmm bench -m model.gguf -p 512 -n 128`; `vkmm bench ops` times every kernel", vkmm_cmd_bench},
    {"tokenize", "text to token ids or pieces with a model's tokenizer", vkmm_cmd_tokenize},
    {"synth", "write a synthetic GGUF pair of a real architecture (random weights)", vkmm_cmd_synth},
    {"info", "describe an input: -m FILE.gguf, --image FILE, --audio FILE, --model-file FILE.yaml (--json)", vkmm_cmd_info},
};

static void usage(FILE *f)
{
    fprintf(f, "vkmm %s — multimodal language models on any Vulkan GPU\n\nusage: vkmm <command> [options]\n\n",
            vkmm_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version  print the version\n  --help     this text\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("vkmm %s\n", vkmm_version());
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vkmm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
