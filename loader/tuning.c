/* loader/tuning.c — parses tuning tables with libyaml's document API:
 *   defaults: {family: {key: int, ...}, ...}
 *   devices: [{match: {vendor|vendor_id|driver|device: ...}, family: {key: int}}, ...]
 * Unknown top-level keys, bad match keys, families and keys the caller did not declare and non-integer values are
 * errors naming file, line and key. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "tuning.h"
#include "strutil.h"

vkmm_status vkmm_tuning_init(vkmm_tuning *t, const vkmm_tuning_key *keys, uint32_t n_keys, vkmm_error *err)
{
    memset(t, 0, sizeof *t);
    t->keys = keys;
    t->n_keys = n_keys;
    t->value = calloc(n_keys ? n_keys : 1, sizeof *t->value);
    t->set = calloc(n_keys ? n_keys : 1, sizeof *t->set);
    if (!t->value || !t->set) {
        vkmm_tuning_free(t);
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    }
    return VKMM_OK;
}

int64_t vkmm_tuning_get(const vkmm_tuning *t, uint32_t index)
{
    return index < t->n_keys ? t->value[index] : 0;
}

void vkmm_tuning_set(vkmm_tuning *t, uint32_t index, int64_t value)
{
    if (index < t->n_keys) {
        t->value[index] = value;
        t->set[index] = 1;
    }
}

vkmm_status vkmm_tuning_check_complete(const vkmm_tuning *t, const char *name, vkmm_error *err)
{
    for (uint32_t i = 0; i < t->n_keys; i++)
        if (!t->set[i])
            return vkmm_fail(err, VKMM_ERR_INTERNAL, "%s: no default for tuning key %s.%s", name, t->keys[i].family,
                             t->keys[i].key);
    return VKMM_OK;
}

void vkmm_tuning_free(vkmm_tuning *t)
{
    free(t->value);
    free(t->set);
    memset(t, 0, sizeof *t);
}

typedef struct ctx {
    yaml_document_t *doc;
    const char *name;
    vkmm_error *err;
} ctx;

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static vkmm_status fail_at(ctx *c, yaml_node_t *n, const char *what, const char *detail)
{
    return vkmm_fail(c->err, VKMM_ERR_FORMAT, "%s:%zu: %s%s%s", c->name, n ? n->start_mark.line + 1 : 0, what,
                     detail ? ": " : "", detail ? detail : "");
}

static bool parse_int(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* The declared families, or the keys of one, as "a, b, c" for messages. */
static void list_names(const vkmm_tuning *t, const char *family, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < t->n_keys && n + 1 < size; i++) {
        const char *name = family ? t->keys[i].key : t->keys[i].family;
        if (family && strcmp(t->keys[i].family, family))
            continue;
        bool seen = false;
        for (uint32_t j = 0; j < i && !family && !seen; j++)
            seen = !strcmp(t->keys[j].family, name);
        if (!seen)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
    }
}

static int64_t find_key(const vkmm_tuning *t, const char *family, const char *key)
{
    for (uint32_t i = 0; i < t->n_keys; i++)
        if (!strcmp(t->keys[i].family, family) && (!key || !strcmp(t->keys[i].key, key)))
            return i;
    return -1;
}

/* family: {key: int} mappings into t (only checked when apply is false: another device's entry). */
static vkmm_status apply_families(ctx *c, vkmm_tuning *t, bool apply, yaml_node_t *map, const char *skip)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail_at(c, map, "expected a mapping of kernel families", NULL);
    char names[512];
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key), *v = yaml_document_get_node(c->doc, p->value);
        const char *fam = scalar(k);
        if (!fam)
            return fail_at(c, k, "family name must be a string", NULL);
        if (skip && !strcmp(fam, skip))
            continue;
        if (find_key(t, fam, NULL) < 0) {
            list_names(t, NULL, names, sizeof names);
            return vkmm_fail(c->err, VKMM_ERR_FORMAT, "%s:%zu: unknown kernel family '%.64s' (the families are %s)",
                             c->name, k->start_mark.line + 1, fam, names);
        }
        if (!v || v->type != YAML_MAPPING_NODE)
            return fail_at(c, v, "expected key: value pairs under family", fam);
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
            yaml_node_t *kk = yaml_document_get_node(c->doc, q->key), *vv = yaml_document_get_node(c->doc, q->value);
            const char *key = scalar(kk);
            if (!key)
                return fail_at(c, kk, "tuning key must be a string", fam);
            int64_t at = find_key(t, fam, key), val;
            if (at < 0) {
                list_names(t, fam, names, sizeof names);
                return vkmm_fail(c->err, VKMM_ERR_FORMAT, "%s:%zu: unknown tuning key '%s.%.64s' (%s has %s)",
                                 c->name, kk->start_mark.line + 1, fam, key, fam, names);
            }
            if (!parse_int(scalar(vv), &val))
                return vkmm_fail(c->err, VKMM_ERR_FORMAT, "%s:%zu: tuning value of %s.%s must be an integer",
                                 c->name, vv ? vv->start_mark.line + 1 : 0, fam, key);
            if (apply)
                vkmm_tuning_set(t, (uint32_t)at, val);
        }
    }
    return VKMM_OK;
}

