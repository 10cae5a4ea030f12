/* runtime/engine/model_names.c — model names: the search path of YAML manifests, the Hugging Face cache
 * layout, and the resolution of a name, a manifest or a GGUF path into the files vkmm_model_load takes.
 * Nothing is downloaded: a missing file is an error that says what to fetch, from where, to where. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image.h"
#include "manifest.h"
#include "log.h"
#include "sized.h"
#include "vkmm.h"

#ifndef VKMM_INSTALLED_MODELS
#define VKMM_INSTALLED_MODELS "/usr/local/share/vkmm/models"
#endif
#ifndef VKMM_SOURCE_MODELS
#define VKMM_SOURCE_MODELS ""
#endif

typedef struct strlist {
    char **v;
    uint32_t n, cap;
} strlist;

static bool push(strlist *l, char *s)
{
    if (!s)
        return false;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return false;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return true;
}

static void strlist_free(strlist *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", a, *a && a[strlen(a) - 1] != '/' ? "/" : "", b);
    return p;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
}

/* The folders names are looked up in, in order, without repeats. */
static bool search_dirs(strlist *out)
{
    bool ok = true;
    const char *env = getenv("VKMM_MODELS");
    for (const char *p = env; p && *p;) {
        const char *q = strchr(p, ':');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n)
            ok &= push(out, strndup(p, n));
        p += n + (q != NULL);
    }
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        ok &= push(out, join(xdg, "vkmm/models"));
    else if (home && *home)
        ok &= push(out, join(home, ".local/share/vkmm/models"));
    ok &= push(out, strdup(VKMM_INSTALLED_MODELS));
    if (*VKMM_SOURCE_MODELS && is_dir(VKMM_SOURCE_MODELS))
        ok &= push(out, strdup(VKMM_SOURCE_MODELS));
    for (uint32_t i = 0; i < out->n; i++) /* drop repeats, keeping the first */
        for (uint32_t j = i + 1; j < out->n;)
            if (!strcmp(out->v[i], out->v[j])) {
                free(out->v[j]);
                memmove(out->v + j, out->v + j + 1, (out->n - j - 1) * sizeof *out->v);
                out->n--;
            } else {
                j++;
            }
    return ok;
}

/* Where the Hugging Face hub keeps its cache, as huggingface_hub decides it. */
static char *hf_cache(void)
{
    const char *v = getenv("HF_HUB_CACHE");
    if (v && *v)
        return strdup(v);
    if ((v = getenv("HF_HOME")) && *v)
        return join(v, "hub");
    if ((v = getenv("XDG_CACHE_HOME")) && *v)
        return join(v, "huggingface/hub");
    if ((v = getenv("HOME")) && *v)
        return join(v, ".cache/huggingface/hub");
    return NULL;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 128 || s[0] == '.' || s[0] == '-')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
            return false;
    return true;
}

/* dir/NAME.yaml, dir/NAME.yml or dir/NAME/NAME.yaml, the first that exists. */
static char *manifest_in(const char *dir, const char *name)
{
    char *cands[3] = {NULL, NULL, NULL};
    size_t n = strlen(dir) + 2 * strlen(name) + 16;
    for (int i = 0; i < 3; i++)
        cands[i] = malloc(n);
    char *found = NULL;
    if (cands[0] && cands[1] && cands[2]) {
        snprintf(cands[0], n, "%s/%s.yaml", dir, name);
        snprintf(cands[1], n, "%s/%s.yml", dir, name);
        snprintf(cands[2], n, "%s/%s/%s.yaml", dir, name, name);
        for (int i = 0; i < 3 && !found; i++)
            if (is_file(cands[i])) {
                found = cands[i];
                cands[i] = NULL;
            }
    }
    for (int i = 0; i < 3; i++)
        free(cands[i]);
    return found;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
}

/* The file's stem: "models/demo/demo.yaml" -> "demo". */
static char *stem_of(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
}

/* A file of a Hugging Face manifest: beside the manifest, in each search folder (and its NAME/ subfolder),
 * then in the hub cache's snapshots of the repository. */
