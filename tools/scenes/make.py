"""tools/scenes/make.py — writes scenes as PNG files plus a cases.tsv with the expected answer to every question
form (image, form, question, answer per line), for tests and examples.

    /usr/bin/python3 -m tools.scenes.make --seeds 100-139 --out tests/data/demo
    /usr/bin/python3 -m tools.scenes.make --seeds 200-202 --style hand --size 480x360,150x150,90x120 \\
        --prefix hand- --out tests/data/demo/hand

Seeds from 1000000 up are the demo model's training scenes (tools/demo/train.py) and 900000-900063 its
held-out evaluation during training; use seeds below 900000 for anything a test or a reader looks at."""
import argparse
import os

from PIL import Image

from .draw import render
from .scene import make_scene, qa_pairs


def seed_list(spec):
    out = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", required=True, help="e.g. 100-139 or 1,5,9")
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefix", default="scene-")
    ap.add_argument("--style", choices=["flat", "outline", "hand"])
    ap.add_argument("--size", help="WxH[,WxH...], used in turn (default: the seed's own size)")
    a = ap.parse_args()
    if min(seed_list(a.seeds)) >= 900000:
        ap.error("seeds from 900000 up belong to training and its evaluation")
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.size.split(",")] if a.size else [None]
    os.makedirs(a.out, exist_ok=True)
    lines = ["# image\tform\tquestion\tanswer (written by tools/scenes/make.py)"]
    for i, seed in enumerate(seed_list(a.seeds)):
        scene = make_scene(seed)
        name = f"{a.prefix}{seed}.png"
        Image.fromarray(render(scene, size=sizes[i % len(sizes)], style=a.style)).save(os.path.join(a.out, name))
        lines += [f"{name}\t{form}\t{q}\t{ans}" for form, q, ans in qa_pairs(scene)]
    with open(os.path.join(a.out, "cases.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines) - 1} cases in {a.out}/cases.tsv")


if __name__ == "__main__":
    main()
