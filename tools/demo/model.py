"""tools/demo/model.py — the demo model in PyTorch with the real Gemma 3 architecture (gemma3.md §3, §5.4-5.7):
a SigLIP vision tower, the Gemma 3 projector (average pooling, RMSNorm, input projection x·P) and the Gemma 3
text decoder (scaled embeddings, pre/post RMSNorms with the (1 + w) weights, QK-norm, NEOX RoPE with local and
global bases, 5 local : 1 global layers with a sliding window, GeGLU, tied head, image tokens bidirectional
within their span). Parameter names follow the GGUF tensor names so export is a rename-free walk."""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    n_vocab: int = 549
    n_embd: int = 128
    n_layer: int = 6
    n_head: int = 2
    n_kv: int = 1
    head_dim: int = 64
    n_ff: int = 256
    window: int = 48
    n_ctx: int = 256
    eps: float = 1e-6
    rope_local: float = 10000.0
    rope_global: float = 1000000.0
    rope_factor: float = 8.0  # linear scaling, global layers only
    v_image: int = 168
    v_patch: int = 14
    v_embd: int = 128
    v_layer: int = 3
    v_head: int = 2
    v_ff: int = 512
    v_pool: int = 3
    v_eps: float = 1e-6

    def dict(self):
        return asdict(self)

    @property
    def grid(self):
        return self.v_image // self.v_patch

    @property
    def n_image_tokens(self):
        return (self.grid // self.v_pool) ** 2

    def is_global(self, il):
        return il % 6 == 5


def gelu(x):
    return F.gelu(x, approximate="tanh")


class RMSNorm(nn.Module):
    """Gemma's norm: x / rms(x) · (1 + w), w stored from zero (the GGUF gets w + 1)."""

    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * (1.0 + self.weight)


class VisionLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        E = c.v_embd
        self.ln1 = nn.LayerNorm(E, eps=c.v_eps)
        self.attn_q, self.attn_k, self.attn_v, self.attn_out = (nn.Linear(E, E) for _ in range(4))
        self.ln2 = nn.LayerNorm(E, eps=c.v_eps)
        self.ffn_up = nn.Linear(E, c.v_ff)
        self.ffn_down = nn.Linear(c.v_ff, E)
        self.n_head = c.v_head

    def forward(self, x):
        B, T, E = x.shape
        hd = E // self.n_head
        h = self.ln1(x)
        q, k, v = (p(h).view(B, T, self.n_head, hd).transpose(1, 2) for p in (self.attn_q, self.attn_k, self.attn_v))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1) @ v  # bidirectional
        x = x + self.attn_out(a.transpose(1, 2).reshape(B, T, E))
        return x + self.ffn_down(gelu(self.ffn_up(self.ln2(x))))


def sincos_2d(grid, dim):
    """A 2-D sine-cosine table (half the channels for the row, half for the column) as the starting value of the
    learned position embeddings: attention can find a patch's neighbours from the first step, which a ViT
    trained from scratch on little data otherwise learns slowly."""
    q = dim // 4
    freq = 1.0 / (100.0 ** (torch.arange(q, dtype=torch.float64) / q))
    r = torch.arange(grid, dtype=torch.float64)[:, None] * freq
    rows = torch.cat([torch.sin(r), torch.cos(r)], dim=1)  # (grid, dim/2)
    pe = torch.cat([rows[:, None, :].expand(grid, grid, 2 * q), rows[None, :, :].expand(grid, grid, 2 * q)], dim=2)
    return pe.reshape(grid * grid, 4 * q).float()


