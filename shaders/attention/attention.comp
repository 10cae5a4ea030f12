#version 450
// shaders/attention/attention.comp — fused attention (online softmax, flash style) over an f16 or Q8_0 KV cache,
// grouped-query, with causal / sliding-window / bidirectional-span masking computed from push constants.
#extension GL_GOOGLE_include_directive : require
#include "base.glsl"

// Variant defines: HEAD_DIM (64, 72, 128, 256, 512) and KV_F16 or KV_Q8.
// One workgroup owns ROWS query rows = `gw` heads of one KV group × ROWS/gw consecutive positions, and walks
// the keys those rows may see in tiles of KEYS; each K/V tile is read once for all of them. With n_split > 1
// the key range is cut into n_split parts (grid z) and each writes an unnormalised partial that
// merge.comp combines.
#define D HEAD_DIM
#define D4 (HEAD_DIM / 4)
#define KSTRIDE (D4 + 1) // padded row stride (vec4s) of the K/V tile: rows fall in different banks

layout(constant_id = 1) const uint ROWS = 16;  // query rows per workgroup
layout(constant_id = 2) const uint KEYS = 16;  // keys per tile
layout(constant_id = 3) const uint TPR = 4;    // threads per row in the P·V product (ROWS·TPR <= workgroup)
layout(constant_id = 4) const uint OREG = 16;  // vec4 accumulators per thread = ceil(D4 / TPR)
layout(constant_id = 5) const uint LOADS = 1;  // tile items per thread = ceil(KEYS · ITEMS / workgroup)

// A K/V tile is fetched into registers (the next one while the current one is used), then committed to
// shared memory as f32. An item is 8 halves (one uvec4) of an F16 row, or a pair of Q8_0 blocks (64 values
// in 68 bytes = 17 words, 4-byte aligned because a row holds an even number of blocks).
layout(std430, binding = 0) readonly buffer Qb { float q[]; };
#if defined(KV_F16)
layout(std430, binding = 1) readonly buffer Kb { uvec4 kc[]; };
layout(std430, binding = 2) readonly buffer Vb { uvec4 vc[]; };
#define ITEMS (D / 8)      // items per row
#define ITEM_WORDS 1       // in units of the binding's element
#elif defined(KV_Q8)
layout(std430, binding = 1) readonly buffer Kb { uint kc[]; };
layout(std430, binding = 2) readonly buffer Vb { uint vc[]; };
#define ITEMS (D / 64)
#define ITEM_WORDS 17
#else
#error "define KV_F16 or KV_Q8"
#endif
layout(std430, binding = 3) readonly buffer Sp { int spans[]; };   // (start, end) pairs
layout(std430, binding = 4) writeonly buffer Ob { float o[]; };
layout(std430, binding = 5) writeonly buffer Pb { float part[]; }; // split partials: o[D], m, l, 2 pad per (row, head, split)
// A replayed decode reads the query position and the cache length here (use_dyn 1): {q_pos0, kv_len}; a batch of
// sequences one query row each (use_dyn 2) reads per row j {q_pos, kv_len, page-table offset, 0} at dyn_off + 4j.
layout(std430, binding = 6) readonly buffer Dyn { int dyn[]; };
// A paged cache (page_size > 0): the slot of a position is pages[pt_off + r / page_size]·page_size + r % page_size,
// r the position (or its ring index), so a sequence's keys live in pages of a pool shared with other sequences.
layout(std430, binding = 7) readonly buffer Pg { uint pages[]; };

layout(push_constant) uniform P {
    uint n_q;       // query positions in this dispatch
    uint n_head;    // query heads (row stride of Q and O in heads)
    uint group;     // query heads per KV head
    uint gw;        // heads of one group per workgroup (divides group and ROWS)
    uint kvh0;      // first KV head of this dispatch (the K/V bindings start at its slot 0)
    int q_pos0;     // position of query row 0
    int kv_lo;      // the cache holds positions [kv_lo, kv_len)
    int kv_len;
    uint ring;      // 0: slot = position; else slot = position % ring
    uint capacity;  // slots per KV head
    uint mask;      // bit 0: causal; bit 1: spans keep the window's lower bound (Gemma 4's sliding layers)
    int window;     // 0: no sliding window
    uint n_spans;
    float scale;
    float softcap;  // 0: none
    uint n_split;
    uint q_off, k_off, v_off, s_off, o_off, p_off; // element offsets into the bindings
    uint use_dyn, dyn_off; // with use_dyn, q_pos0 is added to dyn[dyn_off] and kv_len is dyn[dyn_off + 1]
    uint page_size, pt_off; // paged cache: tokens per page (0: not paged) and this sequence's page table
    uint pg_off;            // element offset of the page-table binding (added to every table offset)
} p;

