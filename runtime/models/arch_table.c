/* runtime/models/arch_table.c — the architecture table, one row per architecture (see arch.h), and its lookups.
 * A row names the text loader, the towers the model takes with their preprocessing, prompt layout and attention
 * rule, and the default chat template. Preprocessing follows each model's Hugging Face processor. */
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "gemma4v.h"

/* A processor's resizing rule with the mean and std the mmproj states. */
static vkmm_image_prep normalised(vkmm_image_prep p, const vkmm_vision_hparams *hp)
{
    memcpy(p.mean, hp->mean, sizeof p.mean);
    memcpy(p.std, hp->std, sizeof p.std);
    return p;
}

/* ---- Gemma 3: SigLIP + the Gemma 3 projector ---- */

/* resized to the tower's square (Pillow-exact bilinear) */
static vkmm_image_prep siglip_prep(const vkmm_vision_hparams *hp, uint32_t image_tokens)
{
    (void)image_tokens;
    return normalised(vkmm_image_prep_gemma3(hp->image_size), hp);
}

static const vkmm_media_tower gemma3_towers[] = {{
    .medium = VKMM_MEDIUM_IMAGE,
    .projector = "gemma3",
    .load = vkmm_siglip_load,
    .preprocess = siglip_prep,
    /* Gemma3Processor: "\n\n<start_of_image>" + 256 × <image_soft_token> + "<end_of_image>\n\n" */
    .layout = {.text_before = "\n\n", .open = "<start_of_image>", .close = "<end_of_image>", .text_after = "\n\n"},
    .attention = VKMM_MEDIA_BIDIRECTIONAL,
}};

static const char *const gemma3_names[] = {"gemma3", NULL};

/* ---- Mistral Small 3.1: Pixtral + the Mistral 3 projector ---- */

/* longest side at most the tower's size, both sides rounded up to the patch (bicubic) */
static vkmm_image_prep pixtral_prep(const vkmm_vision_hparams *hp, uint32_t image_tokens)
{
    (void)image_tokens;
    return normalised(vkmm_image_prep_pixtral(hp->image_size), hp);
}

static const vkmm_media_tower mistral3_towers[] = {{
    .medium = VKMM_MEDIUM_IMAGE,
    .projector = "pixtral",
    .load = vkmm_pixtral_load,
    .preprocess = pixtral_prep,
    /* PixtralProcessor: rows of [IMG] with [IMG_BREAK] between rows, then [IMG_END] */
    .layout = {.text_before = "", .close = "[IMG_END]", .text_after = "", .row_breaks = VKMM_ROW_BREAKS_IN_ROWS},
    .attention = VKMM_MEDIA_CAUSAL,
}};

/* older conversions of Mistral Small 3.1 call the text model "llama" */
static const char *const mistral3_names[] = {"mistral3", "llama", NULL};

/* ---- Gemma 4: the text decoder with its vision tower (gemma4v.c: the tower row with its budgets and rule) ---- */

static const char *const gemma4_names[] = {"gemma4", NULL};

/* ---- the table ---- */

static const vkmm_arch archs[] = {
    {.names = gemma3_names, .load_text = vkmm_gemma3_load, .towers = gemma3_towers, .n_towers = 1,
     .chat_template = "gemma3"},
    {.names = mistral3_names, .load_text = vkmm_mistral3_load, .towers = mistral3_towers, .n_towers = 1,
     .chat_template = "mistral-v7-tekken"},
    {.names = gemma4_names, .load_text = vkmm_gemma4_load, .towers = &vkmm_gemma4v_tower, .n_towers = 1,
     .chat_template = "gemma4"},
};
#define N_ARCHS (sizeof archs / sizeof archs[0])

static bool same(const char *a, const char *b, size_t len)
{
    return strlen(a) == len && !memcmp(a, b, len);
}

const vkmm_arch *vkmm_arch_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_ARCHS; i++)
        for (const char *const *n = archs[i].names; *n; n++)
            if (same(*n, name, len))
                return &archs[i];
    return NULL;
}

const vkmm_media_tower *vkmm_arch_tower(const vkmm_arch *arch, const char *projector, size_t len)
{
    for (uint32_t i = 0; i < arch->n_towers; i++)
        if (same(arch->towers[i].projector, projector, len))
            return &arch->towers[i];
    return NULL;
}

const vkmm_media_tower *vkmm_arch_any_tower(const char *projector, size_t len)
{
    const vkmm_media_tower *t = NULL;
    for (size_t i = 0; i < N_ARCHS && !t; i++)
        t = vkmm_arch_tower(&archs[i], projector, len);
    return t;
}

vkmm_media_attention vkmm_tower_attention(const vkmm_media_tower *t, const vkmm_vision_model *vm)
{
    return vm && vm->has_attention ? vm->attention : t->attention;
}

bool vkmm_arch_is_projector_file(const char *name, size_t len)
{
    return same("clip", name, len); /* what llama.cpp's converters write into every mmproj */
}

void vkmm_arch_list_names(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < N_ARCHS; i++)
        for (const char *const *a = archs[i].names; *a && n < size; a++)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *a);
}

void vkmm_arch_list_projectors(const vkmm_arch *arch, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < N_ARCHS; i++) {
        if (arch && arch != &archs[i])
            continue;
        for (uint32_t t = 0; t < archs[i].n_towers && n < size; t++)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", archs[i].towers[t].projector);
    }
}