class Vision(nn.Module):
    """SigLIP tower + Gemma 3 projector: pixels (B, 3, S, S) in [-1, 1] -> (B, n_image_tokens, n_embd)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.patch_embd = nn.Conv2d(3, c.v_embd, c.v_patch, stride=c.v_patch, bias=True)
        self.position_embd = nn.Parameter(sincos_2d(c.grid, c.v_embd))
        self.blk = nn.ModuleList(VisionLayer(c) for _ in range(c.v_layer))
        self.post_ln = nn.LayerNorm(c.v_embd, eps=c.v_eps)
        with torch.no_grad():
            for layer in self.blk:  # mimetic start: q·k is a similarity, so patches first attend to their like
                layer.attn_k.weight.copy_(layer.attn_q.weight)
        self.soft_emb_norm = RMSNorm(c.v_embd, c.v_eps)
        # y = x · P, P of torch shape (v_embd, n_embd): the GGUF stores it as ne = [n_embd, v_embd]
        self.input_projection = nn.Parameter(torch.randn(c.v_embd, c.n_embd) / math.sqrt(c.v_embd))

    def tower(self, img):
        """The SigLIP part: (B, grid*grid, v_embd), patch p = grid*row + col."""
        x = self.patch_embd(img).flatten(2).transpose(1, 2)
        x = x + self.position_embd
        for layer in self.blk:
            x = layer(x)
        return self.post_ln(x)

    def forward(self, img, tokens=None):
        """tokens: the tower's output when already computed."""
        c = self.c
        x = self.tower(img) if tokens is None else tokens
        B, _, E = x.shape
        g = x.transpose(1, 2).reshape(B, E, c.grid, c.grid)
        y = F.avg_pool2d(g, c.v_pool, c.v_pool).flatten(2).transpose(1, 2)  # tokens row-major
        return self.soft_emb_norm(y) @ self.input_projection


