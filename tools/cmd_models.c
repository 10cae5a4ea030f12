/* tools/cmd_models.c — `vkmm models`: every model name the search path knows, its files, and whether they are on
 * this machine (with where to get them when not). Public API only. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vkmm.h"

static void print_json(const vkmm_model_catalog *c)
{
    printf("{\"search_path\": [");
    for (uint32_t i = 0; i < c->n_dirs; i++) {
        printf("%s", i ? ", " : "");
        vkmm_json_write_string(stdout, c->dirs[i]);
    }
    printf("], \"models\": [");
    for (uint32_t i = 0; i < c->n_models; i++) {
        const vkmm_model_entry *e = vkmm_model_catalog_at(c, i);
        const char *keys[] = {"name", "manifest", "description", "huggingface", "model", "mmproj", "model_path",
                              "mmproj_path", "problem"};
        const char *vals[] = {e->name, e->manifest, e->description, e->repo, e->model_file, e->mmproj_file,
                              e->model_path, e->mmproj_path, e->problem};
        printf("%s{", i ? ", " : "");
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            printf("\"%s\": ", keys[k]);
            if (vals[k])
                vkmm_json_write_string(stdout, vals[k]);
            else
                printf("null");
            printf(", ");
        }
        printf("\"present\": %s}", e->present ? "true" : "false");
    }
    printf("]}\n");
}

int vkmm_cmd_models(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: vkmm models [--json]\n\nLists the model names `vkmm run --model NAME` takes: manifests in "
                   "$VKMM_MODELS, ~/.local/share/vkmm/models,\nthe installed share/vkmm/models and the checkout's "
                   "models/, with their files and whether they are here.\n");
            return 0;
        } else {
            fprintf(stderr, "vkmm models: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    vkmm_model_catalog c = {0};
    vkmm_error err;
    if (vkmm_model_catalog_load(&c, &err)) {
        fprintf(stderr, "vkmm models: %s\n", err.msg);
        return 1;
    }
    if (json) {
        print_json(&c);
        vkmm_model_catalog_free(&c);
        return 0;
    }
    for (uint32_t i = 0; i < c.n_models; i++) {
        const vkmm_model_entry *e = vkmm_model_catalog_at(&c, i);
        printf("%-20s %-8s %s\n", e->name, e->present ? "present" : "missing", e->description);
        printf("%-20s manifest %s\n", "", e->manifest);
        if (e->model_path)
            printf("%-20s model    %s\n", "", e->model_path);
        if (e->mmproj_path)
            printf("%-20s mmproj   %s\n", "", e->mmproj_path);
        if (!e->present && e->repo)
            printf("%-20s download %s%s%s from https://huggingface.co/%s\n", "", e->model_path ? "" : e->model_file,
                   !e->model_path && e->mmproj_file && !e->mmproj_path ? " and " : "",
                   e->mmproj_file && !e->mmproj_path ? e->mmproj_file : "", e->repo);
        else if (e->problem)
            printf("%-20s problem  %s\n", "", e->problem);
    }
    printf("\nsearch path (first match wins):\n");
    for (uint32_t i = 0; i < c.n_dirs; i++)
        printf("  %s\n", c.dirs[i]);
    printf("and for manifests naming a Hugging Face repository, its snapshots in the Hugging Face cache.\n");
    vkmm_model_catalog_free(&c);
    return 0;
}