// The positions this workgroup works with: the push constants, or the replay buffer; its page table.
int g_q_pos0, g_kv_lo, g_kv_len;
uint g_pt_off;

#define NEG_INF uintBitsToFloat(0xff800000u)
const int INT_MAX = 0x7fffffff;
const int INT_MIN = -INT_MAX - 1;

shared vec4 Qs[ROWS * D4];          // q · scale
shared vec4 KV[KEYS * KSTRIDE];     // the K tile, then the V tile, as f32
shared float S[ROWS * (KEYS + 1)];  // scores, then probabilities
shared float row_m[ROWS];           // running max
shared float row_alpha[ROWS];       // rescale of this tile
shared ivec4 row_allow[ROWS];       // allowed keys: [x, y) (causal/window) or [z, w) (same span)
shared ivec2 row_need[ROWS];        // hull of the keys the row needs

#if defined(KV_F16)
uvec4 stage[LOADS];
#else
uint stage[LOADS * ITEM_WORDS];
#endif

float softcap_of(float s)
{
    // cap·tanh(s/cap) without overflow: tanh(|x|) = (1 − e^{−2|x|}) / (1 + e^{−2|x|})
    float x = s / p.softcap;
    float t = exp(-2.0 * abs(x));
    return p.softcap * sign(x) * ((1.0 - t) / (1.0 + t));
}

uint slot_of(int pos)
{
    uint r = p.ring != 0 ? uint(pos) % p.ring : uint(pos);
    if (p.page_size == 0u)
        return r;
    return pages[p.pg_off + g_pt_off + r / p.page_size] * p.page_size + r % p.page_size;
}

// Loads keys [base, base + KEYS) of kv head `kvh` (relative to the binding) into registers; keys at or past
// `end` load as zeros so that P·V never meets stale or NaN data. Consecutive threads read consecutive items
// of a row: loads coalesce.
void fetch(bool is_v, uint kvh, int base, int end)
{
    for (uint l = 0u; l < LOADS; l++) {
        uint it = gl_LocalInvocationIndex + l * gl_WorkGroupSize.x;
        uint kk = it / ITEMS, c = it % ITEMS;
        int pos = base + int(kk);
        bool live = it < KEYS * ITEMS && pos < end;
        uint idx = (is_v ? p.v_off : p.k_off) + ((kvh * p.capacity + slot_of(pos)) * ITEMS + c) * ITEM_WORDS;
        // branches, not selects: a load past the binding must never be issued
#if defined(KV_F16)
        stage[l] = uvec4(0u);
        if (live) {
            if (is_v)
                stage[l] = vc[idx];
            else
                stage[l] = kc[idx];
        }
#else
        for (uint w = 0u; w < ITEM_WORDS; w++) {
            stage[l * ITEM_WORDS + w] = 0u;
            if (live) {
                if (is_v)
                    stage[l * ITEM_WORDS + w] = vc[idx + w];
                else
                    stage[l * ITEM_WORDS + w] = kc[idx + w];
            }
        }
#endif
    }
}

#if defined(KV_Q8)
// byte j of a staged block pair, as a signed code
int code_at(uint l, uint j)
{
    return int(stage[l * ITEM_WORDS + (j >> 2)] << (24u - 8u * (j & 3u))) >> 24;
}
#endif

// Writes the staged tile into KV as f32.
void commit()
{
    for (uint l = 0u; l < LOADS; l++) {
        uint it = gl_LocalInvocationIndex + l * gl_WorkGroupSize.x;
        if (it >= KEYS * ITEMS)
            break;
        uint kk = it / ITEMS, c = it % ITEMS;
#if defined(KV_F16)
        uvec4 w = stage[l];
        KV[kk * KSTRIDE + 2u * c] = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
        KV[kk * KSTRIDE + 2u * c + 1u] = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
#else
        // block A: d in bytes 0-1, codes in bytes 2-33; block B: d in bytes 34-35, codes in bytes 36-67
        float da = unpackHalf2x16(stage[l * ITEM_WORDS]).x;
        float db = unpackHalf2x16(stage[l * ITEM_WORDS + 8u] >> 16).x;
        for (uint e = 0u; e < 8u; e++) {
            uint j = 2u + 4u * e;
            KV[kk * KSTRIDE + 16u * c + e] =
                da * vec4(code_at(l, j), code_at(l, j + 1u), code_at(l, j + 2u), code_at(l, j + 3u));
            j += 34u;
            KV[kk * KSTRIDE + 16u * c + 8u + e] =
                db * vec4(code_at(l, j), code_at(l, j + 1u), code_at(l, j + 2u), code_at(l, j + 3u));
        }
#endif
    }
}

