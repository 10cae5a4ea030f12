"""tools/demo/pretrain_vision.py — first stage of the demo model's training: the vision tower and projector alone
learn what is in each picture (shape, colour and size per slot from the projected image rows, and the shape and
colour under each patch from the tower's output), which is far quicker than learning it through the captions.
tools/demo/train.py then starts from these weights (--init-vision).

    OMP_NUM_THREADS=1 /usr/bin/python3 -m tools.demo.pretrain_vision --out build/demo-train [--steps N]

Pictures are seeds 2000000 and up (never used by the tests, the examples or the caption training)."""
import argparse
import collections
import multiprocessing as mp
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from tools.scenes.draw import render, to_model_input
from tools.scenes.scene import COLOURS, SHAPES, make_scene

from .model import Config, Gemma3
from .train import EVAL_SEED0, SlotProbe, slot_labels
from .vocab import Vocab

SEED0 = 2_000_000
N_SHAPE = 1 + len(SHAPES)


def patch_labels(scene, layout, h, w, grid):
    """Per patch of the model's grid: the shape under its centre (0: background) and that object's colour."""
    sh = np.zeros((grid, grid), np.int64)
    co = np.full((grid, grid), -100, np.int64)
    y, x = (np.mgrid[0:grid, 0:grid] + 0.5) / grid
    for o, (cx, cy, rad) in zip(scene.objects, layout):
        inside = (x * w - cx) ** 2 + (y * h - cy) ** 2 < (0.85 * rad) ** 2
        sh[inside] = 1 + SHAPES.index(o.shape)
        co[inside] = list(COLOURS).index(o.colour)
    return sh.reshape(-1), co.reshape(-1)


def make_batch(args):
    seed0, n, size, grid = args
    pix, sh, co = [], [], []
    for i in range(n):
        scene, layout = make_scene(seed0 + i), []
        img = render(scene, layout=layout)
        pix.append(to_model_input(img, size))
        a, b = patch_labels(scene, layout, img.shape[0], img.shape[1], grid)
        sh.append(a)
        co.append(b)
    return (torch.from_numpy(np.stack(pix)), torch.tensor([slot_labels(seed0 + i) for i in range(n)]),
            torch.from_numpy(np.stack(sh)), torch.from_numpy(np.stack(co)))


class PatchProbe(torch.nn.Module):
    """Training-only: shape and colour under each patch, read linearly from the tower's output."""

    def __init__(self, cfg):
        super().__init__()
        self.lin = torch.nn.Linear(cfg.v_embd, N_SHAPE + len(COLOURS))

    def loss(self, tokens, shapes, colours):
        z = self.lin(tokens)
        return (F.cross_entropy(z[..., :N_SHAPE].reshape(-1, N_SHAPE), shapes.reshape(-1)) +
                F.cross_entropy(z[..., N_SHAPE:].reshape(-1, len(COLOURS)), colours.reshape(-1)))


def slot_accuracy(vision, probe, batch):
    """(shape on occupied slots, colour, size) from the slot probe."""
    pix, lab = batch[:2]
    with torch.no_grad():
        z = probe.lin(vision(pix).flatten(1)).view(len(pix), lab.shape[1], sum(probe.sizes))
    out = []
    for k, p in enumerate(torch.split(z, probe.sizes, dim=-1)):
        m = lab[..., k] > 0 if k == 0 else lab[..., k] != -100
        out.append((p.argmax(-1)[m] == lab[..., k][m]).float().mean().item())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="build/demo-train")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--scenes", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--init-seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    cfg = Config(n_vocab=len(Vocab()))
    torch.manual_seed(a.init_seed)
    vision = Gemma3(cfg).vision
    slot_probe, patch_probe = SlotProbe(cfg), PatchProbe(cfg)
    params = list(vision.parameters()) + list(slot_probe.parameters()) + list(patch_probe.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    ev = make_batch((EVAL_SEED0, 256, cfg.v_image, cfg.grid))
    pool = mp.get_context("fork").Pool(a.workers, initializer=torch.set_num_threads, initargs=(1,))
    ahead = collections.deque()
    t0 = time.time()
    for s in range(a.steps):
        while len(ahead) < 4 and s + len(ahead) < a.steps:
            k = s + len(ahead)
            ahead.append(pool.apply_async(make_batch, ((SEED0 + k * a.scenes, a.scenes, cfg.v_image, cfg.grid),)))
        pix, lab, sh, co = ahead.popleft().get()
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (s + 1) / 100)
        tokens = vision.tower(pix)
        loss = slot_probe.loss(vision(pix, tokens), lab) + patch_probe.loss(tokens, sh, co)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if (s + 1) % 100 == 0 or s + 1 == a.steps:
            sa = slot_accuracy(vision, slot_probe, ev)
            print(f"step {s + 1} loss {loss.item():.3f} slot shape {sa[0]:.3f} colour {sa[1]:.3f} size {sa[2]:.3f}"
                  f" {time.time() - t0:.0f}s", flush=True)
            torch.save({"vision": vision.state_dict(), "probe": slot_probe.state_dict(), "step": s + 1,
                        "config": cfg.dict()}, os.path.join(a.out, "vision.pt.tmp"))
            os.replace(os.path.join(a.out, "vision.pt.tmp"), os.path.join(a.out, "vision.pt"))
    pool.terminate()


if __name__ == "__main__":
    main()
