"""tools/demo/export.py — writes a trained demo checkpoint as a Gemma 3 GGUF pair with the names, keys and
conventions of real Gemma 3 files (gemma3.md §2, §4.1, §5): norm weights carry the +1, the output head is tied,
the patch embedding and positions are F32, mm.input_projection is F16 and stored as x·P (ne = [text, vision]),
other matrices F16, vectors F32.

    /usr/bin/python3 -m tools.demo.export build/demo-train/ckpt.pt models/demo
"""
import argparse
import os

import numpy as np
import torch

from . import gguf
from .model import Config, Gemma3
from .vocab import BOS, EOS, PAD, UNK, CHAT_TEMPLATE, Vocab

TEXT_FILE = "gemma3-demo.gguf"
MMPROJ_FILE = "gemma3-demo-mmproj.gguf"

# kinds: "mat" F16 matrix, "vec" F32 vector, "norm" Gemma RMSNorm (stored w + 1), "f32" F32 as is
def tensor_map(cfg):
    """[(gguf name, torch parameter name, kind)] for the text file and for the mmproj file."""
    text = [("token_embd.weight", "token_embd.weight", "mat")]
    for il in range(cfg.n_layer):
        p, g = f"blk.{il}.", f"blk.{il}."
        text += [(g + "attn_norm.weight", p + "attn_norm.weight", "norm"),
                 (g + "attn_q.weight", p + "attn_q.weight", "mat"),
                 (g + "attn_k.weight", p + "attn_k.weight", "mat"),
                 (g + "attn_v.weight", p + "attn_v.weight", "mat"),
                 (g + "attn_q_norm.weight", p + "attn_q_norm.weight", "norm"),
                 (g + "attn_k_norm.weight", p + "attn_k_norm.weight", "norm"),
                 (g + "attn_output.weight", p + "attn_output.weight", "mat"),
                 (g + "post_attention_norm.weight", p + "post_attention_norm.weight", "norm"),
                 (g + "ffn_norm.weight", p + "ffn_norm.weight", "norm"),
                 (g + "ffn_gate.weight", p + "ffn_gate.weight", "mat"),
                 (g + "ffn_up.weight", p + "ffn_up.weight", "mat"),
                 (g + "ffn_down.weight", p + "ffn_down.weight", "mat"),
                 (g + "post_ffw_norm.weight", p + "post_ffw_norm.weight", "norm")]
    text += [("output_norm.weight", "output_norm.weight", "norm")]
    vis = [("v.patch_embd.weight", "vision.patch_embd.weight", "f32"),
           ("v.patch_embd.bias", "vision.patch_embd.bias", "vec"),
           ("v.position_embd.weight", "vision.position_embd", "f32")]
    for il in range(cfg.v_layer):
        p, g = f"vision.blk.{il}.", f"v.blk.{il}."
        for part in ("ln1", "ln2"):
            vis += [(g + part + ".weight", p + part + ".weight", "vec"), (g + part + ".bias", p + part + ".bias", "vec")]
        for part in ("attn_q", "attn_k", "attn_v", "attn_out", "ffn_up", "ffn_down"):
            vis += [(g + part + ".weight", p + part + ".weight", "mat"), (g + part + ".bias", p + part + ".bias", "vec")]
    vis += [("v.post_ln.weight", "vision.post_ln.weight", "vec"), ("v.post_ln.bias", "vision.post_ln.bias", "vec"),
            ("mm.soft_emb_norm.weight", "vision.soft_emb_norm.weight", "norm"),
            ("mm.input_projection.weight", "vision.input_projection", "mat")]
    return text, vis


def to_gguf_value(a, kind):
    return a + 1.0 if kind == "norm" else a


def from_gguf_value(a, kind):
    return a - 1.0 if kind == "norm" else a


def common_keys(w, arch, name):
    w.str("general.architecture", arch)
    w.str("general.name", name)
    w.u32("general.file_type", 1)  # mostly F16
    w.u32("general.quantization_version", 2)


def write_text(model, path, vocab):
    c = model.c
    w = gguf.Writer()
    common_keys(w, "gemma3", "vkmm demo gemma3 (synthetic scenes)")
    w.u32("gemma3.context_length", c.n_ctx)
    w.u32("gemma3.embedding_length", c.n_embd)
    w.u32("gemma3.block_count", c.n_layer)
    w.u32("gemma3.feed_forward_length", c.n_ff)
    w.u32("gemma3.attention.head_count", c.n_head)
    w.u32("gemma3.attention.head_count_kv", c.n_kv)
    w.u32("gemma3.attention.key_length", c.head_dim)
    w.u32("gemma3.attention.value_length", c.head_dim)
    w.f32("gemma3.attention.layer_norm_rms_epsilon", c.eps)
    w.u32("gemma3.attention.sliding_window", c.window)
    w.f32("gemma3.rope.freq_base", c.rope_global)
    w.str("gemma3.rope.scaling.type", "linear")
    w.f32("gemma3.rope.scaling.factor", c.rope_factor)
    w.str("tokenizer.ggml.model", "llama")
    w.str("tokenizer.ggml.pre", "default")
    w.arr("tokenizer.ggml.tokens", gguf.STRING, vocab.pieces)
    w.arr("tokenizer.ggml.scores", gguf.F32, vocab.scores)
    w.arr("tokenizer.ggml.token_type", gguf.I32, vocab.types)
    w.u32("tokenizer.ggml.bos_token_id", BOS)
    w.u32("tokenizer.ggml.eos_token_id", EOS)
    w.u32("tokenizer.ggml.unknown_token_id", UNK)
    w.u32("tokenizer.ggml.padding_token_id", PAD)
    w.bool("tokenizer.ggml.add_bos_token", True)
    w.bool("tokenizer.ggml.add_eos_token", False)
    w.bool("tokenizer.ggml.add_space_prefix", False)
    w.str("tokenizer.chat_template", CHAT_TEMPLATE)
    add_tensors(w, model, tensor_map(c)[0])
    w.write(path)


