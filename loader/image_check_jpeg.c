/* loader/image_check_jpeg.c — walks a JPEG's markers from SOI to EOI before stb_image decodes it: every segment
 * within the file, the frame header's size and coding, Huffman and quantisation tables well formed, and every
 * scan using only tables defined before it. stb_image 2.27 trusts all of these: it reads zeros past a
 * truncated scan (a grey image instead of an error), overruns its 257-entry code-size table on a DHT of more
 * than 256 codes, and decodes with uninitialised tables (out-of-bounds reads) when a scan names a table no
 * DHT defined; the last two were found by fuzzing (tests/fuzz/regressions/image/). */
#include <stdbool.h>

#include "image_check.h"

typedef struct jpeg_state {
    const char *name;
    vkmm_error *err;
    bool sof, sos;
    uint8_t huff[2]; /* bit id set when Huffman table (class, id) is defined; class 0 DC, 1 AC */
    uint8_t quant;   /* bit id set when quantisation table id is defined */
    int ncomp;
    uint8_t comp_id[4], comp_tq[4];
} jpeg_state;

static vkmm_status corrupt(jpeg_state *st, const char *what, size_t at)
{
    return vkmm_fail(st->err, VKMM_ERR_FORMAT, "%s: corrupt JPEG: %s (segment at offset %zu)", st->name, what, at);
}

/* Huffman tables: class 0/1, id 0..3, at most 256 codes, all symbols present, and code lengths that fit
 * (the canonical code never overflows its length), as libjpeg requires. */
static vkmm_status dht(jpeg_state *st, const uint8_t *p, size_t len, size_t at)
{
    size_t i = 0;
    while (i < len) {
        if (len - i < 17 || (p[i] >> 4) > 1 || (p[i] & 15) > 3)
            return corrupt(st, "bad Huffman table header", at);
        size_t n = 0;
        uint32_t code = 0;
        for (int k = 1; k <= 16; k++) {
            n += p[i + k];
            code += p[i + k];
            if (code > (1u << k))
                return corrupt(st, "Huffman code lengths overflow", at);
            code <<= 1;
        }
        if (n > 256 || n > len - i - 17)
            return corrupt(st, "Huffman table with more than 256 codes or missing symbols", at);
        st->huff[p[i] >> 4] |= (uint8_t)(1u << (p[i] & 15));
        i += 17 + n;
    }
    return VKMM_OK;
}

static vkmm_status dqt(jpeg_state *st, const uint8_t *p, size_t len, size_t at)
{
    size_t i = 0;
    while (i < len) {
        unsigned pq = p[i] >> 4, tq = p[i] & 15;
        if (pq > 1 || tq > 3 || len - i < 1 + 64 * (pq + 1))
            return corrupt(st, "bad quantisation table", at);
        st->quant |= (uint8_t)(1u << tq);
        i += 1 + 64 * (pq + 1);
    }
    return VKMM_OK;
}

static vkmm_status sof(jpeg_state *st, uint8_t m, const uint8_t *p, size_t len, size_t at, uint32_t *w, uint32_t *h)
{
    if (m > 0xc2)
        return vkmm_fail(st->err, VKMM_ERR_UNSUPPORTED,
                         "%s: JPEG with %s coding (marker 0xff%02x) is not supported (baseline and progressive only)",
                         st->name,
                         m == 0xc3 || m == 0xc7 || m == 0xcb || m == 0xcf ? "lossless"
                         : m >= 0xc9                                      ? "arithmetic"
                                                                          : "hierarchical",
                         m);
    if (len < 6 || p[5] < 1 || p[5] > 4 || len != 6 + 3 * (size_t)p[5])
        return corrupt(st, "bad frame header", at);
    *h = (uint32_t)p[1] << 8 | p[2];
    *w = (uint32_t)p[3] << 8 | p[4];
    st->ncomp = p[5];
    for (int c = 0; c < st->ncomp; c++) {
        st->comp_id[c] = p[6 + 3 * c];
        st->comp_tq[c] = p[8 + 3 * c];
    }
    st->sof = true;
    return VKMM_OK;
}

/* A scan may use only tables defined before it: the DC table when it codes DC values (Ss = 0, first pass),
 * the AC table when it covers any AC coefficient (Se > 0), and each component's quantisation table. */