static char *locate(const char *file, const char *manifest_dir, const char *name, const char *repo,
                    const strlist *dirs)
{
    char *p = join(manifest_dir, file);
    if (p && is_file(p))
        return p;
    free(p);
    for (uint32_t i = 0; i < dirs->n; i++) {
        if ((p = join(dirs->v[i], file)) && is_file(p))
            return p;
        free(p);
        char *sub = join(dirs->v[i], name);
        p = sub ? join(sub, file) : NULL;
        free(sub);
        if (p && is_file(p))
            return p;
        free(p);
    }
    char *cache = hf_cache();
    if (!cache)
        return NULL;
    size_t n = strlen(cache) + 2 * strlen(repo) + 32;
    char *snaps = malloc(n);
    char *found = NULL;
    if (snaps) {
        /* models--org--repo/snapshots */
        size_t k = (size_t)snprintf(snaps, n, "%s/models--", cache);
        for (const char *r = repo; *r; r++)
            k += (size_t)snprintf(snaps + k, n - k, "%s", *r == '/' ? "--" : (char[2]){*r, 0});
        snprintf(snaps + k, n - k, "/snapshots");
        DIR *d = opendir(snaps);
        /* several snapshots: take the one whose name sorts last, so the choice does not depend on readdir */
        char *best = NULL;
        for (struct dirent *e; d && (e = readdir(d));) {
            if (e->d_name[0] == '.')
                continue;
            char *snap = join(snaps, e->d_name);
            char *cand = snap ? join(snap, file) : NULL;
            free(snap);
            if (cand && is_file(cand) && (!best || strcmp(cand, best) > 0)) {
                free(best);
                best = cand;
            } else {
                free(cand);
            }
        }
        if (d)
            closedir(d);
        found = best;
    }
    free(snaps);
    free(cache);
    return found;
}

/* What vkmm_model_entry and vkmm_model_ref share: a manifest read without demanding its files, then its files
 * found (or not). */
typedef struct located {
    vkmm_manifest man;
    char *model, *mmproj; /* found paths, NULL when missing */
} located;

static vkmm_status read_manifest(const char *path, vkmm_manifest *man, vkmm_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    vkmm_status st = vkmm_read_file_capped(path, VKMM_MANIFEST_MAX_BYTES, "manifest", &buf, &len, err);
    if (st)
        return st;
    st = vkmm_manifest_parse((const char *)buf, len, path, NULL, man, err);
    free(buf);
    return st;
}

static vkmm_status locate_manifest(const char *path, const strlist *dirs, located *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_status st = read_manifest(path, &out->man, err);
    if (st)
        return st;
    char *dir = dir_of(path), *name = stem_of(path);
    const char *files[2] = {out->man.model, out->man.mmproj};
    char **found[2] = {&out->model, &out->mmproj};
    for (int i = 0; i < 2 && dir && name; i++) {
        if (!files[i])
            continue;
        if (out->man.huggingface)
            *found[i] = locate(files[i], dir, name, out->man.huggingface, dirs);
        else {
            char *p = files[i][0] == '/' ? strdup(files[i]) : join(dir, files[i]);
            if (p && is_file(p))
                *found[i] = p;
            else
                free(p);
        }
    }
    if (!dir || !name)
        st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    free(dir);
    free(name);
    return st;
}

static void located_free(located *l)
{
    vkmm_manifest_free(&l->man);
    free(l->model);
    free(l->mmproj);
}

