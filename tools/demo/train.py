"""tools/demo/train.py — trains the bundled demo model (models/demo/) on CPU from scratch.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 -m tools.demo.train --out build/demo-train \\
        [--threads 2] [--steps N] [--resume]

Scenes for step s are seeds 1000000 + s*S ... + S-1 (S scenes per step, 4 questions each): seeds below 1000000
are never trained on, so tests and examples draw from there. One thread trains, one process renders ahead.
Exact match is measured teacher-forced (greedy decoding reproduces the answer exactly iff every answer
position's argmax is the next answer token), on held-out seeds 900000 and up."""
import argparse
import collections
import json
import math
import multiprocessing as mp
import os
import time

import torch
import torch.nn.functional as F

from tools.scenes.scene import COLOURS, SHAPES, SIZES, SLOT_ORDER, make_scene

from .data import FORM_WEIGHTS, collate_shared, scene_examples
from .model import Config, Gemma3
from .vocab import Vocab

TRAIN_SEED0 = 1_000_000
EVAL_SEED0 = 900_000

_worker = {}


def _init_worker():
    torch.set_num_threads(1)
    _worker["vocab"] = Vocab()


def slot_labels(seed):
    """Per slot (reading order): shape (0 = empty, else 1 + index), colour and size (-100 when empty)."""
    scene = make_scene(seed)
    out = [[0, -100, -100] for _ in SLOT_ORDER]
    for o in scene.objects:
        out[SLOT_ORDER.index(o.slot)] = [1 + SHAPES.index(o.shape), list(COLOURS).index(o.colour),
                                         SIZES.index(o.size)]
    return out


def make_batch(args):
    seed0, n, cfg_dict, n_questions = args
    cfg = Config(**cfg_dict)
    v = _worker.get("vocab") or Vocab()
    items = [scene_examples(seed0 + i, v, cfg, n_questions) for i in range(n)]
    aux = torch.tensor([slot_labels(seed0 + i) for i in range(n)])
    form = [ex[3] for _, exs in items for ex in exs]  # one per example, in collate_shared's order
    return collate_shared(v, cfg, items) + (aux, form)


class SlotProbe(torch.nn.Module):
    """Training-only help for the vision tower (never exported): a linear read-out of what is in each of the
    five slots from the image rows the text model receives, so the tower learns shapes and colours directly
    instead of only through the captions."""

    def __init__(self, cfg):
        super().__init__()
        self.sizes = [1 + len(SHAPES), len(COLOURS), len(SIZES)]
        self.lin = torch.nn.Linear(cfg.n_image_tokens * cfg.n_embd, len(SLOT_ORDER) * sum(self.sizes))

    def loss(self, emb, labels):
        z = self.lin(emb.flatten(1)).view(emb.shape[0], len(SLOT_ORDER), sum(self.sizes))
        parts = torch.split(z, self.sizes, dim=-1)
        return sum(F.cross_entropy(p.reshape(-1, p.shape[-1]), labels[..., k].reshape(-1))
                   for k, p in enumerate(parts)) / len(parts)