static vkmm_status matches(ctx *c, yaml_node_t *m, const vkmm_tuning_device *dev, bool *out)
{
    *out = true;
    if (!m || m->type != YAML_MAPPING_NODE)
        return fail_at(c, m, "`match` must be a mapping", NULL);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key), *v = yaml_document_get_node(c->doc, p->value);
        const char *key = scalar(k), *val = scalar(v);
        if (!key || !val)
            return fail_at(c, k, "match entries must be key: string", NULL);
        bool ok;
        if (!strcmp(key, "vendor"))
            ok = dev->vendor && !strcasecmp(dev->vendor, val);
        else if (!strcmp(key, "vendor_id")) {
            int64_t id;
            if (!parse_int(val, &id))
                return fail_at(c, v, "vendor_id must be an integer", val);
            ok = (uint32_t)id == dev->vendor_id;
        } else if (!strcmp(key, "driver"))
            ok = vkmm_contains_nocase(dev->driver, val);
        else if (!strcmp(key, "device"))
            ok = vkmm_contains_nocase(dev->device, val);
        else
            return fail_at(c, k, "unknown match key (vendor, vendor_id, driver, device)", key);
        if (!ok)
            *out = false;
    }
    return VKMM_OK;
}

vkmm_status vkmm_tuning_apply(vkmm_tuning *t, const char *text, size_t len, const char *name,
                              const vkmm_tuning_device *dev, vkmm_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        vkmm_status s = vkmm_fail(err, VKMM_ERR_FORMAT, "%s:%zu: %s", name, parser.problem_mark.line + 1,
                                  parser.problem ? parser.problem : "YAML syntax error");
        yaml_parser_delete(&parser);
        return s;
    }
    ctx c = {&doc, name, err};
    vkmm_status s = VKMM_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        goto done; /* an empty file changes nothing */
    if (root->type != YAML_MAPPING_NODE) {
        s = fail_at(&c, root, "a tuning table is a mapping with `defaults` and `devices`", NULL);
        goto done;
    }
    /* two passes so that `defaults` applies before `devices` wherever it is written */
    for (int pass = 0; pass < 2 && !s; pass++) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top && !s; p++) {
            yaml_node_t *k = yaml_document_get_node(&doc, p->key), *v = yaml_document_get_node(&doc, p->value);
            const char *key = scalar(k);
            if (key && !strcmp(key, "defaults")) {
                if (pass == 0)
                    s = apply_families(&c, t, true, v, NULL);
            } else if (key && !strcmp(key, "devices")) {
                if (pass == 0)
                    continue;
                if (!v || v->type != YAML_SEQUENCE_NODE) {
                    s = fail_at(&c, v, "`devices` must be a list", NULL);
                    break;
                }
                for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top && !s; it++) {
                    yaml_node_t *e = yaml_document_get_node(&doc, *it);
                    yaml_node_t *m = NULL;
                    if (!e || e->type != YAML_MAPPING_NODE) {
                        s = fail_at(&c, e, "each device entry must be a mapping", NULL);
                        break;
                    }
                    for (yaml_node_pair_t *q = e->data.mapping.pairs.start; q < e->data.mapping.pairs.top; q++) {
                        const char *kk = scalar(yaml_document_get_node(&doc, q->key));
                        if (kk && !strcmp(kk, "match"))
                            m = yaml_document_get_node(&doc, q->value);
                    }
                    bool ok = false;
                    if (!m) {
                        s = fail_at(&c, e, "device entry without `match`", NULL);
                        break;
                    }
                    s = matches(&c, m, dev, &ok);
                    if (!s)
                        s = apply_families(&c, t, ok, e, "match");
                }
            } else if (pass == 0) {
                s = fail_at(&c, k, "unknown top-level key (expected defaults, devices)", key);
            }
        }
    }
done:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return s;
}

vkmm_status vkmm_tuning_apply_file(vkmm_tuning *t, const char *path, const vkmm_tuning_device *dev,
                                   vkmm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkmm_fail(err, VKMM_ERR_IO, "%s: cannot open tuning file: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 > cap) {
            if (cap > (16u << 20)) {
                free(buf);
                fclose(f);
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: tuning file larger than 16 MiB", path);
            }
            cap = cap ? cap * 2 : 8192;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return vkmm_fail(err, VKMM_ERR_IO, "%s: read error", path);
    }
    vkmm_status s = vkmm_tuning_apply(t, buf, n, path, dev, err);
    free(buf);
    return s;
}
