// shaders/matmul/lanes_blocks.glsl — row_dot(rb) of matvec_lanes.comp per weight type: walks the blocks of this
// lane's rows (bytes rb[j]), reads each through WINDOW, decodes it with constant shifts (every loop inside a block
// is unrolled) and hands each weight to mac() with its element's place in the block's x quads.
// Layouts: ../shared/reference/gguf.md §6. With ALIGNED the rows start on texels and a step covers whole texels
// (Q4_0, Q8_0: 8 blocks; K-quants: one super-block), so every window's shift is a constant.

// the four bytes of a word, sign-extended (Q8_0) / a nibble as a signed number (Q4_0 after xor 0x88888888)
float sbyte(uint w, uint b) { return float(int(w << (24u - 8u * b)) >> 24); }
float snib(uint w, uint s) { return float(int(w << (28u - s)) >> 28); }
uint ubyte(uint w, uint b) { return (w >> (8u * b)) & 0xffu; }
uint fun16(uint lo, uint hi) { return (lo >> 16) | (hi << 16); }

#if defined(DQ_TYPE_Q4_0)
// 18 bytes: f16 d, 16 code bytes; byte i holds element i (low nibble) and i + 16 (high), value d·(q − 8)
void block_q(uint j, uint w[5], vec4 xv[NCOLS])
{
    float d = unpackHalf2x16(w[0]).x;
    uint q[4];
    [[unroll]] for (uint i = 0u; i < 4u; i++)
        q[i] = fun16(w[i], w[i + 1u]) ^ 0x88888888u;
    part_begin();
    // by x component first: each column's quad component b is done with once its eight elements are
    [[unroll]] for (uint b = 0u; b < 4u; b++)
        [[unroll]] for (uint i = 0u; i < 4u; i++) {
            part_mac(j, d, snib(q[i], 8u * b), 4u * i + b, xv);
            part_mac(j, d, snib(q[i], 8u * b + 4u), 16u + 4u * i + b, xv);
        }
    part_end(j, d);
}
#define BLOCK_BYTES 18u
#define BLOCK_WORDS 5u

#elif defined(DQ_TYPE_Q8_0)
// 34 bytes: f16 d, 32 signed bytes
void block_q(uint j, uint w[9], vec4 xv[NCOLS])
{
    float d = unpackHalf2x16(w[0]).x;
    part_begin();
    [[unroll]] for (uint i = 0u; i < 8u; i++) {
        uint q = fun16(w[i], w[i + 1u]);
        [[unroll]] for (uint b = 0u; b < 4u; b++)
            part_mac(j, d, sbyte(q, b), 4u * i + b, xv);
    }
    part_end(j, d);
}
#define BLOCK_BYTES 34u
#define BLOCK_WORDS 9u
#endif

#if defined(DQ_TYPE_Q4_0) || defined(DQ_TYPE_Q8_0)
#define STEP_TEXELS (BLOCK_BYTES / 2u) // 8 blocks
void row_dot(uint rb[RPL])
{
    uint nb = p.k / 32u;
    if (ALIGNED != 0u) {
        // rows start on texels and 8 blocks are whole texels (the host sets ALIGNED only then): a step's texels
        // are read once, blocks are cut from them at constant offsets
        for (uint s = 0u; s < nb / 8u; s++) {
            uint sw[RPL][STEP_TEXELS * 4u + 1u];
            [[unroll]] for (uint j = 0u; j < RPL; j++) {
                [[unroll]] for (uint t = 0u; t < STEP_TEXELS; t++) {
                    uvec4 v = wfetch(j, (rb[j] >> 4) + STEP_TEXELS * s + t);
                    sw[j][4u * t] = v.x; sw[j][4u * t + 1u] = v.y; sw[j][4u * t + 2u] = v.z; sw[j][4u * t + 3u] = v.w;
                }
                sw[j][STEP_TEXELS * 4u] = 0u;
            }
            [[unroll]] for (uint i = 0u; i < 8u; i++) {
                vec4 xv[NCOLS];
                fetch_x(8u * s + i, xv);
                [[unroll]] for (uint j = 0u; j < RPL; j++) {
                    uint w[BLOCK_WORDS];
                    SLICE(sw[j], BLOCK_BYTES * i, BLOCK_WORDS, w);
                    block_q(j, w, xv);
                }
            }
        }
        return;
    }
    for (uint b = 0u; b < nb; b++) {
        vec4 xv[NCOLS];
        fetch_x(b, xv);
        [[unroll]] for (uint j = 0u; j < RPL; j++) {
            uint w[BLOCK_WORDS];
            WINDOW(j, rb[j] + BLOCK_BYTES * b, 0u, BLOCK_WORDS, w);
            block_q(j, w, xv);
        }
    }
}