def exact_match(model, batch):
    """Per form: (right, total) where right means every answer token is the argmax given the right prefix."""
    pix, pref, span, sids, scene_of, labels, _, forms = batch
    with torch.no_grad():
        logits = model.forward_shared(pref, model.vision(pix), span, sids, scene_of)
    ok = ((logits.argmax(-1) == labels) | (labels == -100)).all(dim=1)
    out = {}
    for form, good in zip(forms, ok.tolist()):
        r, t = out.get(form, (0, 0))
        out[form] = (r + good, t + 1)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="build/demo-train")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--scenes", type=int, default=32, help="pictures per step (4 questions each)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--init-seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--probe-weight", type=float, default=1.0)
    ap.add_argument("--colour-weight", type=float, default=1.0,
                    help="loss weight of colour answers (their one informative token is the last to be learned)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init-vision", help="vision tower + slot probe from tools/demo/pretrain_vision.py")
    ap.add_argument("--init-text", help="a checkpoint whose text decoder to start from")
    ap.add_argument("--init", help="a checkpoint (or models/demo-train/state.pt) to start from, with a fresh optimizer")
    ap.add_argument("--forms", help="question form weights, e.g. describe=.3,count=.1,colour=.3,where=.3")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (the renderer needs little)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.forms:
        FORM_WEIGHTS.update({k: float(v) for k, v in (kv.split("=") for kv in a.forms.split(","))})
    os.makedirs(a.out, exist_ok=True)
    vocab = Vocab()
    cfg = Config(n_vocab=len(vocab))
    torch.manual_seed(a.init_seed)
    model = Gemma3(cfg)
    probe = SlotProbe(cfg)
    if a.init_vision and not a.resume:
        st = torch.load(a.init_vision)
        model.vision.load_state_dict(st["vision"])
        probe.load_state_dict(st["probe"])
    if a.init and not a.resume:
        st = torch.load(a.init)
        model.load_state_dict(st["model"])
        probe.load_state_dict(st["probe"])
    if a.init_text and not a.resume:
        st = torch.load(a.init_text)["model"]
        model.load_state_dict({k: v for k, v in st.items() if not k.startswith("vision.")}, strict=False)
    named = list(model.named_parameters()) + [("probe." + n, p) for n, p in probe.named_parameters()]
    decay = [p for n, p in named if p.dim() >= 2 and "embd" not in n]
    no_decay = [p for n, p in named if not (p.dim() >= 2 and "embd" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    ckpt = os.path.join(a.out, "ckpt.pt")
    step0, elapsed0 = 0, 0.0
    if a.resume and os.path.exists(ckpt):
        st = torch.load(ckpt)
        model.load_state_dict(st["model"])
        probe.load_state_dict(st["probe"])
        opt.load_state_dict(st["opt"])
        step0, elapsed0 = st["step"], st["elapsed"]
    print(f"parameters: {sum(p.numel() for p in model.parameters())}, vocabulary {len(vocab)}", flush=True)

    def lr_at(s):
        if s < a.warmup:
            return a.lr * (s + 1) / a.warmup
        t = (s - a.warmup) / max(1, a.steps - a.warmup)
        return a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    cd = cfg.dict()
    eval_batch = make_batch((EVAL_SEED0, 64, cd, 4))
    pool = mp.get_context("fork").Pool(1, initializer=_init_worker)
    ahead = collections.deque()  # at most a few batches rendered ahead: the worker must not outrun training

    def next_batch(s):
        while len(ahead) < 3 and s + len(ahead) < a.steps:
            k = s + len(ahead)
            ahead.append(pool.apply_async(make_batch, ((TRAIN_SEED0 + k * a.scenes, a.scenes, cd, 4),)))
        return ahead.popleft().get()

    t0 = time.time() - elapsed0
    run_loss, n_loss = 0.0, 0
    for s in range(step0, a.steps):
        batch = next_batch(s)
        for g in opt.param_groups:
            g["lr"] = lr_at(s)
        pix, pref, span, sids, scene_of, labels, aux, form = batch
        emb = model.vision(pix)
        logits = model.forward_shared(pref, emb, span, sids, scene_of)
        tok = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.view(-1), reduction="none")
        w = torch.tensor([a.colour_weight if f == "colour" else 1.0 for f in form])[:, None].expand_as(labels)
        w = w.reshape(-1) * (labels.view(-1) != -100)
        loss = (tok * w).sum() / w.sum()
        loss = loss + a.probe_weight * probe.loss(emb, aux)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run_loss += loss.item()
        n_loss += 1
        done = s + 1
        if done % 25 == 0:
            print(f"step {done} loss {run_loss / n_loss:.4f} lr {lr_at(s):.2e} {time.time() - t0:.0f}s", flush=True)
            run_loss, n_loss = 0.0, 0
        if done % a.eval_every == 0 or done == a.steps:
            model.eval()
            em = exact_match(model, eval_batch)
            model.train()
            tot = sum(r for r, _ in em.values()) / sum(t for _, t in em.values())
            print(f"eval step {done}: exact {tot:.3f} " +
                  " ".join(f"{f} {r}/{t}" for f, (r, t) in sorted(em.items())), flush=True)
            torch.save({"model": model.state_dict(), "probe": probe.state_dict(), "opt": opt.state_dict(), "step": done,
                        "elapsed": time.time() - t0, "config": cd}, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
    pool.terminate()
    info = {"steps": a.steps, "scenes_per_step": a.scenes, "lr": a.lr, "probe_weight": a.probe_weight,
            "colour_weight": a.colour_weight, "forms": FORM_WEIGHTS, "seconds": round(time.time() - t0),
            "train_seeds": [TRAIN_SEED0, TRAIN_SEED0 + a.steps * a.scenes - 1], "config": cd}
    with open(os.path.join(a.out, "train.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