def rope_tables(c, n_pos, device=None):
    """cos/sin per layer kind, (n_pos, head_dim/2): θ_i = p · s · b^(-2i/d)."""
    d = c.head_dim
    i = torch.arange(d // 2, dtype=torch.float64)
    p = torch.arange(n_pos, dtype=torch.float64)[:, None]
    out = {}
    for kind, base, scale in (("local", c.rope_local, 1.0), ("global", c.rope_global, 1.0 / c.rope_factor)):
        th = p * scale * base ** (-2.0 * i / d)
        out[kind] = (torch.cos(th).float().to(device), torch.sin(th).float().to(device))
    return out


def rope(x, cs):
    """NEOX rotation of (B, heads, T, d): pairs (i, i + d/2)."""
    cos, sin = cs
    d2 = x.shape[-1] // 2
    a, b = x[..., :d2], x[..., d2:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class TextLayer(nn.Module):
    def __init__(self, c, il):
        super().__init__()
        H, hd = c.n_embd, c.head_dim
        self.c, self.kind = c, "global" if c.is_global(il) else "local"
        self.attn_norm = RMSNorm(H, c.eps)
        self.attn_q = nn.Linear(H, c.n_head * hd, bias=False)
        self.attn_k = nn.Linear(H, c.n_kv * hd, bias=False)
        self.attn_v = nn.Linear(H, c.n_kv * hd, bias=False)
        self.attn_q_norm = RMSNorm(hd, c.eps)
        self.attn_k_norm = RMSNorm(hd, c.eps)
        self.attn_output = nn.Linear(c.n_head * hd, H, bias=False)
        self.post_attention_norm = RMSNorm(H, c.eps)
        self.ffn_norm = RMSNorm(H, c.eps)
        self.ffn_gate = nn.Linear(H, c.n_ff, bias=False)
        self.ffn_up = nn.Linear(H, c.n_ff, bias=False)
        self.ffn_down = nn.Linear(c.n_ff, H, bias=False)
        self.post_ffw_norm = RMSNorm(H, c.eps)

    def qkv(self, x, cs):
        c = self.c
        B, T, _ = x.shape
        hd = c.head_dim
        h = self.attn_norm(x)
        q = self.attn_q_norm(self.attn_q(h).view(B, T, c.n_head, hd)).transpose(1, 2)
        k = self.attn_k_norm(self.attn_k(h).view(B, T, c.n_kv, hd)).transpose(1, 2)
        v = self.attn_v(h).view(B, T, c.n_kv, hd).transpose(1, 2)
        return rope(q, cs), rope(k, cs), v

    def attend(self, x, q, k, v, allowed):
        """q (B, n_head, T, d) against k/v (B, n_kv, Tk, d) where allowed (B, T, Tk); then the rest of the block."""
        c = self.c
        B, T, _ = x.shape
        rep = c.n_head // c.n_kv
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        s = (q * (1.0 / math.sqrt(c.head_dim))) @ k.transpose(-1, -2)
        s = s.masked_fill(~allowed[:, None], float("-inf"))
        a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, c.n_head * c.head_dim)
        x = x + self.post_attention_norm(self.attn_output(a))
        h = self.ffn_norm(x)
        return x + self.post_ffw_norm(self.ffn_down(gelu(self.ffn_gate(h)) * self.ffn_up(h)))

    def forward(self, x, ropes, masks):
        q, k, v = self.qkv(x, ropes[self.kind])
        return self.attend(x, q, k, v, masks[self.kind])


def attention_masks(c, T, spans, device=None):
    """allowed[b, q, k] per layer kind: causal, or both in the same image span; local layers also need
    q - k < window (gemma3.md §5.7). spans: per sequence (start, end) of its image rows, or None."""
    qi = torch.arange(T, device=device)[:, None]
    ki = torch.arange(T, device=device)[None, :]
    causal = (ki <= qi)[None].expand(len(spans), T, T).clone()
    for b, sp in enumerate(spans):
        if sp is not None:
            s0, s1 = sp
            causal[b, s0:s1, s0:s1] = True
    near = (qi - ki < c.window)[None]
    return {"global": causal, "local": causal & near}


class Gemma3(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.token_embd = nn.Embedding(c.n_vocab, c.n_embd)
        nn.init.normal_(self.token_embd.weight, std=1.0 / math.sqrt(c.n_embd))
        self.blk = nn.ModuleList(TextLayer(c, il) for il in range(c.n_layer))
        self.output_norm = RMSNorm(c.n_embd, c.eps)
        self.vision = Vision(c)

    def embed(self, ids, image_emb=None, spans=None):
        """Token embeddings ×√H, with each sequence's image rows (unscaled) written over its span."""
        x = self.token_embd(ids) * math.sqrt(self.c.n_embd)
        if image_emb is not None:
            x = x.clone()
            for b, sp in enumerate(spans):
                if sp is not None:
                    x[b, sp[0]:sp[1]] = image_emb[b]
        return x

    def forward(self, ids, image_emb=None, spans=None):
        B, T = ids.shape
        spans = spans or [None] * B
        x = self.embed(ids, image_emb, spans)
        ropes = rope_tables(self.c, T, ids.device)
        masks = attention_masks(self.c, T, spans, ids.device)
        for layer in self.blk:
            x = layer(x, ropes, masks)
        return self.output_norm(x) @ self.token_embd.weight.t()

    def forward_shared(self, prefix_ids, image_emb, span, suffix_ids, scene_of):
        """Training shortcut with the same result as forward() on prefix + suffix: every prompt starts with the
        same P tokens (BOS ... the image rows ... "\n\n"), so they are computed once per picture (S of them),
        and the B suffixes (question + answer) attend to their picture's prefix keys and values."""
        c = self.c
        S, P = prefix_ids.shape
        B, Ts = suffix_ids.shape
        xp = self.embed(prefix_ids, image_emb, [span] * S)
        xs = self.token_embd(suffix_ids) * math.sqrt(c.n_embd)
        ropes = rope_tables(c, P + Ts, prefix_ids.device)
        pmasks = attention_masks(c, P, [span], prefix_ids.device)
        qi = torch.arange(P, P + Ts, device=prefix_ids.device)[:, None]
        ki = torch.arange(P + Ts, device=prefix_ids.device)[None, :]
        smask = {"global": (ki <= qi)[None], "local": ((ki <= qi) & (qi - ki < c.window))[None]}
        for layer in self.blk:
            cs = ropes[layer.kind]
            qp, kp, vp = layer.qkv(xp, (cs[0][:P], cs[1][:P]))
            qs, ks, vs = layer.qkv(xs, (cs[0][P:], cs[1][P:]))
            k = torch.cat([kp[scene_of], ks], dim=2)
            v = torch.cat([vp[scene_of], vs], dim=2)
            xp = layer.attend(xp, qp, kp, vp, pmasks[layer.kind].expand(S, P, P))
            xs = layer.attend(xs, qs, k, v, smask[layer.kind].expand(B, Ts, P + Ts))
        return self.output_norm(xs) @ self.token_embd.weight.t()