#elif defined(DQ_TYPE_Q4_K)
// 144-byte super-blocks: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 code bytes; chunk c (32 bytes)
// holds sub-block 2c in its low nibbles and 2c + 1 in its high ones; value d·sc·q − dmin·m, summed as
// d·sc·Σq·x − dmin·m·Σx where few accumulators are live
void q4_k_sub(uint j, uint q[8], uint sh, float s, float m, vec4 xv[NCOLS])
{
    part_begin();
    [[unroll]] for (uint i = 0u; i < 8u; i++)
        [[unroll]] for (uint b = 0u; b < 4u; b++) {
            float v = float((q[i] >> (8u * b + sh)) & 15u);
            if (PARTIAL)
                [[unroll]] for (uint c = 0u; c < NCOLS; c++)
                    part[c * CH + (4u * i + b) % CH] += v * xe(xv, c, 4u * i + b);
            else
                mac(j, v * s - m, 4u * i + b, xv);
        }
    if (PARTIAL)
        [[unroll]] for (uint c = 0u; c < NCOLS; c++)
            acc[(j * NCOLS + c) * CH] += s * part_sum(c) - m * xsum(xv, c);
}
void row_dot(uint rb[RPL])
{
    for (uint s = 0u; s < p.k / 256u; s++) {
        uint hd[RPL][4];
        [[unroll]] for (uint j = 0u; j < RPL; j++)
            WINDOW(j, rb[j] + 144u * s, 0u, 4u, hd[j]);
        [[unroll]] for (uint c = 0u; c < 4u; c++) {
            vec4 xlo[NCOLS], xhi[NCOLS];
            fetch_x(8u * s + 2u * c, xlo);
            fetch_x(8u * s + 2u * c + 1u, xhi);
            [[unroll]] for (uint j = 0u; j < RPL; j++) {
                uint q[8];
                WINDOW(j, rb[j] + 144u * s + 16u + 32u * c, 0u, 8u, q);
                uint k0 = 2u * c, sc0, sc1, m0, m1;
                if (c < 2u) {
                    sc0 = ubyte(hd[j][1], k0) & 63u;
                    sc1 = ubyte(hd[j][1], k0 + 1u) & 63u;
                    m0 = ubyte(hd[j][2], k0) & 63u;
                    m1 = ubyte(hd[j][2], k0 + 1u) & 63u;
                } else {
                    uint k4 = k0 - 4u, t0 = ubyte(hd[j][3], k4), t1 = ubyte(hd[j][3], k4 + 1u);
                    sc0 = (t0 & 15u) | ((ubyte(hd[j][1], k4) >> 6) << 4);
                    sc1 = (t1 & 15u) | ((ubyte(hd[j][1], k4 + 1u) >> 6) << 4);
                    m0 = (t0 >> 4) | ((ubyte(hd[j][2], k4) >> 6) << 4);
                    m1 = (t1 >> 4) | ((ubyte(hd[j][2], k4 + 1u) >> 6) << 4);
                }
                vec2 dm = unpackHalf2x16(hd[j][0]);
                q4_k_sub(j, q, 0u, dm.x * float(sc0), dm.y * float(m0), xlo);
                q4_k_sub(j, q, 4u, dm.x * float(sc1), dm.y * float(m1), xhi);
            }
        }
    }
}