static void list_dirs(char *buf, size_t size, const strlist *dirs)
{
    buf[0] = 0;
    for (uint32_t i = 0; i < dirs->n; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", dirs->v[i]);
}

/* The error for a Hugging Face manifest whose files are missing: what to download, from where, to where. */
static vkmm_status missing_files(const located *l, const char *name, const strlist *dirs, vkmm_error *err)
{
    char files[1024] = "";
    const char *want[2] = {l->man.model, l->man.mmproj};
    const char *have[2] = {l->model, l->mmproj};
    for (int i = 0; i < 2; i++)
        if (want[i] && !have[i])
            snprintf(files + strlen(files), sizeof files - strlen(files), "%s%s", files[0] ? " " : "", want[i]);
    char where[512];
    list_dirs(where, sizeof where, dirs);
    char *cache = hf_cache();
    const char *home = getenv("HOME"), *xdg = getenv("XDG_DATA_HOME");
    char local[256];
    if (xdg && *xdg)
        snprintf(local, sizeof local, "%s/vkmm/models", xdg);
    else
        snprintf(local, sizeof local, "%s/.local/share/vkmm/models", home && *home ? home : "~");
    vkmm_fail(err, VKMM_ERR_NOT_FOUND,
              "model '%s' (%s): %s not on this machine. Download from https://huggingface.co/%s, e.g. "
              "`huggingface-cli download %s %s --local-dir %s`; vkmm looks in %s and in the Hugging Face cache %s "
              "(nothing is downloaded at run time)",
              name, l->man.path, files, l->man.huggingface, l->man.huggingface, files, local, where,
              cache ? cache : "(no $HOME)");
    free(cache);
    return VKMM_ERR_NOT_FOUND;
}

static vkmm_status ref_from_manifest(const char *path, const strlist *dirs, vkmm_model_ref *r, vkmm_error *err)
{
    located l;
    vkmm_status st = locate_manifest(path, dirs, &l, err);
    char *name = stem_of(path);
    if (!st && !name)
        st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    if (!st && l.man.huggingface && (!l.model || (l.man.mmproj && !l.mmproj)))
        st = missing_files(&l, name, dirs, err);
    if (!st && !l.man.huggingface) {
        /* the manifest loader's own checks and messages (file and line) */
        vkmm_manifest checked;
        st = vkmm_manifest_load(path, &checked, err);
        if (!st)
            vkmm_manifest_free(&checked);
    }
    if (!st) {
        const vkmm_manifest *m = &l.man;
        r->name = name;
        name = NULL;
        r->manifest = strdup(path);
        r->model = l.model;
        r->mmproj = l.mmproj;
        l.model = l.mmproj = NULL;
        if (m->chat_template)
            r->chat_template = strdup(m->chat_template), r->set |= VKMM_REF_CHAT_TEMPLATE;
        if (m->system)
            r->system = strdup(m->system), r->set |= VKMM_REF_SYSTEM;
        if (m->set & VKMM_MANIFEST_CONTEXT) r->context = m->context, r->set |= VKMM_REF_CONTEXT;
        if (m->set & VKMM_MANIFEST_MAX_TOKENS) r->max_tokens = m->max_tokens, r->set |= VKMM_REF_MAX_TOKENS;
        if (m->set & VKMM_MANIFEST_TEMPERATURE) r->sampling.temperature = m->temperature, r->set |= VKMM_REF_TEMPERATURE;
        if (m->set & VKMM_MANIFEST_TOP_K) r->sampling.top_k = m->top_k, r->set |= VKMM_REF_TOP_K;
        if (m->set & VKMM_MANIFEST_TOP_P) r->sampling.top_p = m->top_p, r->set |= VKMM_REF_TOP_P;
        if (m->set & VKMM_MANIFEST_MIN_P) r->sampling.min_p = m->min_p, r->set |= VKMM_REF_MIN_P;
        if (m->set & VKMM_MANIFEST_REPEAT_PENALTY)
            r->sampling.repeat_penalty = m->repeat_penalty, r->set |= VKMM_REF_REPEAT_PENALTY;
        if (m->set & VKMM_MANIFEST_SEED) r->sampling.seed = m->seed, r->set |= VKMM_REF_SEED;
        if (!r->manifest || (m->chat_template && !r->chat_template) || (m->system && !r->system))
            st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    free(name);
    located_free(&l);
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The mmproj beside a model file: the one mmproj*.gguf there; of several, the F16 one if only one is, else the
 * first by name (with a note saying so). */
static char *mmproj_beside(const char *model)
{
    char *dir = dir_of(model);
    DIR *d = dir ? opendir(dir) : NULL;
    strlist found = {0};
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncasecmp(e->d_name, "mmproj", 6) && ends_with(e->d_name, ".gguf")) {
            char *p = join(dir, e->d_name);
            if (p && is_file(p))
                push(&found, p);
            else
                free(p);
        }
    if (d)
        closedir(d);
    char *pick = NULL;
    if (found.n) {
        qsort(found.v, found.n, sizeof *found.v, by_name);
        uint32_t k = 0, n16 = 0;
        for (uint32_t i = 0; i < found.n; i++)
            if (strstr(found.v[i], "f16") || strstr(found.v[i], "F16"))
                k = n16++ ? k : i;
        if (n16 != 1)
            k = 0;
        if (found.n > 1)
            vkmm_warn("%s: %u mmproj files beside it, using %s (give mmproj to choose)", model, found.n, found.v[k]);
        pick = found.v[k];
        found.v[k] = NULL;
    }
    strlist_free(&found);
    free(dir);
    return pick;
}

static bool has_gguf_magic(const char *path)
{
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    bool yes = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "GGUF", 4);
    if (f)
        fclose(f);
    return yes;
}

static vkmm_status unknown_name(const char *what, const strlist *dirs, vkmm_error *err)
{
    vkmm_model_catalog c = {0};
    vkmm_error ignored;
    char names[512] = "";
    if (!vkmm_model_catalog_load(&c, &ignored)) {
        for (uint32_t i = 0; i < c.n_models; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", c.models[i].name);
        vkmm_model_catalog_free(&c);
    }
    char where[400];
    list_dirs(where, sizeof where, dirs);
    return vkmm_fail(err, VKMM_ERR_NOT_FOUND,
                     "unknown model '%.128s': not a file, and no manifest answers to that name (known names: %s; "
                     "`vkmm models` lists them; searched %s)",
                     what, names[0] ? names : "none", where);
}

static vkmm_status resolve(const char *what, const char *mmproj, vkmm_model_ref *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    vkmm_sampling_defaults(&out->sampling, sizeof out->sampling);
    if (!what || !*what)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "no model given (a name, FILE.gguf or FILE.yaml)");
    strlist dirs = {0};
    vkmm_status st = search_dirs(&dirs) ? VKMM_OK : vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    bool yaml = ends_with(what, ".yaml") || ends_with(what, ".yml");
    bool exists = is_file(what);
    if (st) {
    } else if (yaml || (exists && !ends_with(what, ".gguf") && !has_gguf_magic(what))) {
        st = exists ? ref_from_manifest(what, &dirs, out, err)
                    : vkmm_fail(err, VKMM_ERR_IO, "%s: cannot open the manifest: %s", what,
                                is_dir(what) ? "it is a folder" : strerror(ENOENT));
    } else if (exists || strchr(what, '/') || ends_with(what, ".gguf")) {
        if (!exists)
            st = vkmm_fail(err, VKMM_ERR_IO, "%s: cannot open: %s", what, is_dir(what) ? "it is a folder" : strerror(ENOENT));
        else if (!(out->model = strdup(what)))
            st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
        else if (!mmproj)
            out->mmproj = mmproj_beside(what);
    } else if (!valid_name(what)) {
        st = vkmm_fail(err, VKMM_ERR_NOT_FOUND, "unknown model '%.128s': not a file, and not a model name (letters, "
                       "digits, . _ -)", what);
    } else {
        char *path = NULL;
        for (uint32_t i = 0; i < dirs.n && !path; i++)
            path = manifest_in(dirs.v[i], what);
        st = path ? ref_from_manifest(path, &dirs, out, err) : unknown_name(what, &dirs, err);
        free(path);
    }
    if (!st && mmproj) {
        free(out->mmproj);
        if (!(out->mmproj = strdup(mmproj)))
            st = vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    strlist_free(&dirs);
    if (st)
        vkmm_model_ref_free(out);
    return st;
}

VKMM_API vkmm_status vkmm_model_resolve(const char *what, const char *mmproj, vkmm_model_ref *out, vkmm_error *err)
{
    if (!out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_model_resolve needs somewhere to put the result");
    size_t n;
    vkmm_status st = VKMM_SIZED_BYTES(vkmm_model_ref, out, "vkmm_model_resolve's result", &n, err);
    if (st)
        return st;
    vkmm_model_ref r;
    st = resolve(what, mmproj, &r, err);
    vkmm_sized_out(out, &r, n);
    return st;
}

/* Zeroes what the caller's layout of a struct holds, keeping its struct_size. */
static void clear_sized(void *p, size_t base, size_t full)
{
    uint32_t size;
    memcpy(&size, p, sizeof size);
    memset(p, 0, vkmm_sized_get_bytes(size, base, full));
    memcpy(p, &size, sizeof size);
}

VKMM_API void vkmm_model_ref_free(vkmm_model_ref *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->manifest);
    free(r->model);
    free(r->mmproj);
    free(r->chat_template);
    free(r->system);
    clear_sized(r, VKMM_BASE_SIZE(vkmm_model_ref), sizeof *r);
}

/* Adds the manifest at path as name unless an earlier folder gave that name already. */
static vkmm_status catalog_add(vkmm_model_catalog *c, uint32_t *cap, const char *name, const char *path,
                               const strlist *dirs)
{
    for (uint32_t i = 0; i < c->n_models; i++)
        if (!strcmp(c->models[i].name, name))
            return VKMM_OK;
    if (c->n_models == *cap) {
        uint32_t n = *cap ? *cap * 2 : 16;
        vkmm_model_entry *v = realloc(c->models, n * sizeof *v);
        if (!v)
            return VKMM_ERR_HOST_MEMORY;
        c->models = v;
        *cap = n;
    }
    vkmm_model_entry *e = &c->models[c->n_models++];
    memset(e, 0, sizeof *e);
    e->struct_size = sizeof *e;
    e->name = strdup(name);
    e->manifest = strdup(path);
    located l;
    vkmm_error err;
    if (locate_manifest(path, dirs, &l, &err)) {
        e->problem = strdup(err.msg);
        e->description = strdup("");
        return VKMM_OK;
    }
    e->description = strdup(l.man.description ? l.man.description : "");
    e->repo = l.man.huggingface ? strdup(l.man.huggingface) : NULL;
    e->model_file = strdup(l.man.model);
    e->mmproj_file = l.man.mmproj ? strdup(l.man.mmproj) : NULL;
    e->model_path = l.model;
    e->mmproj_path = l.mmproj;
    l.model = l.mmproj = NULL;
    e->present = e->model_path && (!e->mmproj_file || e->mmproj_path);
    if (!e->present) {
        char msg[600];
        snprintf(msg, sizeof msg, "missing %s%s%s", e->model_path ? "" : e->model_file,
                 !e->model_path && e->mmproj_file && !e->mmproj_path ? " and " : "",
                 e->mmproj_file && !e->mmproj_path ? e->mmproj_file : "");
        e->problem = strdup(msg);
    }
    located_free(&l);
    return VKMM_OK;
}

static int entry_by_name(const void *a, const void *b)
{
    return strcmp(((const vkmm_model_entry *)a)->name, ((const vkmm_model_entry *)b)->name);
}

static vkmm_status catalog_load(vkmm_model_catalog *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    strlist dirs = {0};
    if (!search_dirs(&dirs)) {
        strlist_free(&dirs);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    uint32_t cap = 0;
    vkmm_status st = VKMM_OK;
    for (uint32_t i = 0; i < dirs.n && !st; i++) {
        DIR *d = opendir(dirs.v[i]);
        strlist names = {0};
        for (struct dirent *e; d && (e = readdir(d));)
            if (e->d_name[0] != '.')
                push(&names, strdup(e->d_name));
        if (d)
            closedir(d);
        if (names.n)
            qsort(names.v, names.n, sizeof *names.v, by_name);
        for (uint32_t k = 0; k < names.n && !st; k++) {
            const char *f = names.v[k];
            char *path = NULL, *name = NULL;
            if (ends_with(f, ".yaml") || ends_with(f, ".yml")) {
                path = join(dirs.v[i], f);
                name = stem_of(f);
            } else if (valid_name(f)) {
                path = manifest_in(dirs.v[i], f);
                name = path ? strdup(f) : NULL;
            }
            if (path && name && valid_name(name) && is_file(path))
                st = catalog_add(out, &cap, name, path, &dirs);
            free(path);
            free(name);
        }
        strlist_free(&names);
    }
    if (out->n_models)
        qsort(out->models, out->n_models, sizeof *out->models, entry_by_name);
    out->dirs = dirs.v;
    out->n_dirs = dirs.n;
    if (st) {
        vkmm_model_catalog_free(out);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    return VKMM_OK;
}

VKMM_API vkmm_status vkmm_model_catalog_load(vkmm_model_catalog *out, vkmm_error *err)
{
    if (!out)
        return vkmm_fail(err, VKMM_ERR_INVALID_ARG, "vkmm_model_catalog_load needs somewhere to put the catalog");
    size_t n;
    vkmm_status st = VKMM_SIZED_BYTES(vkmm_model_catalog, out, "vkmm_model_catalog_load's result", &n, err);
    if (st)
        return st;
    vkmm_model_catalog c = {0};
    st = catalog_load(&c, err);
    vkmm_sized_out(out, &c, n);
    return st;
}

VKMM_API void vkmm_model_catalog_free(vkmm_model_catalog *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->n_models; i++) {
        vkmm_model_entry *e = &c->models[i];
        free(e->name);
        free(e->manifest);
        free(e->description);
        free(e->repo);
        free(e->model_file);
        free(e->mmproj_file);
        free(e->model_path);
        free(e->mmproj_path);
        free(e->problem);
    }
    free(c->models);
    for (uint32_t i = 0; i < c->n_dirs; i++)
        free(c->dirs[i]);
    free(c->dirs);
    clear_sized(c, VKMM_BASE_SIZE(vkmm_model_catalog), sizeof *c);
}