static vkmm_status sos(jpeg_state *st, const uint8_t *p, size_t len, size_t at)
{
    if (!st->sof)
        return corrupt(st, "scan before any frame header", at);
    if (len < 1 || p[0] < 1 || p[0] > 4 || len != 4 + 2 * (size_t)p[0])
        return corrupt(st, "bad scan header", at);
    int ns = p[0];
    uint8_t ss = p[1 + 2 * ns], se = p[2 + 2 * ns], ah = p[3 + 2 * ns] >> 4;
    for (int i = 0; i < ns; i++) {
        int c = 0;
        while (c < st->ncomp && st->comp_id[c] != p[1 + 2 * i])
            c++;
        if (c == st->ncomp)
            return corrupt(st, "scan names a component the frame does not have", at);
        unsigned td = p[2 + 2 * i] >> 4, ta = p[2 + 2 * i] & 15;
        if (td > 3 || ta > 3 || st->comp_tq[c] > 3 || !(st->quant >> st->comp_tq[c] & 1))
            return corrupt(st, "scan uses an undefined quantisation table", at);
        if ((ss == 0 && ah == 0 && !(st->huff[0] >> td & 1)) || (se > 0 && !(st->huff[1] >> ta & 1)))
            return corrupt(st, "scan uses an undefined Huffman table", at);
    }
    st->sos = true;
    return VKMM_OK;
}

vkmm_status vkmm_image_check_jpeg(const uint8_t *d, size_t n, const char *name, uint32_t *w, uint32_t *h,
                                  vkmm_error *err)
{
    jpeg_state st = {.name = name, .err = err};
    size_t off = 2;
    for (;;) {
        if (off >= n)
            return vkmm_fail(err, VKMM_ERR_FORMAT,
                             "%s: truncated JPEG: file ends at offset %zu before the end-of-image marker", name, n);
        if (d[off] != 0xff)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt JPEG: expected a marker at offset %zu, found 0x%02x",
                             name, off, d[off]);
        while (off < n && d[off] == 0xff) /* fill bytes */
            off++;
        if (off >= n)
            continue;
        uint8_t m = d[off++];
        size_t at = off - 2;
        if (m == 0xd9) {
            if (!st.sos)
                return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt JPEG: end of image at offset %zu before any scan",
                                 name, at);
            return VKMM_OK;
        }
        if ((m >= 0xd0 && m <= 0xd7) || m == 0x01)
            continue; /* standalone markers */
        if (m == 0xd8 || m == 0x00)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: corrupt JPEG: unexpected marker 0xff%02x at offset %zu", name,
                             m, at);
        if (n - off < 2)
            return vkmm_fail(err, VKMM_ERR_FORMAT, "%s: truncated JPEG: marker 0xff%02x at offset %zu has no length",
                             name, m, at);
        size_t len = (size_t)d[off] << 8 | d[off + 1];
        if (len < 2 || len > n - off)
            return vkmm_fail(err, VKMM_ERR_FORMAT,
                             "%s: %s JPEG: segment 0xff%02x at offset %zu claims %zu bytes, %zu remain", name,
                             len < 2 ? "corrupt" : "truncated", m, at, len, n - off);
        const uint8_t *p = d + off + 2;
        vkmm_status s = VKMM_OK;
        if (m == 0xc4)
            s = dht(&st, p, len - 2, at);
        else if (m == 0xdb)
            s = dqt(&st, p, len - 2, at);
        else if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (st.sof)
                s = corrupt(&st, "a second frame header", at);
            else
                s = sof(&st, m, p, len - 2, at, w, h);
        } else if (m == 0xda)
            s = sos(&st, p, len - 2, at);
        if (s)
            return s;
        off += len;
        if (m != 0xda)
            continue;
        /* entropy-coded data: 0xff00 is a stuffed byte, 0xffd0..d7 a restart, any other 0xffxx a marker */
        for (;;) {
            while (off < n && d[off] != 0xff)
                off++;
            if (n - off < 2)
                return vkmm_fail(err, VKMM_ERR_FORMAT,
                                 "%s: truncated JPEG: scan data from offset %zu runs to the end of the file", name,
                                 at);
            uint8_t b = d[off + 1];
            if (b == 0x00 || (b >= 0xd0 && b <= 0xd7))
                off += 2;
            else if (b == 0xff)
                off++;
            else
                break;
        }
    }
}
