/* tools/vkmm.c — the `vkmm` command: dispatches to one subcommand per file. It uses the public API alone. */
#include "cli.h"

static const vkmm_cli_command commands[] = {
    {"run", "describe images / answer a prompt: -m model.gguf --mmproj mmproj.gguf --image a.png -p \"...\"",
     vkmm_cmd_run},
    {"chat", "interactive conversation (/image PATH, /reset, /quit)", vkmm_cmd_chat},
    {"serve", "HTTP server: OpenAI and Anthropic APIs, a chat page, /health, /metrics (--port 8080)", vkmm_cmd_serve},
    {"models", "model names (--model NAME): their files and whether they are here (--json)", vkmm_cmd_models},
    {"devices", "list Vulkan devices and their capabilities (--json)", vkmm_cmd_devices},
    {"bench", "speed: `vkmm bench -m model.gguf -p 512 -n 128`", vkmm_cmd_bench_model},
    {"tokenize", "text to token ids or pieces with a model's tokenizer", vkmm_cmd_tokenize},
    {"info", "describe an input: -m FILE.gguf, --image FILE, --audio FILE, --model-file FILE.yaml (--json)", vkmm_cmd_info},
};

int main(int argc, char **argv)
{
    return vkmm_cli_main("vkmm", "multimodal language models on any Vulkan GPU", commands,
                         sizeof commands / sizeof commands[0], argc, argv);
}