#elif defined(DQ_TYPE_Q6_K)
// 210-byte super-blocks: ql[128], qh[64], int8 scales[16], f16 d. Element 128n + 32g + l: low four bits in ql byte
// 64n + 32(g & 1) + l (high nibble for g >= 2), high two in qh byte 32n + l at bit 2g, scale 8n + 2g + l / 16;
// value d·sc·(q − 32). 210 is not a multiple of 16: one window per super-block, shifted at run time.
void row_dot(uint rb[RPL])
{
    for (uint s = 0u; s < p.k / 256u; s++) {
        uint bw[RPL][53];
        [[unroll]] for (uint j = 0u; j < RPL; j++)
            WINDOW(j, rb[j] + 210u * s, 0u, 53u, bw[j]);
        [[unroll]] for (uint n = 0u; n < 2u; n++)
            [[unroll]] for (uint g = 0u; g < 4u; g++) {
                vec4 xv[NCOLS];
                fetch_x(8u * s + 4u * n + g, xv);
                [[unroll]] for (uint j = 0u; j < RPL; j++) {
                    float d = unpackHalf2x16(bw[j][52]).x;
                    [[unroll]] for (uint h = 0u; h < 2u; h++) {
                        uint si = 8u * n + 2u * g + h;
                        float ds = d * sbyte(bw[j][48u + (si >> 2)], si & 3u);
                        part_begin();
                        [[unroll]] for (uint ii = 0u; ii < 4u; ii++) { // (constant bounds: unrolled first)
                            uint i = 4u * h + ii;
                            // q − 32 as a signed 6-bit field: flip bit 5, then sign-extend
                            uint v = (((bw[j][16u * n + 8u * (g & 1u) + i] >> (4u * (g >> 1))) & 0x0f0f0f0fu) |
                                      (((bw[j][32u + 8u * n + i] >> (2u * g)) & 0x03030303u) << 4)) ^ 0x20202020u;
                            [[unroll]] for (uint b = 0u; b < 4u; b++)
                                part_mac(j, ds, float(int(v << (26u - 8u * b)) >> 26), 4u * i + b, xv);
                        }
                        part_end(j, ds);
                    }
                }
            }
    }
}

#elif defined(DQ_TYPE_F16)
// halves; 32 elements are 4 texels (rows start on texels: the host takes this kernel for F16 only then). A last
// block shorter than 32 zeroes both x and the weights past the row's end (what follows may be anything).
void plain_block(uint rb[RPL], uint b, uint n, vec4 xv[NCOLS])
{
    [[unroll]] for (uint j = 0u; j < RPL; j++) {
        uvec4 h[4];
        [[unroll]] for (uint t = 0u; t < 4u; t++)
            h[t] = wfetch(j, (rb[j] >> 4) + 4u * b + t);
        // by x component first (element 4l + c sits in lane l's quad at c): a column's component is done with
        // once its eight elements are, so fewer x values stay live (F16 has no partial sums to hide them behind)
        [[unroll]] for (uint c = 0u; c < 4u; c++)
            [[unroll]] for (uint l = 0u; l < 8u; l++) {
                uint e = 4u * l + c;
                vec2 f = unpackHalf2x16(h[e / 8u][(e % 8u) / 2u]);
                mac(j, e < n ? ((e & 1u) != 0u ? f.y : f.x) : 0.0, e, xv);
            }
    }
}
#endif

#if defined(DQ_TYPE_F32)
// floats; 32 elements are 8 texels (rows of whole texels: the host takes this kernel for F32 only when k is a
// multiple of 4). As F16, by x component first; a last block shorter than 32 fetches only its own texels.
void plain_block(uint rb[RPL], uint b, uint n, vec4 xv[NCOLS])
{
    [[unroll]] for (uint j = 0u; j < RPL; j++) {
        uvec4 t[8];
        [[unroll]] for (uint l = 0u; l < 8u; l++)
            t[l] = 4u * l < n ? wfetch(j, (rb[j] >> 4) + 8u * b + l) : uvec4(0u);
        [[unroll]] for (uint c = 0u; c < 4u; c++)
            [[unroll]] for (uint l = 0u; l < 8u; l++) {
                uint e = 4u * l + c;
                mac(j, e < n ? uintBitsToFloat(t[l][c]) : 0.0, e, xv);
            }
    }
}
#endif

#if defined(DQ_TYPE_F16) || defined(DQ_TYPE_F32)
// blocks of 32 elements of a plain type (plain_block above), the last one short where k is not a multiple of 32
void row_dot(uint rb[RPL])
{
    uint nb = p.k / 32u;
    for (uint b = 0u; b < nb; b++) {
        vec4 xv[NCOLS];
        fetch_x(b, xv);
        plain_block(rb, b, 32u, xv);
    }
    if (p.k % 32u != 0u) {
        vec4 xv[NCOLS];
        fetch_x_tail(nb, xv);
        plain_block(rb, nb, p.k % 32u, xv);
    }
}
#endif