def write_mmproj(model, path):
    c = model.c
    w = gguf.Writer()
    common_keys(w, "clip", "vkmm demo gemma3 vision (synthetic scenes)")
    w.str("general.type", "mmproj")
    w.str("clip.projector_type", "gemma3")
    w.bool("clip.has_vision_encoder", True)
    w.bool("clip.use_gelu", True)
    w.u32("clip.vision.image_size", c.v_image)
    w.u32("clip.vision.patch_size", c.v_patch)
    w.u32("clip.vision.embedding_length", c.v_embd)
    w.u32("clip.vision.feed_forward_length", c.v_ff)
    w.u32("clip.vision.block_count", c.v_layer)
    w.u32("clip.vision.attention.head_count", c.v_head)
    w.f32("clip.vision.attention.layer_norm_epsilon", c.v_eps)
    w.u32("clip.vision.projection_dim", c.n_embd)
    w.arr("clip.vision.image_mean", gguf.F32, [0.5, 0.5, 0.5])
    w.arr("clip.vision.image_std", gguf.F32, [0.5, 0.5, 0.5])
    if c.v_pool != 4:  # written only when it differs from Gemma 3's 4, as the converter does
        w.u32("clip.vision.projector.scale_factor", c.v_pool)
    add_tensors(w, model, tensor_map(c)[1])
    w.write(path)


def add_tensors(w, model, table):
    params = dict(model.named_parameters())
    for gname, pname, kind in table:
        a = to_gguf_value(params[pname].detach().float().numpy(), kind)
        w.tensor(gname, a, gguf.GGML_F16 if kind == "mat" else gguf.GGML_F32)


def model_of(st):
    """The PyTorch model of a training checkpoint's state."""
    model = Gemma3(Config(**st["config"]))
    model.load_state_dict(st["model"])
    return model.eval()


def load_gguf_pair(text_path, mmproj_path):
    """A PyTorch model holding exactly the weights of the two files (the reverse of the export)."""
    tm, tt = gguf.read(text_path)
    vm, vt = gguf.read(mmproj_path)
    c = Config(n_vocab=len(tm["tokenizer.ggml.tokens"]), n_embd=tm["gemma3.embedding_length"],
               n_layer=tm["gemma3.block_count"], n_head=tm["gemma3.attention.head_count"],
               n_kv=tm["gemma3.attention.head_count_kv"], head_dim=tm["gemma3.attention.key_length"],
               n_ff=tm["gemma3.feed_forward_length"], window=tm["gemma3.attention.sliding_window"],
               n_ctx=tm["gemma3.context_length"], eps=tm["gemma3.attention.layer_norm_rms_epsilon"],
               rope_global=tm["gemma3.rope.freq_base"], rope_factor=tm["gemma3.rope.scaling.factor"],
               v_image=vm["clip.vision.image_size"], v_patch=vm["clip.vision.patch_size"],
               v_embd=vm["clip.vision.embedding_length"], v_layer=vm["clip.vision.block_count"],
               v_head=vm["clip.vision.attention.head_count"], v_ff=vm["clip.vision.feed_forward_length"],
               v_pool=vm.get("clip.vision.projector.scale_factor", 4),
               v_eps=vm["clip.vision.attention.layer_norm_epsilon"])
    model = Gemma3(c)
    params = dict(model.named_parameters())
    text, vis = tensor_map(c)
    with torch.no_grad():
        for table, tensors in ((text, tt), (vis, vt)):
            for gname, pname, kind in table:
                a = from_gguf_value(tensors[gname], kind)
                assert tuple(a.shape) == tuple(params[pname].shape), (gname, a.shape, params[pname].shape)
                params[pname].copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return model.eval(), tm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("out_dir")
    ap.add_argument("--state", help="also write the weights and the training probe, F16, for train.py --init")
    a = ap.parse_args()
    st = torch.load(a.checkpoint)
    model = model_of(st)
    os.makedirs(a.out_dir, exist_ok=True)
    vocab = Vocab()
    assert len(vocab) == model.c.n_vocab
    write_text(model, os.path.join(a.out_dir, TEXT_FILE), vocab)
    write_mmproj(model, os.path.join(a.out_dir, MMPROJ_FILE))
    for f in (TEXT_FILE, MMPROJ_FILE):
        print(f, os.path.getsize(os.path.join(a.out_dir, f)), "bytes")
    if a.state:
        half = lambda d: {k: v.half() if v.is_floating_point() else v for k, v in d.items()}
        torch.save({"model": half(st["model"]), "probe": half(st["probe"]), "step": st["step"],
                    "config": st["config"]}, a.state)
        print(a.state, os.path.getsize(a.state), "bytes")


if __name__ == "__main__":
    main()