void main()
{
    const uint tid = gl_LocalInvocationIndex;
    g_q_pos0 = p.q_pos0;
    g_kv_lo = p.kv_lo;
    g_kv_len = p.kv_len;
    g_pt_off = p.pt_off;
    if (p.use_dyn == 1u) {
        g_q_pos0 += dyn[p.dyn_off];
        g_kv_len = dyn[p.dyn_off + 1u];
        g_kv_lo = p.ring != 0u && g_kv_len > int(p.ring) ? g_kv_len - int(p.ring) : 0;
    } else if (p.use_dyn == 2u) {
        // one sequence per workgroup (one query position each: the host plans ROWS = gw heads)
        uint j = p.dyn_off + 4u * gl_WorkGroupID.x;
        g_q_pos0 = dyn[j] - int(gl_WorkGroupID.x); // row i = workgroup x sits at position dyn[j]
        g_kv_len = dyn[j + 1u];
        g_pt_off = uint(dyn[j + 2u]);
        g_kv_lo = p.ring != 0u && g_kv_len > int(p.ring) ? g_kv_len - int(p.ring) : 0;
    }
    const uint bp = ROWS / p.gw;                 // positions per workgroup
    const uint hblocks = p.group / p.gw;
    const uint kvh = gl_WorkGroupID.y / hblocks; // relative to kvh0
    const uint head0 = (p.kvh0 + kvh) * p.group + (gl_WorkGroupID.y % hblocks) * p.gw;
    const uint i0 = gl_WorkGroupID.x * bp;

    // Q rows, pre-scaled.
    for (uint it = tid; it < ROWS * D4; it += gl_WorkGroupSize.x) {
        uint r = it / D4, c = it % D4;
        uint i = i0 + r / p.gw;
        vec4 val = vec4(0.0);
        if (i < p.n_q) {
            uint base = p.q_off + (i * p.n_head + head0 + r % p.gw) * D + c * 4u;
            val = vec4(q[base], q[base + 1u], q[base + 2u], q[base + 3u]) * p.scale;
        }
        Qs[it] = val;
    }
    // Per-row mask intervals and the keys each row needs.
    if (tid < ROWS) {
        uint i = i0 + tid / p.gw;
        ivec4 allow = ivec4(0);
        ivec2 need = ivec2(INT_MAX, INT_MIN);
        if (i < p.n_q) {
            int pq = g_q_pos0 + int(i);
            allow.x = p.window > 0 ? pq - p.window + 1 : INT_MIN;
            allow.y = (p.mask & 1u) != 0u ? pq + 1 : INT_MAX;
            // the union of the spans holding pq is one interval: they all contain pq
            allow.z = INT_MAX;
            allow.w = INT_MIN;
            for (uint s = 0u; s < p.n_spans; s++) {
                int st = spans[p.s_off + 2u * s], en = spans[p.s_off + 2u * s + 1u];
                if (st <= pq && pq < en) {
                    allow.z = min(allow.z, st);
                    allow.w = max(allow.w, en);
                }
            }
            if ((p.mask & 2u) != 0u)
                allow.z = max(allow.z, allow.x);
            int lo = max(allow.x, g_kv_lo), hi = min(allow.y, g_kv_len);
            if (lo < hi)
                need = ivec2(lo, hi);
            lo = max(allow.z, g_kv_lo);
            hi = min(allow.w, g_kv_len);
            if (lo < hi)
                need = ivec2(min(need.x, lo), max(need.y, hi));
        }
        row_allow[tid] = allow;
        row_need[tid] = need;
        row_m[tid] = NEG_INF;
    }
    barrier();

    // The workgroup's key range (same in every thread, so the tile loop below is uniform), then this split's part.
    int lo = INT_MAX, hi = INT_MIN;
    for (uint r = 0u; r < ROWS; r++) {
        lo = min(lo, row_need[r].x);
        hi = max(hi, row_need[r].y);
    }
    int first = 0, end = 0;
    if (lo < hi) {
        int per = (hi - lo + int(p.n_split) - 1) / int(p.n_split);
        per = (per + int(KEYS) - 1) / int(KEYS) * int(KEYS);
        first = lo + int(gl_WorkGroupID.z) * per;
        end = min(hi, first + per);
    }

    const bool pv_thread = tid < ROWS * TPR;
    const uint pr = tid / TPR, lane = tid % TPR;
    vec4 acc[OREG];
    for (uint j = 0u; j < OREG; j++)
        acc[j] = vec4(0.0);
    float l = 0.0;

    // Software pipeline: the V tile loads while scores are computed, the next K tile while P·V runs.
    if (first < end)
        fetch(false, kvh, first, end);
    for (int base = first; base < end; base += int(KEYS)) {
        commit();
        barrier();
        fetch(true, kvh, base, end);
        // scores, masked
        for (uint it = tid; it < ROWS * KEYS; it += gl_WorkGroupSize.x) {
            uint r = it / KEYS, kk = it % KEYS;
            int pos = base + int(kk);
            ivec4 a = row_allow[r];
            float s = NEG_INF;
            if (pos < end && ((pos >= a.x && pos < a.y) || (pos >= a.z && pos < a.w))) {
                // two vec4 accumulators: eight independent FMA chains instead of one long one
                vec4 a0 = vec4(0.0), a1 = vec4(0.0);
                for (uint c = 0u; c < D4; c += 2u) {
                    a0 += Qs[r * D4 + c] * KV[kk * KSTRIDE + c];
                    a1 += Qs[r * D4 + c + 1u] * KV[kk * KSTRIDE + c + 1u];
                }
                float dotp = dot(a0 + a1, vec4(1.0));
                s = p.softcap > 0.0 ? softcap_of(dotp) : dotp;
            }
            S[r * (KEYS + 1u) + kk] = s;
        }
        barrier();
        commit();
        if (tid < ROWS) {
            float mt = NEG_INF;
            for (uint kk = 0u; kk < KEYS; kk++)
                mt = max(mt, S[tid * (KEYS + 1u) + kk]);
            float m_old = row_m[tid], m_new = max(m_old, mt);
            row_alpha[tid] = m_old == NEG_INF ? 0.0 : exp(m_old - m_new);
            row_m[tid] = m_new;
        }
        barrier();
        if (base + int(KEYS) < end)
            fetch(false, kvh, base + int(KEYS), end);
        for (uint it = tid; it < ROWS * KEYS; it += gl_WorkGroupSize.x) {
            uint r = it / KEYS, kk = it % KEYS;
            float s = S[r * (KEYS + 1u) + kk];
            S[r * (KEYS + 1u) + kk] = s == NEG_INF ? 0.0 : exp(s - row_m[r]);
        }
        barrier();
        if (pv_thread) {
            float alpha = row_alpha[pr];
            l *= alpha;
            for (uint j = 0u; j < OREG; j++)
                acc[j] *= alpha;
            for (uint kk = 0u; kk < KEYS; kk++) {
                float w = S[pr * (KEYS + 1u) + kk];
                l += w;
                for (uint j = 0u; j < OREG; j++) {
                    uint c = lane + j * TPR;
                    if (c < D4)
                        acc[j] += w * KV[kk * KSTRIDE + c];
                }
            }
        }
        barrier();
    }

    uint i = i0 + pr / p.gw;
    if (!pv_thread || i >= p.n_q)
        return;
    uint head = head0 + pr % p.gw;
    if (p.n_split > 1u) {
        uint base = p.p_off + ((i * p.n_head + head) * p.n_split + gl_WorkGroupID.z) * (D + 4u);
        for (uint j = 0u; j < OREG; j++) {
            uint c = lane + j * TPR;
            if (c < D4) {
                part[base + c * 4u] = acc[j].x;
                part[base + c * 4u + 1u] = acc[j].y;
                part[base + c * 4u + 2u] = acc[j].z;
                part[base + c * 4u + 3u] = acc[j].w;
            }
        }
        if (lane == 0u) {
            part[base + D] = row_m[pr];
            part[base + D + 1u] = l;
        }
    } else {
        // a row that saw no allowed key has l = 0 and acc = 0: it writes zeros
        float inv = l > 0.0 ? 1.0 / l : 0.0;
        uint base = p.o_off + (i * p.n_head + head) * D;
        for (uint j = 0u; j < OREG; j++) {
            uint c = lane + j * TPR;
            if (c < D4) {
                vec4 v = acc[j] * inv;
                o[base + c * 4u] = v.x;
                o[base + c * 4u + 1u] = v.y;
                o[base + c * 4u + 2u] = v.z;
                o[base + c * 4u + 3u] = v.w;
            }
        }
    }
}
